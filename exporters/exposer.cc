#include "exporters/exposer.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "exporters/admission_queue.h"
#include "exporters/basic_auth.h"
#include "exporters/tls_context.h"

namespace redline::prom {

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& spec) {
  ListenAddress a;
  std::string port;
  if (!spec.empty() && spec[0] == '[') {
    const auto close = spec.find("]:");
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid listen address '", spec, "': want [ipv6]:port"));
    }
    a.host = spec.substr(1, close - 1);
    port = spec.substr(close + 2);
  } else {
    const auto colon = spec.rfind(':');
    if (colon == std::string::npos ||
        spec.find(':') != colon) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid listen address '", spec,
          "': want host:port, [ipv6]:port or :port"));
    }
    a.host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
  }
  if (a.host.empty()) a.host = "::";  // all addresses, dual-stack
  if (!absl::SimpleAtoi(port, &a.port) || a.port < 0 || a.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid port '", port, "' in listen address '", spec,
                     "': want 0-65535"));
  }
  return a;
}

Exposer::Exposer() : server_(std::make_unique<httplib::Server>()) { Init(); }

void Exposer::Init() {
  // httplib's default adds SO_REUSEPORT, which would let a second agent
  // bind the same port and split scrapes between the two; refuse instead.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Bounded: kWorkers serve, kMaxPending wait, the rest get a 503 (see
  // AdmissionQueue). Enough workers that a few clients reading slowly
  // (each held at most kResponseDeadline) leave room for healthy scrapes.
  server_->new_task_queue = [this] {
    return new AdmissionQueue(kWorkers, kMaxPending, &rejected_);
  };
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) {
        // /healthz stays cheap and open: liveness probes carry no
        // credentials, and an overloaded agent is still alive.
        if (req.path == "/healthz") {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        if (AdmissionQueue::Overloaded()) {
          res.status = 503;
          res.set_header("Retry-After", "1");
          res.set_content("too many concurrent requests\n", "text/plain");
          return httplib::Server::HandlerResponse::Handled;
        }
        if (auth_ == nullptr ||
            auth_->Authorize(req.get_header_value("Authorization"))) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        res.status = 401;
        res.set_header("WWW-Authenticate", kBasicRealm);
        res.set_content("Unauthorized\n", "text/plain");
        return httplib::Server::HandlerResponse::Handled;
      });
}

Exposer::~Exposer() { Stop(); }

absl::Status Exposer::Secure(const WebConfig& web) {
  if (registered_) {
    return absl::FailedPreconditionError(
        "Exposer::Secure must come before the handlers");
  }
  if (web.tls.enabled) {
    absl::Status setup;
    auto ssl = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
      setup = ConfigureServerTls(web.tls, &ctx);
      return setup.ok();
    });
    if (!setup.ok()) return setup;
    if (!ssl->is_valid()) {
      return absl::InternalError("cannot create a TLS server context");
    }
    server_ = std::move(ssl);
    tls_ = true;
    Init();
  }
  if (!web.headers.empty()) {
    httplib::Headers headers;
    for (const auto& [name, value] : web.headers) headers.emplace(name, value);
    server_->set_default_headers(std::move(headers));
  }
  // Every path but /healthz (see Init).
  if (!web.users.empty()) auth_ = std::make_shared<BasicAuth>(web.users);
  return absl::OkStatus();
}

std::shared_ptr<const std::string> Exposer::Body(
    const std::weak_ptr<Collectable>& c, Format format) {
  Flight& f = flights_[static_cast<int>(format)];
  std::unique_lock<std::mutex> l(flight_mu_);
  if (f.building) {
    // Single flight: a scrape arriving while one is being built shares it
    // (built after that scrape started, so no older than this one).
    const uint64_t gen = f.gen;
    flight_cv_.wait(l, [&] { return f.gen != gen; });
    return f.body;
  }
  f.building = true;
  const size_t last_size = f.body_size;
  l.unlock();
  auto body = std::make_shared<std::string>();
  // About as large as last time: one allocation, not a doubling series.
  if (last_size > 0) body->reserve(last_size * 9 / 8);
  if (auto live = c.lock()) {
    SerializerFor(format, classic_histograms_).Serialize(live->Collect(), *body);
  }
  l.lock();
  f.body_size = body->size();
  f.body = std::move(body);
  f.building = false;
  ++f.gen;
  flight_cv_.notify_all();
  return f.body;
}

void Exposer::RegisterCollectable(std::weak_ptr<Collectable> c,
                                  std::string path) {
  registered_ = true;
  server_->Get(path, [this, c = std::move(c)](const httplib::Request& req,
                                              httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    const Format format = NegotiateFormat(req.get_header_value("Accept"));
    std::shared_ptr<const std::string> body = Body(c, format);
    const std::chrono::duration<double> d =
        std::chrono::steady_clock::now() - start;
    if (on_scrape_) on_scrape_(d.count());
    // Streamed from the shared body; a client still reading it after the
    // deadline (one byte a second, say) is cut off and frees its worker.
    const auto deadline = start + kResponseDeadline;
    res.set_content_provider(
        body->size(), std::string(SerializerFor(format).content_type()),
        [body, deadline](size_t offset, size_t length, httplib::DataSink& sink) {
          if (std::chrono::steady_clock::now() > deadline) return false;
          const size_t n = std::min<size_t>(length, 256 << 10);
          return sink.write(body->data() + offset, n);
        });
  });
}

void Exposer::RegisterHandler(const std::string& path, Handler h) {
  registered_ = true;
  server_->Get(path, [h = std::move(h)](const httplib::Request&,
                                        httplib::Response& res) {
    auto [type, body] = h();
    res.set_content(std::move(body), type);
  });
}

void Exposer::RegisterQueryHandler(const std::string& path, QueryHandler h) {
  registered_ = true;
  server_->Get(path, [h = std::move(h)](const httplib::Request& req,
                                        httplib::Response& res) {
    Reply r = h(req.params);
    res.status = r.status;
    res.set_content(std::move(r.body), r.content_type);
  });
}

absl::Status Exposer::Start(const ListenAddress& addr) {
  // httplib binds with getaddrinfo + SO_REUSEADDR; for "::" Linux accepts
  // IPv4-mapped connections too unless bindv6only is set.
  errno = 0;
  int port = addr.port;
  if (port == 0) {
    port = server_->bind_to_any_port(addr.host);
  } else if (!server_->bind_to_port(addr.host, port)) {
    port = -1;
  }
  if (port < 0) {
    const int err = errno;
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", addr.host, ":", addr.port, ": ",
        err ? std::strerror(err) : "address not usable",
        " (choose another --listen)"));
  }
  port_ = port;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

void Exposer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace redline::prom
