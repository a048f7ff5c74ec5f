#include "agent/model/culprits.h"

namespace redline {

void CulpritLedger::Begin(int idle_reads) {
  idle_reads_ = idle_reads < 1 ? 1 : idle_reads;
  live_.clear();
  for (auto& [k, e] : entries_) e.seen = false;
}

bool CulpritLedger::Add(absl::string_view entry, const WorkloadId& victim,
                        absl::string_view culprit, uint64_t ns) {
  auto [it, fresh] = entries_.try_emplace(entry);
  Entry& e = it->second;
  if (fresh) {
    e.key.second = culprit.empty() ? kCulpritOther : std::string(culprit);
  }
  // Named every read, as the scheduler entries are: a cgroup resolved
  // late or a pod the kubelet just learned renames the victim.
  e.key.first = victim;
  e.idle = !fresh && ns == e.ns ? e.idle + 1 : 0;
  e.ns = ns;
  e.seen = true;
  if (e.idle < idle_reads_) {
    live_[e.key] += ns;
    return false;
  }
  retired_[e.key] += ns;
  entries_.erase(it);
  return true;
}

void CulpritLedger::Finish(std::map<WorkloadId, WorkloadStats>* out) {
  // A pair this read did not reach (it failed part-way) still holds what
  // the last read saw: only this ledger deletes kernel pairs.
  for (const auto& [k, e] : entries_)
    if (!e.seen) live_[e.key] += e.ns;
  for (const auto* m : {&retired_, &live_}) {
    for (const auto& [k, ns] : *m) (*out)[k.first].rq_culprits[k.second] += ns;
  }
}

}  // namespace redline
