#include "agent/metrics/snapshot_collector.h"

#include "agent/metrics/snapshot_metrics.h"

namespace redline {

std::vector<prom::MetricFamily> SnapshotCollector::Collect() const {
  std::shared_ptr<const Snapshot> snap = fresh_();
  std::lock_guard<std::mutex> l(mu_);
  std::map<std::string, uint64_t> governed;
  std::vector<prom::MetricFamily> fams =
      SnapshotToFamilies(*snap, &workloads_, &governed);
  for (prom::MetricFamily& f : fams) {
    if (governed.count(f.name) == 0) governor_.Apply(&f);
  }
  prom::MetricFamily folded = governor_.FoldedFamily();
  for (const auto& [name, n] : governed) {
    prom::ClientMetric m;
    m.label = {{"family", name}};
    m.counter.value = static_cast<double>(n);
    folded.metric.push_back(std::move(m));
  }
  fams.push_back(std::move(folded));
  return fams;
}

}  // namespace redline
