// Which live (process, syscall) entries to move out of a kernel map that
// live processes alone have filled (see SyscallsProbe::Spill). A moved
// entry's counts are read and deleted atomically, so nothing is lost; the
// question is only which ones free room that stays free.
//
// An entry that grew since the previous read belongs to a process making
// that syscall now: moved out, it is re-created by its next call and takes
// the slot back at once, while the (process, syscall) pairs the map was
// emptied for find it full again. So entries idle since the previous read
// go first, smallest first; then busy ones by how little they grew. The
// previous read's counts are kept only while the map is over a quarter
// full (otherwise no spill is near): one small record per entry.
//
// Independently of pressure, an entry whose last call ended kIdleNs ago is
// moved too: a read costs the kernel per entry (a bucket lock and two
// copies to user space each, issue 23), and on a host of long-lived
// processes most entries are start-up syscalls that never come again.
#ifndef REDLINE_AGENT_MODEL_SPILL_PLANNER_H_
#define REDLINE_AGENT_MODEL_SPILL_PLANNER_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "agent/model/syscall_aggregator.h"

namespace redline {

struct LiveEntry {
  ProcKey proc;
  uint32_t nr = 0;
  uint64_t calls = 0;    // since the kernel entry was created
  uint64_t last_ns = 0;  // CLOCK_MONOTONIC end of its last call; 0: unknown
};

class SpillPlanner {
 public:
  static constexpr uint64_t kIdleNs = 10'000'000'000;

  // Puts the entries to move first in `live` and returns how many: those
  // idle for kIdleNs at `now_ns` (0: none), then, if the rest fill more
  // than 3/4 of `capacity`, enough of the rest to bring them down to half.
  size_t Plan(std::vector<LiveEntry>* live, size_t capacity,
              uint64_t now_ns = 0);
  // Of the last Plan, how many were idle (the rest: pressure).
  size_t idle() const { return idle_; }

  // After the spill: `live` minus its first `moved` entries is what the map
  // holds now.
  void Remember(const std::vector<LiveEntry>& live, size_t moved,
                size_t capacity);

  size_t remembered() const { return prev_.size(); }

 private:
  using Key = std::pair<ProcKey, uint32_t>;
  absl::flat_hash_map<Key, uint64_t> prev_;
  size_t idle_ = 0;
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_SPILL_PLANNER_H_
