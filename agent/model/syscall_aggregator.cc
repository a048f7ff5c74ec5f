#include "agent/model/syscall_aggregator.h"

#include <algorithm>
#include <utility>

namespace redline {

void SyscallStats::Add(const SyscallStats& o) {
  calls += o.calls;
  errors += o.errors;
  sum_ns += o.sum_ns;
  for (size_t i = 0; i < hist.size(); ++i) hist[i] += o.hist[i];
  for (size_t i = 0; i < within.size(); ++i) within[i] += o.within[i];
  for (const auto& [err, n] : o.errnos) errnos[err] += n;
}

void SyscallAggregator::Begin(const std::vector<ProcRecord>& procs,
                              uint64_t now_ns) {
  // Series of pid-labelled incarnations exported last time end now.
  for (const WorkloadId& id : expire_after_export_) retired_.erase(id);
  expire_after_export_.clear();
  // clear() keeps a flat_hash_map's buckets: after a fork storm they would
  // pin the storm's peak (hundreds of bytes per slot) for good.
  if (procs_.capacity() > 4 * procs.size() + 1024) {
    procs_ = absl::flat_hash_map<ProcKey, Proc>();
  } else {
    procs_.clear();
  }
  live_.clear();
  fresh_.clear();
  procs_.reserve(procs.size());

  std::map<ProcKey, Pinned> pins;
  held_pins_.clear();
  for (const ProcRecord& p : procs) {
    auto it = pinned_.find(p.key);
    Pinned pin;
    bool held = false;
    if (it != pinned_.end()) {
      pin = std::move(it->second);
    } else {
      pin.comm = p.comm;
      // gen is the incarnation's creation time; a gen from the future
      // (clock read before the kernel stamped it) is young too.
      held = !p.exited && now_ns != 0 &&
             (p.key.gen > now_ns || now_ns - p.key.gen < kSettleNs);
    }
    WorkloadId id = IdFor(p, &pin);
    Proc& proc = procs_[p.key];
    proc.exited = p.exited;
    proc.held = held;
    if (held) {
      held_pins_.emplace(p.key, std::move(pin));
    } else if (!p.exited) {
      pins.emplace(p.key, std::move(pin));
    }
    // A held incarnation makes no series yet, not even an empty one.
    if (!held) proc.target = p.exited ? &fresh_[id] : &live_[id];
    proc.id = std::move(id);
  }
  // Only incarnations still present keep a pin: memory follows live ones.
  pinned_ = std::move(pins);
}

WorkloadId SyscallAggregator::IdFor(const ProcRecord& p, Pinned* pin) {
  WorkloadId id;
  id.comm = pin->comm;
  if (opts_.pid_labels) id.pid = p.key.tgid;
  IdentityResolver* r = opts_.resolver;
  if (r == nullptr) return id;
  if (!pin->cgroup_resolved) {
    // Unresolved (cgroup gone, or walk rate-limited): try again next read.
    pin->cgroup_resolved = r->Cgroup(p.cgroup_id, &pin->cgroup);
  }
  const IdentityLabels& want = opts_.labels;
  const CgroupIdentity& cg = pin->cgroup;
  if (want.container_id) id.container_id = cg.container_id;
  if (want.pod_uid) id.pod_uid = cg.pod_uid;
  if (want.systemd_unit) id.systemd_unit = cg.systemd_unit;
  PodNames names;
  if (want.kubernetes && r->Pod(cg.pod_uid, cg.container_id, &names)) {
    id.namespace_name = names.namespace_name;
    id.pod = names.pod;
    id.container = names.container;
    id.workload = names.workload;
  }
  return id;
}

SyscallAggregator::Proc* SyscallAggregator::Find(const ProcKey& k) {
  auto it = procs_.find(k);
  if (it != procs_.end()) return &it->second;
  // A stats record without its process record means the process map was
  // full when it started; keep its counts, under an explicit name.
  WorkloadId id;
  id.comm = "[unknown]";
  if (opts_.pid_labels) id.pid = k.tgid;
  Proc& p = procs_[k];
  p.target = &live_[id];
  p.id = std::move(id);
  return &p;
}

bool SyscallAggregator::AddStats(const ProcKey& proc, uint32_t nr,
                                 const SyscallStats& s) {
  Proc* p = Find(proc);
  if (!p->held) p->target->syscalls[nr].Add(s);
  return p->exited;
}

bool SyscallAggregator::AddErrno(const ErrnoRecord& e) {
  Proc* p = Find(e.proc);
  if (!p->held) p->target->syscalls[e.nr].errnos[e.err] += e.count;
  return p->exited;
}

std::vector<ProcKey> SyscallAggregator::Finish(
    std::map<WorkloadId, WorkloadStats>* out) {
  std::vector<ProcKey> freed;
  for (const auto& [key, p] : procs_) {
    if (p.exited) freed.push_back(key);
  }
  std::sort(freed.begin(), freed.end());
  for (auto& [id, ws] : fresh_) {
    WorkloadStats& r = retired_[id];
    for (const auto& [nr, s] : ws.syscalls) r.syscalls[nr].Add(s);
    if (opts_.pid_labels) expire_after_export_.push_back(id);
  }
  *out = std::move(live_);
  for (const auto& [id, ws] : retired_) {
    WorkloadStats& o = (*out)[id];
    for (const auto& [nr, s] : ws.syscalls) o.syscalls[nr].Add(s);
  }
  live_.clear();
  fresh_.clear();
  // procs_ stays until the next Begin: Retire needs the workload ids (its
  // target pointers are stale now and never used again).
  return freed;
}

void SyscallAggregator::Retire(const ProcKey& proc, uint32_t nr,
                               const SyscallStats& s) {
  auto it = procs_.find(proc);
  WorkloadId id;
  if (it != procs_.end()) {
    id = it->second.id;
    // Counts of a held incarnation now leave the kernel under this name:
    // pin it, so that its later counts join the same series.
    auto held = held_pins_.find(proc);
    if (held != held_pins_.end()) {
      pinned_.insert(held_pins_.extract(held));
      it->second.held = false;
    }
  } else {
    id.comm = "[unknown]";
    if (opts_.pid_labels) id.pid = proc.tgid;
  }
  retired_[id].syscalls[nr].Add(s);
}

std::vector<ProcKey> SyscallAggregator::Aggregate(
    const RawSyscallData& raw, std::map<WorkloadId, WorkloadStats>* out) {
  Begin(raw.procs);
  for (const SyscallRecord& r : raw.stats) AddStats(r.proc, r.nr, r.stats);
  for (const ErrnoRecord& e : raw.errors) AddErrno(e);
  return Finish(out);
}

}  // namespace redline
