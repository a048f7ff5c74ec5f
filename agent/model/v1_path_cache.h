// The v1 cpu cgroup of each live process (for throttling, model/throttle.h)
// without reading /proc/<pid>/cgroup for every process at every read: on a
// v1 host that was ~500 file reads per scrape for 500 processes, most of
// the sched concern's read time (issue 23). During its first `settle`
// (container runtimes and systemd move a process right after it starts) a
// process is looked up again once it has been known twice as long as at
// the last lookup (100 ms at least): a move at age t shows by about 2t,
// and 20 scrapes in a second cost each process a few lookups, not 20.
// Then every `max_age`: a later move into another cpu cgroup shows within
// max_age. Pure logic: the reader and the clock are given.
#ifndef REDLINE_AGENT_MODEL_V1_PATH_CACHE_H_
#define REDLINE_AGENT_MODEL_V1_PATH_CACHE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace redline {

class V1PathCache {
 public:
  using Clock = std::chrono::steady_clock;
  // The cpu cgroup path of a process, nullopt if it cannot be read (gone).
  using Reader = std::function<std::optional<std::string>(uint32_t tgid)>;

  V1PathCache(Reader reader, Clock::duration settle, Clock::duration max_age)
      : reader_(std::move(reader)), settle_(settle), max_age_(max_age) {}

  // A read at `now`: then Get for each live process, then End.
  void Begin(Clock::time_point now);
  // `incarnation` tells a reused pid apart (the scheduler entry's cgroup
  // id and name, hashed): a new one is looked up at once.
  const std::optional<std::string>& Get(uint32_t tgid, uint64_t incarnation);
  // Forgets processes not asked for in this read (exited).
  void End();

  uint64_t lookups() const { return lookups_; }  // reader calls so far

  static constexpr Clock::duration kMinGap = std::chrono::milliseconds(100);

 private:
  struct Entry {
    std::optional<std::string> path;
    uint64_t incarnation = 0;
    Clock::time_point first, read;
    bool asked = false;
  };
  Reader reader_;
  Clock::duration settle_, max_age_;
  Clock::time_point now_{};
  absl::flat_hash_map<uint32_t, Entry> entries_;
  uint64_t lookups_ = 0;
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_V1_PATH_CACHE_H_
