// Snapshot -> Prometheus metric families. Pure: no kernel access.
#ifndef REDLINE_AGENT_METRICS_SNAPSHOT_METRICS_H_
#define REDLINE_AGENT_METRICS_SNAPSHOT_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/metrics/histogram_selector.h"
#include "agent/metrics/workload_governor.h"
#include "agent/model/model.h"
#include "exporters/metric_family.h"

namespace redline {

// With a governor, the per-workload syscall families are bounded by its
// budget; without one (nullptr) every series is exported. `governed`, when
// given, receives each family the governor bounded and the label sets it
// has folded so far (the rest are for prom::CardinalityGovernor). With a
// selector, only the syscalls it selects keep their duration histograms.
std::vector<prom::MetricFamily> SnapshotToFamilies(
    const Snapshot& snap, WorkloadGovernor* gov,
    std::map<std::string, uint64_t>* governed = nullptr,
    SyscallHistogramSelector* hists = nullptr);

// comm first, then the identity labels that are set (absent, not empty).
std::vector<prom::Label> WorkloadLabels(const WorkloadId& id);

// A counter sample.
prom::ClientMetric CounterSample(std::vector<prom::Label> labels, double v);

}  // namespace redline

#endif  // REDLINE_AGENT_METRICS_SNAPSHOT_METRICS_H_
