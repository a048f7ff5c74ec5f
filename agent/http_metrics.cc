// HTTP families: requests served (per workload and local port) and made
// (per workload and remote server), by method and status class.
#include <linux/types.h>

#include "agent/histogram.h"
#include "agent/snapshot_metrics.h"
#include "bpf/l7.h"

namespace redline {

using prom::ClientMetric;
using prom::Label;
using prom::MetricFamily;
using prom::MetricType;

const char* HttpMethodName(uint32_t method) {
  static constexpr const char* kNames[RL_HTTP_METHOD_COUNT] = {
      "unknown", "GET",     "HEAD",    "POST",  "PUT",
      "DELETE",  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  return method < RL_HTTP_METHOD_COUNT ? kNames[method] : "unknown";
}

const char* HttpStatusClass(uint32_t status_class) {
  static constexpr const char* kClasses[] = {"unknown", "1xx", "2xx",
                                             "3xx",     "4xx", "5xx"};
  return status_class <= 5 ? kClasses[status_class] : "unknown";
}

// Series appear once a request completed: a quiet method costs nothing.
void AppendHttpFamilies(const Snapshot& snap, std::vector<MetricFamily>* out) {
  MetricFamily sreq{"redline_http_server_requests_total",
                    "HTTP/1.x requests served, counted by their response.",
                    MetricType::kCounter,
                    {}};
  MetricFamily sdur{"redline_http_server_request_duration_seconds",
                    "First byte of the request read to first byte of the "
                    "response written; two buckets per power of two.",
                    MetricType::kHistogram,
                    {}};
  MetricFamily creq{"redline_http_client_requests_total",
                    "HTTP/1.x requests made, counted by their response.",
                    MetricType::kCounter,
                    {}};
  MetricFamily cdur{"redline_http_client_request_duration_seconds",
                    "First byte of the request written to first byte of the "
                    "response read; two buckets per power of two.",
                    MetricType::kHistogram,
                    {}};
  MetricFamily unparsed{"redline_http_unparsed_total",
                        "Parsing events: responses whose request line was "
                        "not seen (split, beyond the peek window, or sent "
                        "before redline started; counted with method "
                        "\"unknown\"), requests pending when their "
                        "connection closed (no answer, or pipelined answers "
                        "that arrived in one read), pipelined requests "
                        "beyond the per-connection queue.",
                        MetricType::kCounter,
                        {}};
  for (const auto& [id, ws] : snap.workloads) {
    for (const auto& [k, s] : ws.http) {
      std::vector<Label> l = WorkloadLabels(id);
      if (k.server) {
        l.push_back({"local_port", k.local_port});
      } else {
        l.push_back({"remote", k.remote});
      }
      l.push_back({"method", k.method});
      std::vector<Label> with_status = l;
      with_status.push_back({"status_class", k.status_class});
      (k.server ? sreq : creq)
          .metric.push_back(
              CounterSample(with_status, static_cast<double>(s.requests)));
      if (s.timed == 0) continue;
      ClientMetric h;
      h.label = std::move(with_status);
      h.histogram = ToPromHistogram(s.hist, s.sum_ns);
      (k.server ? sdur : cdur).metric.push_back(std::move(h));
    }
  }
  for (const auto& [kind, n] : snap.http_unparsed) {
    unparsed.metric.push_back(
        CounterSample({{"kind", kind}}, static_cast<double>(n)));
  }
  out->push_back(std::move(sreq));
  out->push_back(std::move(sdur));
  out->push_back(std::move(creq));
  out->push_back(std::move(cdur));
  out->push_back(std::move(unparsed));
}

}  // namespace redline
