// Noisy neighbours: run-queue waits of a workload by the workload that
// held the CPU (bpf/sched_culprit.bpf.h), from kernel pairs of tgids into
// per-workload totals that never go down. Pure logic.
#ifndef REDLINE_AGENT_MODEL_CULPRITS_H_
#define REDLINE_AGENT_MODEL_CULPRITS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "agent/model/model.h"

namespace redline {

// The culprit label of waits no process is blamed for: idle, a wait begun
// on another CPU, slices older than the kernel keeps, a full table.
inline constexpr const char kCulpritOther[] = "[other]";

class CulpritLedger {
 public:
  explicit CulpritLedger(std::function<bool(uint32_t pid)> alive)
      : alive_(std::move(alive)) {}

  // A read: name tgids from this read's scheduler entries, then Add every
  // kernel pair, then Finish.
  void Begin();
  // An exited entry names its tgid only if no live one does (an exec).
  void Name(uint32_t tgid, const WorkloadId& id, bool exited);
  // Returns true when the pair's kernel entry is to be deleted: a process
  // of it is gone, its total is kept here.
  bool Add(uint32_t victim, uint32_t culprit, uint64_t ns);
  // Adds each workload's totals to out[victim].rq_culprits.
  void Finish(std::map<WorkloadId, WorkloadStats>* out);

 private:
  const WorkloadId* Lookup(uint32_t tgid) const;
  std::function<bool(uint32_t)> alive_;
  // This read's names and the last read's (an exited process's entry is
  // freed once read: its last pairs are read after that).
  absl::flat_hash_map<uint32_t, WorkloadId> names_, prev_names_;
  using Key = std::pair<WorkloadId, std::string>;  // victim, culprit comm
  std::map<Key, uint64_t> live_, retired_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_CULPRITS_H_
