// Owns bpf/syscalls.bpf.c: load, attach, read, free exited processes.
#ifndef REDLINE_AGENT_SYSCALLS_PROBE_H_
#define REDLINE_AGENT_SYSCALLS_PROBE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/model.h"
#include "agent/syscall_aggregator.h"

struct rl_sys_key;

namespace redline {

struct SyscallsProbeOptions {
  uint32_t max_stats_entries = 65536;   // (process, syscall) pairs
  uint32_t max_errno_entries = 16384;   // (process, syscall, errno) triples
  uint32_t max_processes = 32768;       // live + not yet exported processes
};

struct ReadResult {
  uint64_t procs = 0;          // process records read (live + exited)
  uint64_t live_processes = 0;
  uint64_t stats_entries = 0;
  uint64_t errno_entries = 0;
  uint64_t spilled = 0;  // live entries moved to the agent to make room
};

class SyscallsProbe {
 public:
  ~SyscallsProbe();

  // Opens and loads the programs (verifier), without attaching.
  static absl::StatusOr<std::unique_ptr<SyscallsProbe>> Load(
      const SyscallsProbeOptions& opts);

  // Attaches every program; those that fail are reported in programs()
  // and the error of the first is returned.
  absl::Status Attach();
  void Detach();

  // One read of all maps folded by `agg` into `out`; then frees the
  // kernel state of exited incarnations, whose counts are now retired in
  // `agg`. On error `out` is untouched.
  absl::StatusOr<ReadResult> ReadInto(SyscallAggregator* agg,
                                      std::map<WorkloadId, WorkloadStats>* out);

  std::vector<ProgramStatus> programs() const { return programs_; }
  uint64_t spilled_total() const { return spilled_total_; }
  std::vector<MapStatus> maps() const;
  // SLO latency thresholds in ns per slot (0: off) and, per syscall
  // number, the slots that apply (bit i: slot i). Live at once.
  void SetSloThresholds(const SloWithin& threshold_ns,
                        const std::vector<uint8_t>& mask_by_nr);

 private:
  struct Impl;
  explicit SyscallsProbe(std::unique_ptr<Impl> impl);
  uint64_t Spill(SyscallAggregator* agg,
                 std::vector<std::pair<uint64_t, rl_sys_key>>* live);
  std::unique_ptr<Impl> impl_;
  std::vector<ProgramStatus> programs_;
  uint64_t spilled_total_ = 0;
};

}  // namespace redline

#endif  // REDLINE_AGENT_SYSCALLS_PROBE_H_
