#include "agent/model.h"

namespace redline {

void SchedStats::Add(const SchedStats& o) {
  cpu_ns += o.cpu_ns;
  voluntary += o.voluntary;
  involuntary += o.involuntary;
  rq_sum_ns += o.rq_sum_ns;
  for (size_t i = 0; i < rq_hist.size(); ++i) rq_hist[i] += o.rq_hist[i];
}

void DiskIoStats::Add(const DiskIoStats& o) {
  ios += o.ios;
  bytes += o.bytes;
  sum_ns += o.sum_ns;
  queue_ns += o.queue_ns;
  for (size_t i = 0; i < hist.size(); ++i) hist[i] += o.hist[i];
}

}  // namespace redline
