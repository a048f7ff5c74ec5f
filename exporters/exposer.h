// Serves registered collectables over HTTP, like prometheus-cpp's Exposer.
//
// Built on cpp-httplib (Debian libcpp-httplib-dev) rather than civetweb:
// Debian 12's civetweb is compiled without IPv6 listening, and a DaemonSet on
// an IPv6-only or dual-stack cluster must bind [::]. httplib also has TLS.
#ifndef REDLINE_EXPORTERS_EXPOSER_H_
#define REDLINE_EXPORTERS_EXPOSER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exporters/metric_family.h"
#include "exporters/serializer.h"
#include "exporters/web_config.h"

namespace httplib {
class Server;
}

namespace redline::prom {

class BasicAuth;

struct ListenAddress {
  std::string host;  // without brackets
  int port = 0;
};

// Parses "host:port", "[v6]:port" or ":port" (all addresses).
absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& spec);

class Exposer {
 public:
  // Extra GET handler: returns (content type, body).
  using Handler = std::function<std::pair<std::string, std::string>()>;
  // A GET handler that reads the query string and may refuse it (400 with
  // a one-line text body, say).
  struct Reply {
    int status = 200;
    std::string content_type = "text/plain";
    std::string body;
  };
  using Query = std::multimap<std::string, std::string>;
  using QueryHandler = std::function<Reply(const Query&)>;

  Exposer();
  ~Exposer();
  Exposer(const Exposer&) = delete;
  Exposer& operator=(const Exposer&) = delete;

  // Applies a web config (--web-config-file): TLS, basic auth on every path
  // but /healthz, response headers. Call before registering handlers.
  absl::Status Secure(const WebConfig& web);
  bool tls() const { return tls_; }
  bool basic_auth() const { return auth_ != nullptr; }

  void RegisterCollectable(std::weak_ptr<Collectable> c, std::string path = "/metrics");
  void RegisterHandler(const std::string& path, Handler h);
  void RegisterQueryHandler(const std::string& path, QueryHandler h);
  // false: protobuf scrapes get only the native buckets of histograms that
  // have them (text scrapes always get the classic ones).
  void set_classic_histograms(bool on) { classic_histograms_ = on; }
  // Called after every /metrics scrape with its duration in seconds.
  void OnScrape(std::function<void(double)> cb) { on_scrape_ = std::move(cb); }

  // Binds now (so a bad address fails here, not in a thread) and serves in
  // a background thread.
  absl::Status Start(const ListenAddress& addr);
  void Stop();
  int port() const { return port_; }
  // Requests answered 503 because kWorkers + kMaxPending were taken.
  uint64_t rejected() const { return rejected_.load(); }

  static constexpr size_t kWorkers = 16;
  static constexpr size_t kMaxPending = 32;
  static constexpr std::chrono::seconds kResponseDeadline{10};

 private:
  void Init();  // settings, /healthz and admission on a new server_
  // The exposition in `format`, shared by the scrapes in that format that
  // arrive while it is built.
  std::shared_ptr<const std::string> Body(const std::weak_ptr<Collectable>& c,
                                          Format format);

  std::unique_ptr<httplib::Server> server_;
  std::shared_ptr<BasicAuth> auth_;
  bool tls_ = false;
  bool registered_ = false;  // a handler beyond /healthz
  std::thread thread_;
  std::function<void(double)> on_scrape_;
  int port_ = 0;
  std::atomic<uint64_t> rejected_{0};
  bool classic_histograms_ = true;
  std::mutex flight_mu_;
  std::condition_variable flight_cv_;
  // One flight per format (Format's values index these).
  struct Flight {
    bool building = false;
    uint64_t gen = 0;
    std::shared_ptr<const std::string> body;
    size_t body_size = 0;  // bytes of the last body
  };
  Flight flights_[2];
};

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_EXPOSER_H_
