// Snapshot -> Prometheus metric families. Pure: no kernel access.
#ifndef REDLINE_AGENT_SNAPSHOT_METRICS_H_
#define REDLINE_AGENT_SNAPSHOT_METRICS_H_

#include <vector>

#include "agent/model.h"
#include "agent/workload_governor.h"
#include "exporters/metric_family.h"

namespace redline {

// With a governor, the per-workload syscall families are bounded by its
// budget; without one (nullptr) every series is exported.
std::vector<prom::MetricFamily> SnapshotToFamilies(const Snapshot& snap,
                                                   WorkloadGovernor* gov);

// comm first, then the identity labels that are set (absent, not empty).
std::vector<prom::Label> WorkloadLabels(const WorkloadId& id);

// A counter sample.
prom::ClientMetric CounterSample(std::vector<prom::Label> labels, double v);

// USE families (sched, block, pressure), in use_metrics.cc.
void AppendUseFamilies(const Snapshot& snap,
                       std::vector<prom::MetricFamily>* out);
// TCP families, in tcp_metrics.cc.
void AppendTcpFamilies(const Snapshot& snap,
                       std::vector<prom::MetricFamily>* out);

// HTTP families, in http_metrics.cc.
void AppendHttpFamilies(const Snapshot& snap,
                        std::vector<prom::MetricFamily>* out);
// Label values of bpf/l7.h's method index and status class.
const char* HttpMethodName(uint32_t method);
const char* HttpStatusClass(uint32_t status_class);

}  // namespace redline

#endif  // REDLINE_AGENT_SNAPSHOT_METRICS_H_
