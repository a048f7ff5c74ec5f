// Owns bpf/sched.bpf.c: on-CPU time, run-queue latency and context
// switches per process, folded into per-workload totals.
#ifndef REDLINE_AGENT_SCHED_PROBE_H_
#define REDLINE_AGENT_SCHED_PROBE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/model.h"
#include "agent/syscall_aggregator.h"

namespace redline {

struct SchedProbeOptions {
  uint32_t max_entries = 32768;  // (process, cgroup, name) entries
  AggregatorOptions naming;
};

class SchedProbe {
 public:
  ~SchedProbe();
  static absl::StatusOr<std::unique_ptr<SchedProbe>> Load(
      const SchedProbeOptions& opts);
  absl::Status Attach();
  void Detach();

  // Adds every workload's scheduler totals into `out`.
  absl::Status ReadInto(std::map<WorkloadId, WorkloadStats>* out);

  std::vector<ProgramStatus> programs() const { return programs_; }
  std::vector<MapStatus> maps() const;

 private:
  struct Impl;
  explicit SchedProbe(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<ProgramStatus> programs_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_SCHED_PROBE_H_
