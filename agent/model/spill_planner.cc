#include "agent/model/spill_planner.h"

#include <algorithm>
#include <tuple>

namespace redline {

size_t SpillPlanner::Plan(std::vector<LiveEntry>* live, size_t capacity,
                          uint64_t now_ns) {
  auto idle = [now_ns](const LiveEntry& e) {
    return now_ns != 0 && e.last_ns != 0 && e.last_ns + kIdleNs <= now_ns;
  };
  const auto busy = std::stable_partition(live->begin(), live->end(), idle);
  idle_ = static_cast<size_t>(busy - live->begin());
  const size_t rest = live->size() - idle_;
  if (rest * 4 <= capacity * 3) return idle_;
  const size_t n = rest - capacity / 2;
  // Growth since the previous read; an entry not seen then (new, or
  // re-created after a spill) grew by all it has.
  auto growth = [this](const LiveEntry& e) {
    auto it = prev_.find(Key{e.proc, e.nr});
    return it != prev_.end() && it->second <= e.calls ? e.calls - it->second
                                                      : e.calls;
  };
  std::vector<std::pair<uint64_t, size_t>> order;  // (growth, index)
  order.reserve(rest);
  for (size_t i = idle_; i < live->size(); ++i)
    order.emplace_back(growth((*live)[i]), i);
  std::partial_sort(order.begin(), order.begin() + n, order.end(),
                    [live](const auto& a, const auto& b) {
                      const LiveEntry& x = (*live)[a.second];
                      const LiveEntry& y = (*live)[b.second];
                      return std::tie(a.first, x.calls) <
                             std::tie(b.first, y.calls);
                    });
  std::vector<LiveEntry> sorted(live->begin(), busy);
  sorted.reserve(live->size());
  std::vector<bool> taken(live->size());
  for (size_t i = 0; i < n; ++i) {
    sorted.push_back((*live)[order[i].second]);
    taken[order[i].second] = true;
  }
  for (size_t i = idle_; i < live->size(); ++i)
    if (!taken[i]) sorted.push_back((*live)[i]);
  *live = std::move(sorted);
  return idle_ + n;
}

void SpillPlanner::Remember(const std::vector<LiveEntry>& live, size_t moved,
                            size_t capacity) {
  prev_.clear();
  if ((live.size() - moved) * 4 <= capacity) return;
  prev_.reserve(live.size() - moved);
  for (size_t i = moved; i < live.size(); ++i)
    prev_[Key{live[i].proc, live[i].nr}] = live[i].calls;
}

}  // namespace redline
