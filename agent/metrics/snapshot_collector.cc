#include "agent/metrics/snapshot_collector.h"

#include "agent/metrics/snapshot_metrics.h"

namespace redline {

prom::MetricFamily SeriesFamily(const std::vector<prom::MetricFamily>& fams) {
  prom::MetricFamily out{
      "redline_series",
      "Label sets this scrape exports per family, after folding: what the "
      "family costs (a histogram label set is one native series, or its "
      "buckets + 3 text samples).",
      prom::MetricType::kGauge,
      {}};
  for (const prom::MetricFamily& f : fams) {
    if (f.metric.empty()) continue;
    prom::ClientMetric m;
    m.label = {{"family", f.name}};
    m.gauge.value = static_cast<double>(f.metric.size());
    out.metric.push_back(std::move(m));
  }
  return out;
}

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
  fams.push_back(SeriesFamily(fams));
  return fams;
}

}  // namespace redline
