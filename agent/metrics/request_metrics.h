// Request families of every protocol in model/request_protocols.h:
// requests served (per workload and local port) and made (per workload and
// remote server), by the protocol's operation and outcome, with durations;
// and the engine's parsing events.
#ifndef REDLINE_AGENT_METRICS_REQUEST_METRICS_H_
#define REDLINE_AGENT_METRICS_REQUEST_METRICS_H_

#include <vector>

#include "agent/model/model.h"
#include "exporters/metric_family.h"

namespace redline {

void AppendRequestFamilies(const Snapshot& snap,
                           std::vector<prom::MetricFamily>* out);

}  // namespace redline

#endif  // REDLINE_AGENT_METRICS_REQUEST_METRICS_H_
