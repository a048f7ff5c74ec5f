// The snapshot's families at every scrape, bounded: per-workload syscall
// series on model keys (WorkloadGovernor), every other family by label set
// (prom::CardinalityGovernor), then, with a host budget, every family
// together (prom::SeriesBudget), what they folded, as one family, and how
// many series each family exports (redline_series).
#ifndef REDLINE_AGENT_METRICS_SNAPSHOT_COLLECTOR_H_
#define REDLINE_AGENT_METRICS_SNAPSHOT_COLLECTOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/metrics/histogram_selector.h"
#include "agent/metrics/workload_governor.h"
#include "agent/model/model.h"
#include "exporters/cardinality_governor.h"
#include "exporters/metric_family.h"
#include "exporters/series_budget.h"

namespace redline {

// redline_series{family}: the label sets each of `fams` exports.
prom::MetricFamily SeriesFamily(const std::vector<prom::MetricFamily>& fams);

class SnapshotCollector : public prom::Collectable {
 public:
  // `fresh` returns a snapshot read after the scrape began. max_series:
  // label sets per family; max_total: for all of this collector's
  // families together, 0 for no such budget, served by `priority`;
  // `histograms`: which syscalls keep duration histograms.
  SnapshotCollector(
      std::function<std::shared_ptr<const Snapshot>()> fresh,
      size_t max_series, size_t max_total = 0,
      prom::SeriesBudget::Priority priority = prom::DefaultSeriesPriority,
      SyscallHistogramPolicy histograms = {})
      : fresh_(std::move(fresh)),
        workloads_(max_series),
        governor_(max_series),
        budget_(max_total, std::move(priority)) {
    if (!histograms.all()) {
      histograms_ =
          std::make_unique<SyscallHistogramSelector>(std::move(histograms));
    }
  }
  std::vector<prom::MetricFamily> Collect() const override;

 private:
  std::function<std::shared_ptr<const Snapshot>()> fresh_;
  mutable std::mutex mu_;
  mutable WorkloadGovernor workloads_;
  mutable prom::CardinalityGovernor governor_;
  mutable prom::SeriesBudget budget_;
  std::unique_ptr<SyscallHistogramSelector> histograms_;  // null: all
};

}  // namespace redline

#endif  // REDLINE_AGENT_METRICS_SNAPSHOT_COLLECTOR_H_
