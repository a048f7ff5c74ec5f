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
  // A tgid with a live scheduler entry in this read is alive; others ask
  // alive_ once per read: a table of 4096 pairs made ~1,400 kill(pid, 0)
  // per scrape on a 500-process host, 2 per pair.
  bool Alive(uint32_t tgid);
  std::function<bool(uint32_t)> alive_;
  struct Named {
    WorkloadId id;
    bool live = false;  // its entry in this read had not exited
  };
  // This read's names and the last read's (an exited process's entry is
  // freed once read: its last pairs are read after that).
  absl::flat_hash_map<uint32_t, Named> names_, prev_names_;
  absl::flat_hash_map<uint32_t, bool> asked_;      // alive_ answers, this read
  using Key = std::pair<WorkloadId, std::string>;  // victim, culprit comm
  std::map<Key, uint64_t> live_, retired_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_CULPRITS_H_
