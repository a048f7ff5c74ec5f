#include "agent/model/model.h"

namespace redline {

void SchedStats::Add(const SchedStats& o) {
  cpu_ns += o.cpu_ns;
  steal_ns += o.steal_ns;
  voluntary += o.voluntary;
  involuntary += o.involuntary;
  rq_sum_ns += o.rq_sum_ns;
  for (size_t i = 0; i < rq_hist.size(); ++i) rq_hist[i] += o.rq_hist[i];
  for (size_t i = 0; i < off_ns.size(); ++i) off_ns[i] += o.off_ns[i];
}

void DiskIoStats::Add(const DiskIoStats& o) {
  ios += o.ios;
  bytes += o.bytes;
  sum_ns += o.sum_ns;
  queue_ns += o.queue_ns;
  for (size_t i = 0; i < hist.size(); ++i) hist[i] += o.hist[i];
}

void TcpStats::Add(const TcpStats& o) {
  retrans_segs += o.retrans_segs;
  resets_sent += o.resets_sent;
  resets_received += o.resets_received;
  connects_ok += o.connects_ok;
  connects_failed += o.connects_failed;
  refused += o.refused;
  timed_out += o.timed_out;
  unreachable += o.unreachable;
  accepts += o.accepts;
  connect_sum_ns += o.connect_sum_ns;
  srtt_sum_ns += o.srtt_sum_ns;
  data_segs_out += o.data_segs_out;
  data_segs_retrans += o.data_segs_retrans;
  for (size_t i = 0; i < connect_hist.size(); ++i) {
    connect_hist[i] += o.connect_hist[i];
    srtt_hist[i] += o.srtt_hist[i];
  }
}

void RequestStats::Add(const RequestStats& o) {
  requests += o.requests;
  timed += o.timed;
  sum_ns += o.sum_ns;
  for (size_t i = 0; i < hist.size(); ++i) hist[i] += o.hist[i];
  for (size_t i = 0; i < within.size(); ++i) within[i] += o.within[i];
}

}  // namespace redline
