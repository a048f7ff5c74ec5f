// Snapshot -> Prometheus metric families. Pure: no kernel access.
#ifndef REDLINE_AGENT_SNAPSHOT_METRICS_H_
#define REDLINE_AGENT_SNAPSHOT_METRICS_H_

#include <vector>

#include "agent/model.h"
#include "exporters/metric_family.h"

namespace redline {

std::vector<prom::MetricFamily> SnapshotToFamilies(const Snapshot& snap);

}  // namespace redline

#endif  // REDLINE_AGENT_SNAPSHOT_METRICS_H_
