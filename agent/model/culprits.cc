#include "agent/model/culprits.h"

namespace redline {

void CulpritLedger::Begin() {
  prev_names_ = std::move(names_);
  names_.clear();
  asked_.clear();
  live_.clear();
}

void CulpritLedger::Name(uint32_t tgid, const WorkloadId& id, bool exited) {
  if (exited) {
    names_.try_emplace(tgid, Named{id, false});
  } else {
    names_[tgid] = Named{id, true};
  }
}

const WorkloadId* CulpritLedger::Lookup(uint32_t tgid) const {
  if (auto it = names_.find(tgid); it != names_.end()) return &it->second.id;
  if (auto it = prev_names_.find(tgid); it != prev_names_.end()) {
    return &it->second.id;
  }
  return nullptr;
}

bool CulpritLedger::Alive(uint32_t tgid) {
  if (auto it = names_.find(tgid); it != names_.end() && it->second.live) {
    return true;
  }
  auto [it, fresh] = asked_.try_emplace(tgid, false);
  if (fresh) it->second = alive_(tgid);
  return it->second;
}

bool CulpritLedger::Add(uint32_t victim, uint32_t culprit, uint64_t ns) {
  const WorkloadId* v = Lookup(victim);
  const WorkloadId* c = culprit ? Lookup(culprit) : nullptr;
  const bool gone = !Alive(victim) || (culprit && !Alive(culprit));
  if (!v) return gone;  // never named: nothing to export it under
  Key k{*v, c ? c->comm : kCulpritOther};
  (gone ? retired_ : live_)[k] += ns;
  return gone;
}

void CulpritLedger::Finish(std::map<WorkloadId, WorkloadStats>* out) {
  for (const auto* m : {&retired_, &live_}) {
    for (const auto& [k, ns] : *m) (*out)[k.first].rq_culprits[k.second] += ns;
  }
}

}  // namespace redline
