// TCP families: connections, retransmits, resets and RTT per workload and
// peer.
#ifndef REDLINE_AGENT_METRICS_TCP_METRICS_H_
#define REDLINE_AGENT_METRICS_TCP_METRICS_H_

#include <vector>

#include "agent/model/model.h"
#include "exporters/metric_family.h"

namespace redline {

void AppendTcpFamilies(const Snapshot& snap,
                       std::vector<prom::MetricFamily>* out);

}  // namespace redline

#endif  // REDLINE_AGENT_METRICS_TCP_METRICS_H_
