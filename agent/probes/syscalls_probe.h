// Owns bpf/syscalls.bpf.c: load, attach, read, free exited processes.
#ifndef REDLINE_AGENT_PROBES_SYSCALLS_PROBE_H_
#define REDLINE_AGENT_PROBES_SYSCALLS_PROBE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/model/model.h"
#include "agent/model/naming.h"
#include "agent/model/spill_planner.h"
#include "agent/model/syscall_aggregator.h"
#include "agent/probes/probe.h"


namespace redline {

struct SyscallsProbeOptions {
  uint32_t max_stats_entries = 65536;   // (process, syscall) pairs
  uint32_t max_errno_entries = 16384;   // (process, syscall, errno) triples
  uint32_t max_processes = 32768;       // live + not yet exported processes
  NamingOptions naming;
};

struct ReadResult {
  uint64_t procs = 0;          // process records read (live + exited)
  uint64_t live_processes = 0;
  uint64_t stats_entries = 0;
  uint64_t errno_entries = 0;
  uint64_t spilled = 0;  // live entries moved to the agent to make room
};

class SyscallsProbe : public Probe {
 public:
  ~SyscallsProbe() override;

  // Opens and loads the programs (verifier), without attaching.
  static absl::StatusOr<std::unique_ptr<SyscallsProbe>> Load(
      const SyscallsProbeOptions& opts);

  // Attaches every program; those that fail are reported in programs()
  // and the error of the first is returned.
  const char* name() const override { return "syscalls"; }
  absl::Status Attach() override;
  void Detach() override;

  // Syscall counts of every workload, the live process count and the read
  // time. Must run first in a refresh: it fills snap->workloads.
  absl::Status ReadInto(Snapshot* snap) override;
  void CarryForward(const Snapshot& prev, Snapshot* snap) override;

  std::vector<ProgramStatus> programs() const override { return programs_; }
  std::vector<MapStatus> maps() const override;
  // The syscall thresholds (ns per slot, 0: off) and, per syscall number,
  // the slots that apply (bit i: slot i).
  void SetSloThresholds(const SloSlots& slots) override;
  // sys_stats or procs past half the room the last read left.
  bool Pressed() const override;

 private:
  struct Impl;
  explicit SyscallsProbe(std::unique_ptr<Impl> impl);
  // One read of all maps folded by the aggregator into `out`; then frees
  // the kernel state of exited incarnations, whose counts are now retired
  // in the aggregator. On error `out` is untouched.
  absl::StatusOr<ReadResult> Read(std::map<WorkloadId, WorkloadStats>* out);
  uint64_t Spill(std::vector<LiveEntry>* live, uint64_t now_ns);
  std::unique_ptr<Impl> impl_;
  std::vector<ProgramStatus> programs_;
  uint64_t spilled_total_ = 0;
  ReadResult last_;  // the last successful read, for maps()
};

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_SYSCALLS_PROBE_H_
