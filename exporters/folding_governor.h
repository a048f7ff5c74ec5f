// The cardinality budget, generic over series key K and value V. Beyond
// `budget` keys, the smallest contributors are folded into one [other]
// value, such that:
//  - no exported value ever goes down, [other] included;
//  - a rate() over all exported series (Prometheus: rate then sum) never
//    jumps: [other] takes a folded series's growth, not its past. A series
//    folded from the start is in [other] whole (as an unfolded new series
//    would be, its first value included); a series that leaves the budget
//    ends at its last exported value and [other] takes its growth from the
//    fold on (its growth since the previous Apply is not counted anywhere:
//    one interval of the smallest kept series); a series admitted after
//    being folded restarts from zero while what it had put in [other] stays
//    there; a series that disappears leaves what it had put in [other];
//  - while nothing leaves the budget or disappears, kept values plus
//    [other] sum exactly to the unfolded total.
// Admission is sticky (no flapping between scrapes); a folded series
// replaces an admitted one only when it is more than twice as large.
//
// Traits provides: void Add(V*, const V&), void Sub(V*, const V&) (clamped
// at zero), bool IsZero(const V&), double Weight(const V&); V{} is zero.
#ifndef REDLINE_EXPORTERS_FOLDING_GOVERNOR_H_
#define REDLINE_EXPORTERS_FOLDING_GOVERNOR_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"

namespace redline::prom {

template <typename K, typename V, typename Traits>
class FoldingGovernor {
 public:
  struct Result {
    std::vector<std::pair<K, V>> kept;  // admitted, base subtracted
    std::optional<V> other;
    uint64_t newly_folded = 0;  // keys folded now that were not before
  };

  explicit FoldingGovernor(size_t budget, Traits traits = {})
      : budget_(budget), traits_(std::move(traits)) {}

  Result Apply(std::vector<std::pair<K, V>> entries);

  // A new budget from the next Apply on. Lower than the admitted keys:
  // the smallest of them are folded (they end; [other] takes their
  // totals), so the budget holds at once.
  void set_budget(size_t budget) { budget_ = budget; }
  size_t budget() const { return budget_; }

  // Keys that may ever be admitted (default: all); the others are always
  // folded. Set before the first Apply: a key admitted earlier stays.
  void set_admissible(std::function<bool(const K&)> admissible) {
    admissible_ = std::move(admissible);
  }

