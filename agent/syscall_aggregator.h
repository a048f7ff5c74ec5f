// Turns raw per-(process incarnation, syscall) kernel records into
// per-workload totals that never go down, and decides which exited
// incarnations can be freed from the kernel maps. No libbpf here.
#ifndef REDLINE_AGENT_SYSCALL_AGGREGATOR_H_
#define REDLINE_AGENT_SYSCALL_AGGREGATOR_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/model.h"

namespace redline {

struct ProcKey {
  uint32_t tgid = 0;
  uint64_t gen = 0;
  auto operator<=>(const ProcKey&) const = default;
};

struct ProcRecord {
  ProcKey key;
  std::string comm;
  uint64_t cgroup_id = 0;
  bool exited = false;
};

struct SyscallRecord {
  ProcKey proc;
  uint32_t nr = 0;
  SyscallStats stats;  // errnos left empty; see ErrnoRecord
};

struct ErrnoRecord {
  ProcKey proc;
  uint32_t nr = 0;
  uint32_t err = 0;
  uint64_t count = 0;
};

// One consistent read of the kernel maps.
struct RawSyscallData {
  std::vector<ProcRecord> procs;
  std::vector<SyscallRecord> stats;
  std::vector<ErrnoRecord> errors;
};

struct AggregatorOptions {
  bool pid_labels = false;
};

class SyscallAggregator {
 public:
  explicit SyscallAggregator(AggregatorOptions opts) : opts_(opts) {}

  // Folds `raw` into `out` (live plus retired totals) and returns the exited
  // incarnations whose final counts are now included: the caller deletes
  // them from the kernel maps, after which they count from retired totals.
  std::vector<ProcKey> Aggregate(const RawSyscallData& raw,
                                 std::map<WorkloadId, WorkloadStats>* out);

  size_t retired_workloads() const { return retired_.size(); }

 private:
  WorkloadId IdFor(const ProcRecord* p, uint32_t tgid) const;

  AggregatorOptions opts_;
  // Totals of freed incarnations, by workload. With pid labels every
  // incarnation is its own workload, so its entry is dropped after being
  // exported once (the series ends); otherwise it lives as long as the agent.
  std::map<WorkloadId, WorkloadStats> retired_;
  std::vector<WorkloadId> expire_after_export_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_SYSCALL_AGGREGATOR_H_
