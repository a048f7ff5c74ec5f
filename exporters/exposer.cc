#include "exporters/exposer.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "exporters/text_serializer.h"

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

Exposer::Exposer() : server_(std::make_unique<httplib::Server>()) {
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

void Exposer::RegisterCollectable(std::weak_ptr<Collectable> c,
                                  std::string path) {
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
