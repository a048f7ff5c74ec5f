// Turns raw per-(process incarnation, syscall) kernel records into
// per-workload totals that never go down, and decides which exited
// incarnations can be freed from the kernel maps. No libbpf here.
//
// Records are folded as they are read (Begin, Add*, Finish), so a read of
// tens of thousands of kernel entries never holds them all in memory.
#ifndef REDLINE_AGENT_MODEL_SYSCALL_AGGREGATOR_H_
#define REDLINE_AGENT_MODEL_SYSCALL_AGGREGATOR_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "agent/identity/identity.h"
#include "agent/model/model.h"
#include "agent/model/naming.h"

namespace redline {

struct ProcKey {
  uint32_t tgid = 0;
  uint64_t gen = 0;
  auto operator<=>(const ProcKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const ProcKey& k) {
    return H::combine(std::move(h), k.tgid, k.gen);
  }
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

// One consistent read of the kernel maps (tests and small callers).
struct RawSyscallData {
  std::vector<ProcRecord> procs;
  std::vector<SyscallRecord> stats;
  std::vector<ErrnoRecord> errors;
};


class SyscallAggregator {
 public:
  explicit SyscallAggregator(NamingOptions opts) : opts_(opts) {}

  // Starts a read. Every process record comes first, so that each stats
  // record can be folded into its workload as soon as it is read.
  //
  // now_ns is CLOCK_MONOTONIC (the clock of ProcKey::gen); 0 holds nothing.
  // A live incarnation younger than kSettleNs that was never exported is
  // held: its counts stay in the kernel and are exported by a later read,
  // under the name it has then. A program renames itself (prctl
  // PR_SET_NAME) right after exec; pinning the name a read happened to
  // catch in between would count that process under its binary's name for
  // good. An incarnation that exits is never held.
  void Begin(const std::vector<ProcRecord>& procs, uint64_t now_ns = 0);
  static constexpr uint64_t kSettleNs = 200'000'000;
  // Returns true if the record belongs to an exited incarnation (the caller
  // deletes its kernel entry after Finish).
  bool AddStats(const ProcKey& proc, uint32_t nr, const SyscallStats& s);
  bool AddErrno(const ErrnoRecord& e);
  // Writes live plus retired totals into `out` and returns the exited
  // incarnations whose final counts are now included: the caller deletes
  // them from the kernel maps, after which they count from retired totals.
  std::vector<ProcKey> Finish(std::map<WorkloadId, WorkloadStats>* out);

  // After Finish: the kernel entry (proc, nr) of a live incarnation was
  // removed to make room (its value read atomically with the delete). Its
  // counts move to the retired totals of its workload; the kernel restarts
  // the entry from zero, so exported totals continue without a step.
  void Retire(const ProcKey& proc, uint32_t nr, const SyscallStats& s);

  // Begin + Add* + Finish over an in-memory read.
  std::vector<ProcKey> Aggregate(const RawSyscallData& raw,
                                 std::map<WorkloadId, WorkloadStats>* out);

  size_t retired_workloads() const { return retired_.size(); }
  // Incarnations the last Begin held back (see Begin).
  size_t held() const { return held_pins_.size(); }

 private:
  struct Proc {
    bool exited = false;
    bool held = false;  // young: not exported by this read (see Begin)
    WorkloadStats* target = nullptr;  // in live_ or fresh_; null if held
    WorkloadId id;
  };
  Proc* Find(const ProcKey& k);

  NamingOptions opts_;
  // Current read.
  absl::flat_hash_map<ProcKey, Proc> procs_;
  std::map<WorkloadId, WorkloadStats> live_;
  std::map<WorkloadId, WorkloadStats> fresh_;  // exited in this read
  // What an incarnation was when first read: a later rename (prctl
  // PR_SET_NAME) or cgroup move must not move its counts to another series.
  // Kubernetes names are looked up every read (the kubelet may learn a pod
  // after we first see its processes).
  struct Pinned {
    std::string comm;
    CgroupIdentity cgroup;
    bool cgroup_resolved = false;
  };
  WorkloadId IdFor(const ProcRecord& p, Pinned* pin);
  std::map<ProcKey, Pinned> pinned_;
  // The pins held incarnations would get: Retire (a spilled entry) pins.
  std::map<ProcKey, Pinned> held_pins_;
  // Totals of freed incarnations, by workload. With pid labels every
  // incarnation is its own workload, so its entry is dropped after being
  // exported once (the series ends); otherwise it lives as long as the agent.
  std::map<WorkloadId, WorkloadStats> retired_;
  std::vector<WorkloadId> expire_after_export_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_SYSCALL_AGGREGATOR_H_
