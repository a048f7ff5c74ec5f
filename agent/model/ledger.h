// Per-workload totals that never go down, over kernel entries that come
// and go. Pure logic, shared by the sched, block, tcp and l7 probes.
//
// A kernel entry is freed when (a) its process exited (the kernel marks
// it) and its final counts were exported once, or (b) it stopped changing
// for `idle_reads` reads: a process that exec'd, renamed itself or moved
// cgroup leaves an entry under its old key that nothing else would free.
// Either way its counts move into retired totals of its workload, so the
// exported series continues without a step when the entry is gone.
#ifndef REDLINE_AGENT_MODEL_LEDGER_H_
#define REDLINE_AGENT_MODEL_LEDGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "agent/model/model.h"

namespace redline {

template <typename Key, typename Stats>
class Ledger {
 public:
  struct Options {
    int idle_reads = 6;
    // With --pid-labels, a retired series ends once its process is gone.
    std::function<bool(uint32_t pid)> pid_alive;
  };
  enum class Action {
    kKeep,
    kDelete,  // exited: counted; delete the kernel entry after Finish
    kRetire,  // idle: lookup-and-delete it, then Retire() or Keep()
  };

  explicit Ledger(Options opts) : opts_(std::move(opts)) {}

  void Begin() {
    for (const WorkloadId& id : expire_) retired_.erase(id);
    expire_.clear();
    live_.clear();
  }

  Action Add(const Key& k, const WorkloadId& id, const Stats& s, bool exited,
             uint64_t fingerprint) {
    if (exited) {
      track_.erase(k);
      retired_[id].Add(s);
      return Action::kDelete;
    }
    Track& t = track_[k];
    t.seen = true;
    if (!t.init || t.fingerprint != fingerprint) {
      t = Track{fingerprint, 0, true, true};
    } else if (++t.idle_reads >= opts_.idle_reads) {
      track_.erase(k);
      return Action::kRetire;
    }
    live_[id].Add(s);
    return Action::kKeep;
  }
  // The value read atomically with the delete of an idle entry.
  void Retire(const WorkloadId& id, const Stats& s) { retired_[id].Add(s); }
  // The idle entry could not be deleted: count it as live.
  void Keep(const WorkloadId& id, const Stats& s) { live_[id].Add(s); }

  // Calls emit(id, total) for every workload: live plus retired.
  void Finish(const std::function<void(const WorkloadId&, const Stats&)>& emit) {
    for (auto it = track_.begin(); it != track_.end();) {
      if (!it->second.seen) {
        track_.erase(it++);
      } else {
        it->second.seen = false;
        ++it;
      }
    }
    // A burst (fork storms) must not pin the table's peak size.
    if (track_.capacity() > 4 * track_.size() + 1024) track_.rehash(0);
    for (auto& [id, s] : retired_) {
      auto live = live_.find(id);
      if (live != live_.end()) {
        live->second.Add(s);
        continue;
      }
      emit(id, s);
      if (id.pid != 0 && opts_.pid_alive && !opts_.pid_alive(id.pid)) {
        expire_.push_back(id);
      }
    }
    for (const auto& [id, s] : live_) emit(id, s);
  }

  size_t tracked() const { return track_.size(); }
  size_t retired_workloads() const { return retired_.size(); }

 private:
  struct Track {
    uint64_t fingerprint = 0;
    int idle_reads = 0;
    bool init = false;
    bool seen = false;
  };
  Options opts_;
  absl::flat_hash_map<Key, Track> track_;
  std::map<WorkloadId, Stats> live_;
  std::map<WorkloadId, Stats> retired_;
  std::vector<WorkloadId> expire_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_LEDGER_H_
