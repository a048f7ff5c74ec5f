// Owns bpf/sched.bpf.c: on-CPU time, run-queue latency and context
// switches per process, folded into per-workload totals.
#ifndef REDLINE_AGENT_PROBES_SCHED_PROBE_H_
#define REDLINE_AGENT_PROBES_SCHED_PROBE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/model/model.h"
#include "agent/model/naming.h"
#include "agent/probes/probe.h"

namespace redline {

struct SchedProbeOptions {
  uint32_t max_entries = 32768;  // (process, cgroup, name) entries
  NamingOptions naming;
};

class SchedProbe : public Probe {
 public:
  ~SchedProbe() override;
  static absl::StatusOr<std::unique_ptr<SchedProbe>> Load(
      const SchedProbeOptions& opts);
  const char* name() const override { return "sched"; }
  absl::Status Attach() override;
  void Detach() override;

  // Adds every workload's scheduler totals.
  absl::Status ReadInto(Snapshot* snap) override;
  // sched_stats past half the room the last read left.
  bool Pressed() const override;

  std::vector<ProgramStatus> programs() const override { return programs_; }
  std::vector<MapStatus> maps() const override;

 private:
  struct Impl;
  absl::Status ReadCulprits(std::map<WorkloadId, WorkloadStats>* out);
  void ReadThrottle(std::map<WorkloadId, WorkloadStats>* out);
  explicit SchedProbe(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<ProgramStatus> programs_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_SCHED_PROBE_H_
