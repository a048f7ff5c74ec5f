#include "agent/model/v1_path_cache.h"

#include <algorithm>

namespace redline {

void V1PathCache::Begin(Clock::time_point now) { now_ = now; }

const std::optional<std::string>& V1PathCache::Get(uint32_t tgid,
                                                   uint64_t incarnation) {
  auto [it, fresh] = entries_.try_emplace(tgid);
  Entry& e = it->second;
  if (fresh || e.incarnation != incarnation) {
    e = Entry{};
    e.incarnation = incarnation;
    e.first = now_;
  } else {
    const Clock::duration since = now_ - e.read;
    // Young: looked at again once it has been known as long again as at
    // the last look (at least kMinGap), so a burst of scrapes costs a few
    // reads per process, not one each; settled: every max_age.
    const bool cached = now_ - e.first < settle_
                            ? since < std::max(kMinGap, e.read - e.first)
                            : since < max_age_;
    if (cached) {
      e.asked = true;
      return e.path;
    }
  }
  e.path = reader_(tgid);
  e.read = now_;
  e.asked = true;
  ++lookups_;
  return e.path;
}

void V1PathCache::End() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.asked) {
      entries_.erase(it++);
    } else {
      it->second.asked = false;
      ++it;
    }
  }
  // A burst of processes must not pin the table's peak size.
  if (entries_.capacity() > 4 * entries_.size() + 1024) entries_.rehash(0);
}

}  // namespace redline
