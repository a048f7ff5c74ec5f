#include "agent/metrics/request_metrics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "agent/metrics/snapshot_metrics.h"
#include "agent/model/histogram.h"
#include "agent/model/request_protocols.h"

namespace redline {
namespace {

using prom::ClientMetric;
using prom::Label;
using prom::MetricFamily;
using prom::MetricType;

// One protocol's four families. Series appear once a request completed: a
// quiet operation costs nothing.
void AppendProtocol(const Snapshot& snap, const RequestProtocol& p,
                    std::vector<MetricFamily>* out) {
  const std::string prefix = absl::StrCat("redline_", p.name, "_");
  MetricFamily sreq{
      prefix + "server_requests_total",
      absl::StrCat(p.title, " requests served, counted by their response."),
      MetricType::kCounter,
      {}};
  MetricFamily sdur{prefix + "server_request_duration_seconds",
                    "First byte of the request read to first byte of the "
                    "response written; two buckets per power of two.",
                    MetricType::kHistogram,
                    {}};
  MetricFamily creq{
      prefix + "client_requests_total",
      absl::StrCat(p.title, " requests made, counted by their response."),
      MetricType::kCounter,
      {}};
  MetricFamily cdur{prefix + "client_request_duration_seconds",
                    "First byte of the request written to first byte of the "
                    "response read; two buckets per power of two.",
                    MetricType::kHistogram,
                    {}};
  for (const auto& [id, ws] : snap.workloads) {
    for (const auto& [k, s] : ws.requests) {
      if (k.protocol != p.name) continue;
      std::vector<Label> l = WorkloadLabels(id);
      if (k.server) {
        l.push_back({"local_port", k.local_port});
      } else {
        l.push_back({"remote", k.remote});
      }
      l.push_back({p.operation_label, k.operation});
      l.push_back({p.outcome_label, k.outcome});
      // Plaintext read at a TLS library's boundary (bpf/tls.bpf.c).
      l.push_back({"tls", k.tls ? "true" : "false"});
      (k.server ? sreq : creq)
          .metric.push_back(CounterSample(l, static_cast<double>(s.requests)));
      if (s.timed == 0) continue;
      ClientMetric h;
      h.label = std::move(l);
      h.histogram = ToPromHistogram(s.hist, s.sum_ns);
      (k.server ? sdur : cdur).metric.push_back(std::move(h));
    }
  }
  out->push_back(std::move(sreq));
  out->push_back(std::move(sdur));
  out->push_back(std::move(creq));
  out->push_back(std::move(cdur));
}

ClientMetric GaugeSample(std::vector<Label> labels, double v) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = v;
  return m;
}

// Which TLS libraries the uprobes cover: no paths (privacy), counts.
void AppendTlsFamilies(const TlsStatus& t, std::vector<MetricFamily>* out) {
  if (!t.loaded) return;
  MetricFamily files{"redline_tls_library_files",
                     "Distinct TLS library files (device and inode) whose "
                     "plaintext is read by uprobes now.",
                     MetricType::kGauge,
                     {}};
  for (const auto& [lib, n] : t.files) {
    files.metric.push_back(
        GaugeSample({{"library", lib}}, static_cast<double>(n)));
  }
  MetricFamily skipped{"redline_tls_library_files_skipped_total",
                       "TLS library files found mapped but not probed: over "
                       "the file cap (cap), without the functions probed "
                       "(no_symbols), or refused by the kernel "
                       "(attach_failed).",
                       MetricType::kCounter,
                       {}};
  for (const auto& [k, n] : t.skipped) {
    skipped.metric.push_back(CounterSample(
        {{"library", k.first}, {"reason", k.second}}, static_cast<double>(n)));
  }
  MetricFamily links{"redline_tls_uprobes",
                     "Uprobes attached to TLS library functions, over every "
                     "file.",
                     MetricType::kGauge,
                     {}};
  links.metric.push_back(GaugeSample({}, static_cast<double>(t.links)));
  out->push_back(std::move(files));
  out->push_back(std::move(skipped));
  out->push_back(std::move(links));
}

// What HTTP/2 costs the ring buffer: records (one per read or write
// that carried frames to forward), and frames.
void AppendH2RingFamilies(const Snapshot::H2Ring& r,
                          std::vector<MetricFamily>* out) {
  if (!r.loaded) return;
  MetricFamily records{"redline_h2_ring_records_total",
                       "Records drained from the HTTP/2 ring buffer "
                       "(h2_events): one per read or write that carried "
                       "frames to forward, and per connection closed, "
                       "lost or upgraded.",
                       MetricType::kCounter,
                       {}};
  records.metric.push_back(CounterSample({}, static_cast<double>(r.records)));
  MetricFamily frames{"redline_h2_frames_total",
                      "HTTP/2 frames the kernel forwarded to the agent: "
                      "HEADERS, CONTINUATION, PUSH_PROMISE, RST_STREAM, "
                      "SETTINGS and DATA that ends a stream.",
                      MetricType::kCounter,
                      {}};
  frames.metric.push_back(CounterSample({}, static_cast<double>(r.frames)));
  out->push_back(std::move(records));
  out->push_back(std::move(frames));
}

}  // namespace

void AppendRequestFamilies(const Snapshot& snap,
                           std::vector<MetricFamily>* out) {
  for (const RequestProtocol& p : RequestProtocols()) {
    AppendProtocol(snap, p, out);
  }
  // The engine's, whatever the protocol; named when HTTP was the only one.
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
  for (const auto& [kind, n] : snap.request_unparsed) {
    unparsed.metric.push_back(
        CounterSample({{"kind", kind}}, static_cast<double>(n)));
  }
  out->push_back(std::move(unparsed));
  AppendTlsFamilies(snap.tls, out);
  AppendH2RingFamilies(snap.h2_ring, out);
}

}  // namespace redline