 private:
  size_t budget_;
  Traits traits_;
  std::function<bool(const K&)> admissible_;
  // The two parts below are zero (null) for almost every key: a pointer
  // keeps a folded (workload, syscall) pair from holding a second copy of
  // its histogram.
  struct Admitted {
    std::unique_ptr<V> sub;   // exported = value - sub (value at admission)
    std::unique_ptr<V> keep;  // what it had put in [other] (stays there)
  };
  absl::flat_hash_map<K, Admitted> admitted_;
  struct Folded {
    V last{};                // value at the last Apply that folded it
    std::unique_ptr<V> sub;  // [other] holds last - sub of it
    uint64_t epoch = 0;  // that Apply
  };
  // Kept across calls and updated in place: no per-scrape rebuild.
  absl::flat_hash_map<K, Folded> folded_;
  uint64_t epoch_ = 0;
  std::optional<V> gone_;  // what departed series left in [other]
};

template <typename K, typename V, typename Traits>
typename FoldingGovernor<K, V, Traits>::Result
FoldingGovernor<K, V, Traits>::Apply(std::vector<std::pair<K, V>> entries) {
  Result res;
  // Keys present now, by pointer into `entries` (no key copies).
  struct PtrHash {
    size_t operator()(const K* k) const { return absl::Hash<K>{}(*k); }
  };
  struct PtrEq {
    bool operator()(const K* a, const K* b) const { return *a == *b; }
  };
  absl::flat_hash_set<const K*, PtrHash, PtrEq> index;
  index.reserve(entries.size());
  for (const auto& e : entries) index.insert(&e.first);

  auto leave = [&](const V& v) {
    if (traits_.IsZero(v)) return;
    if (!gone_) {
      gone_.emplace(v);
    } else {
      traits_.Add(&*gone_, v);
    }
  };
  // What a folded series puts in [other] now.
  auto share = [&](const Folded& f) {
    V c = f.last;
    if (f.sub) traits_.Sub(&c, *f.sub);
    return c;
  };
  // Departed series free their place; what they put in [other] stays.
  for (auto it = admitted_.begin(); it != admitted_.end();) {
    if (index.contains(&it->first)) {
      ++it;
      continue;
    }
    if (it->second.keep) leave(*it->second.keep);
    admitted_.erase(it++);
  }
  for (const auto& [k, f] : folded_) {
    if (!index.contains(&k)) leave(share(f));
  }

  std::vector<size_t> in_budget, candidates;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (admitted_.contains(entries[i].first)) {
      in_budget.push_back(i);
    } else if (!admissible_ || admissible_(entries[i].first)) {
      candidates.push_back(i);
    }
  }
  auto bigger = [&](size_t a, size_t b) {
    const double wa = traits_.Weight(entries[a].second);
    const double wb = traits_.Weight(entries[b].second);
    return wa != wb ? wa > wb : a < b;
  };
  std::sort(candidates.begin(), candidates.end(), bigger);
  std::sort(in_budget.begin(), in_budget.end(), bigger);
  auto admit = [&](size_t i) {
    const auto& [k, v] = entries[i];
    Admitted a;
    auto f = folded_.find(k);
    if (f != folded_.end()) {
      // Restarts from zero; its share of [other] stays there.
      a.sub = std::make_unique<V>(v);
      a.keep = std::make_unique<V>(v);
      if (f->second.sub) traits_.Sub(a.keep.get(), *f->second.sub);
      folded_.erase(f);
    }
    admitted_.insert_or_assign(k, std::move(a));
  };
  // The smallest admitted leaves: [other] takes its growth from now on.
  auto demote = [&]() {
    const auto& [k, v] = entries[in_budget.back()];
    auto it = admitted_.find(k);
    Folded f;
    f.sub = std::make_unique<V>(v);
    if (it->second.keep) traits_.Sub(f.sub.get(), *it->second.keep);
    admitted_.erase(it);
    folded_.insert_or_assign(k, std::move(f));
    ++res.newly_folded;
    in_budget.pop_back();
  };
  while (admitted_.size() > budget_ && !in_budget.empty()) demote();
  size_t next = 0;
  while (next < candidates.size() && admitted_.size() < budget_) {
    admit(candidates[next++]);
  }
  while (next < candidates.size() && !in_budget.empty() &&
         traits_.Weight(entries[candidates[next]].second) >
             2 * traits_.Weight(entries[in_budget.back()].second)) {
    demote();
    admit(candidates[next++]);
  }

  std::optional<V> other = gone_;
  auto add_other = [&](const V& v) {
    if (!other) {
      other.emplace(v);
    } else {
      traits_.Add(&*other, v);
    }
  };
  ++epoch_;
  res.kept.reserve(std::min(entries.size(), budget_));
  for (auto& [k, v] : entries) {
    auto it = admitted_.find(k);
    if (it == admitted_.end()) {
      auto [f, inserted] = folded_.try_emplace(std::move(k));
      if (inserted) ++res.newly_folded;  // new (demoted ones are counted)
      f->second.last = std::move(v);
      f->second.epoch = epoch_;
      if (!f->second.sub) {
        add_other(f->second.last);  // folded from the start: no copy
      } else {
        add_other(share(f->second));
      }
      continue;
    }
    if (it->second.keep) add_other(*it->second.keep);
    if (it->second.sub) traits_.Sub(&v, *it->second.sub);
    res.kept.emplace_back(std::move(k), std::move(v));
  }
  // Drop what is no longer folded (departed: already left in gone_).
  for (auto it = folded_.begin(); it != folded_.end();) {
    if (it->second.epoch != epoch_) {
      folded_.erase(it++);
    } else {
      ++it;
    }
  }
  res.other = std::move(other);
  return res;
}

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_FOLDING_GOVERNOR_H_
