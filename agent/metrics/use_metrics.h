// USE families: CPU, run queue and disk from the sched and block probes, and
// pressure stall information.
#ifndef REDLINE_AGENT_METRICS_USE_METRICS_H_
#define REDLINE_AGENT_METRICS_USE_METRICS_H_

#include <vector>

#include "agent/model/model.h"
#include "exporters/metric_family.h"

namespace redline {

void AppendUseFamilies(const Snapshot& snap,
                       std::vector<prom::MetricFamily>* out);

}  // namespace redline

#endif  // REDLINE_AGENT_METRICS_USE_METRICS_H_
