#include "agent/metrics/tcp_metrics.h"

#include "agent/metrics/snapshot_metrics.h"
#include "agent/model/histogram.h"

namespace redline {
namespace {

using prom::ClientMetric;
using prom::Label;
using prom::MetricFamily;
using prom::MetricType;

std::vector<Label> PeerLabels(const WorkloadId& id, const TcpPeer& p) {
  std::vector<Label> l = WorkloadLabels(id);
  if (!p.remote.empty()) l.push_back({"remote", p.remote});
  if (!p.local_port.empty()) l.push_back({"local_port", p.local_port});
  return l;
}

void Add(MetricFamily* f, std::vector<Label> l, uint64_t v) {
  f->metric.push_back(CounterSample(std::move(l), static_cast<double>(v)));
}

}  // namespace

// Series appear once their count is non-zero: a quiet peer costs nothing.
void AppendTcpFamilies(const Snapshot& snap, std::vector<MetricFamily>* out) {
  MetricFamily retrans{"redline_tcp_retransmits_total",
                       "TCP segments retransmitted (as TcpRetransSegs counts).",
                       MetricType::kCounter, {}};
  MetricFamily resets{"redline_tcp_resets_total",
                      "TCP resets sent or received on the workload's sockets.",
                      MetricType::kCounter, {}};
  MetricFamily connects{"redline_tcp_connects_total",
                        "Active opens: ok (ESTABLISHED) or failed (SYN_SENT "
                        "to CLOSE: refused, timed out, unreachable).",
                        MetricType::kCounter, {}};
  MetricFamily failures{"redline_tcp_connect_failures_total",
                        "Failed active opens by reason: refused (RST), "
                        "timeout, unreachable (ICMP), aborted (closed by the "
                        "application while connecting).",
                        MetricType::kCounter, {}};
  MetricFamily accepts{"redline_tcp_accepts_total",
                       "Passive opens that reached ESTABLISHED.",
                       MetricType::kCounter, {}};
  MetricFamily latency{"redline_tcp_connect_duration_seconds",
                       "Time from SYN sent to ESTABLISHED; buckets are powers "
                       "of 2 of seconds.",
                       MetricType::kHistogram, {}};
  MetricFamily srtt{"redline_tcp_rtt_seconds",
                    "Smoothed round-trip time, one sample per socket per "
                    "second of receiving; buckets are powers of 2 of seconds.",
                    MetricType::kHistogram, {}};
  for (const auto& [id, ws] : snap.workloads) {
    for (const auto& [peer, s] : ws.tcp) {
      std::vector<Label> l = PeerLabels(id, peer);
      if (s.retrans_segs) Add(&retrans, l, s.retrans_segs);
      auto kind = [&l](MetricFamily* f, const char* name, const char* v,
                       uint64_t n) {
        if (n == 0) return;
        std::vector<Label> k = l;
        k.push_back({name, v});
        Add(f, std::move(k), n);
      };
      kind(&resets, "kind", "sent", s.resets_sent);
      kind(&resets, "kind", "received", s.resets_received);
      kind(&connects, "result", "ok", s.connects_ok);
      kind(&connects, "result", "failed", s.connects_failed);
      kind(&failures, "reason", "refused", s.refused);
      kind(&failures, "reason", "timeout", s.timed_out);
      kind(&failures, "reason", "unreachable", s.unreachable);
      kind(&failures, "reason", "aborted",
           s.connects_failed - s.refused - s.timed_out - s.unreachable);
      if (s.accepts) Add(&accepts, l, s.accepts);
      auto hist = [&l](MetricFamily* f, const Log2Hist& h, uint64_t sum) {
        ClientMetric m;
        m.label = l;
        m.histogram = ToPromHistogram(h, sum);
        if (m.histogram.sample_count > 0) f->metric.push_back(std::move(m));
      };
      hist(&latency, s.connect_hist, s.connect_sum_ns);
      hist(&srtt, s.srtt_hist, s.srtt_sum_ns);
    }
  }
  out->push_back(std::move(retrans));
  out->push_back(std::move(resets));
  out->push_back(std::move(connects));
  out->push_back(std::move(failures));
  out->push_back(std::move(accepts));
  out->push_back(std::move(latency));
  out->push_back(std::move(srtt));
}

}  // namespace redline
