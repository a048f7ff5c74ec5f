// Owns bpf/syscalls.bpf.c: load, attach, read, free exited processes.
#ifndef REDLINE_AGENT_SYSCALLS_PROBE_H_
#define REDLINE_AGENT_SYSCALLS_PROBE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/model.h"
#include "agent/syscall_aggregator.h"

namespace redline {

struct SyscallsProbeOptions {
  uint32_t max_stats_entries = 16384;   // (process, syscall) pairs
  uint32_t max_errno_entries = 4096;    // (process, syscall, errno) triples
  uint32_t max_processes = 8192;        // live + not yet exported processes
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

  // One read of all maps.
  absl::StatusOr<RawSyscallData> Read() const;
  // Frees the kernel state of exited incarnations (already exported).
  void Free(const std::vector<ProcKey>& procs, const RawSyscallData& raw);

  std::vector<ProgramStatus> programs() const { return programs_; }
  std::vector<MapStatus> maps() const;

 private:
  struct Impl;
  explicit SyscallsProbe(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<ProgramStatus> programs_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_SYSCALLS_PROBE_H_
