#include "agent/metrics/snapshot_collector.h"

#include <algorithm>

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
      SnapshotToFamilies(*snap, &workloads_, &governed, histograms_.get());
  for (prom::MetricFamily& f : fams) {
    if (governed.count(f.name) == 0) governor_.Apply(&f);
  }
  if (budget_.total() != 0) {
    // Added below: redline_series and redline_series_folded_total (a
    // label set per family at most, each) and redline_series_budget.
    const size_t reserved = 2 * (fams.size() + 1) + 1;
    std::map<std::string, uint64_t> folded_now;
    budget_.Apply(&fams, reserved, &folded_now);
    for (const auto& [name, n] : folded_now) governor_.CountFolded(name, n);
  }
  prom::MetricFamily folded = governor_.FoldedFamily();
  for (const auto& [family, n] : governed) {
    // The budget may have folded these families too: one series each.
    // (A copy: clang 14 cannot capture a structured binding.)
    const std::string& name = family;
    auto same = std::find_if(
        folded.metric.begin(), folded.metric.end(),
        [&name](const prom::ClientMetric& m) {
          return m.label[0].value == name;
        });
    if (same != folded.metric.end()) {
      same->counter.value += static_cast<double>(n);
      continue;
    }
    prom::ClientMetric m;
    m.label = {{"family", name}};
    m.counter.value = static_cast<double>(n);
    folded.metric.push_back(std::move(m));
  }
  fams.push_back(std::move(folded));
  fams.push_back(SeriesFamily(fams));
  if (budget_.total() != 0) {
    prom::MetricFamily b{"redline_series_budget",
                         "--max-series: the label sets all workload families "
                         "may export together.",
                         prom::MetricType::kGauge,
                         {}};
    b.metric.emplace_back();
    b.metric.back().gauge.value = static_cast<double>(budget_.total());
    fams.push_back(std::move(b));
  }
  return fams;
}

}  // namespace redline
