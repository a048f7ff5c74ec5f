// Noisy neighbours: run-queue waits of a workload by the workload that
// held the CPU (bpf/sched_culprit.bpf.h), from kernel pairs of workloads
// (the victim's name and cgroup, the culprit's name) into per-workload
// totals that never go down. Pure logic.
#ifndef REDLINE_AGENT_MODEL_CULPRITS_H_
#define REDLINE_AGENT_MODEL_CULPRITS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "agent/model/model.h"

namespace redline {

// The culprit label of waits no process is blamed for: idle, a wait begun
// on another CPU, slices older than the kernel keeps, a full table.
inline constexpr const char kCulpritOther[] = "[other]";

// Kernel pairs are keyed by workload, so their number is bounded by the
// workloads, not by processes; but a workload that is gone (a finished
// pod's cgroup, an exited process with pid labels) would hold its pairs
// forever. A pair that has not grown for `idle_reads` reads is freed from
// the kernel (its total stays here, and a pair made again later adds to
// it). A wait added by a CPU between the read and the delete of an idle
// pair is lost: idle pairs are rarely added to, which is why only they go.
class CulpritLedger {
 public:
  // A read: Add every kernel pair, then Finish.
  void Begin(int idle_reads);
  // `entry` identifies the kernel pair (its key's bytes); culprit "" is
  // kCulpritOther. Returns true when the pair is to be deleted from the
  // kernel now.
  bool Add(absl::string_view entry, const WorkloadId& victim,
           absl::string_view culprit, uint64_t ns);
  // Adds each workload's totals to out[victim].rq_culprits.
  void Finish(std::map<WorkloadId, WorkloadStats>* out);

  size_t tracked() const { return entries_.size(); }

 private:
  using Key = std::pair<WorkloadId, std::string>;  // victim, culprit comm
  struct Entry {
    Key key;
    uint64_t ns = 0;  // at the last read
    int idle = 0;     // reads without growth
    bool seen = false;
  };
  int idle_reads_ = 1;
  absl::flat_hash_map<std::string, Entry> entries_;
  std::map<Key, uint64_t> live_, retired_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_CULPRITS_H_
