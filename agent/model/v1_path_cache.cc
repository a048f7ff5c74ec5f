#include "agent/model/v1_path_cache.h"

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
  } else if (now_ - e.first >= settle_ && now_ - e.read < max_age_) {
    e.asked = true;
    return e.path;
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
