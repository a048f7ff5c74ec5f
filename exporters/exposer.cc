#include "exporters/exposer.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "exporters/basic_auth.h"
#include "exporters/text_serializer.h"
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
  // A handful of workers: scrapes are serialized on the snapshot anyway, and
  // every worker thread would get its own malloc arena.
  server_->new_task_queue = [] { return new httplib::ThreadPool(4); };
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
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
  if (!web.users.empty()) {
    // Everything but /healthz: liveness and readiness probes carry no
    // credentials, and "ok" tells nobody anything.
    auth_ = std::make_shared<BasicAuth>(web.users);
    server_->set_pre_routing_handler(
        [auth = auth_](const httplib::Request& req, httplib::Response& res) {
          if (req.path == "/healthz" ||
              auth->Authorize(req.get_header_value("Authorization"))) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          res.status = 401;
          res.set_header("WWW-Authenticate", kBasicRealm);
          res.set_content("Unauthorized\n", "text/plain");
          return httplib::Server::HandlerResponse::Handled;
        });
  }
  return absl::OkStatus();
}

void Exposer::RegisterCollectable(std::weak_ptr<Collectable> c,
                                  std::string path) {
  registered_ = true;
  server_->Get(path, [this, c = std::move(c)](const httplib::Request&,
                                              httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    std::string body;
    // The exposition is about as large as last time: one allocation
    // instead of a doubling series of copies of a multi-MB string.
    body.reserve(last_size_.load(std::memory_order_relaxed) * 9 / 8);
    if (auto live = c.lock()) SerializeText(live->Collect(), body);
    last_size_.store(body.size(), std::memory_order_relaxed);
    res.set_content(std::move(body), std::string(kTextContentType));
    const std::chrono::duration<double> d =
        std::chrono::steady_clock::now() - start;
    if (on_scrape_) on_scrape_(d.count());
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
