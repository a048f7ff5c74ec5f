#include "agent/syscall_aggregator.h"

#include <algorithm>

namespace redline {

void SyscallStats::Add(const SyscallStats& o) {
  calls += o.calls;
  errors += o.errors;
  sum_ns += o.sum_ns;
  for (size_t i = 0; i < hist.size(); ++i) hist[i] += o.hist[i];
  for (const auto& [err, n] : o.errnos) errnos[err] += n;
}

WorkloadId SyscallAggregator::IdFor(const ProcRecord* p, uint32_t tgid) const {
  WorkloadId id;
  // A stats record without its process record means the process map was
  // full when it started; keep its counts, under an explicit name.
  id.comm = p != nullptr ? p->comm : "[unknown]";
  if (opts_.pid_labels) id.pid = tgid;
  return id;
}

std::vector<ProcKey> SyscallAggregator::Aggregate(
    const RawSyscallData& raw, std::map<WorkloadId, WorkloadStats>* out) {
  // Series of pid-labelled incarnations exported last time end now.
  for (const WorkloadId& id : expire_after_export_) retired_.erase(id);
  expire_after_export_.clear();

  std::map<ProcKey, const ProcRecord*> procs;
  for (const ProcRecord& p : raw.procs) procs[p.key] = &p;

  std::map<WorkloadId, WorkloadStats> fresh;  // this read's exited procs
  auto target_for = [&](const ProcKey& k) -> WorkloadStats& {
    auto it = procs.find(k);
    const ProcRecord* p = it == procs.end() ? nullptr : it->second;
    WorkloadId id = IdFor(p, k.tgid);
    return (p != nullptr && p->exited) ? fresh[id] : (*out)[id];
  };

  for (const SyscallRecord& r : raw.stats) {
    target_for(r.proc).syscalls[r.nr].Add(r.stats);
  }
  for (const ErrnoRecord& e : raw.errors) {
    target_for(e.proc).syscalls[e.nr].errnos[e.err] += e.count;
  }

  std::vector<ProcKey> freed;
  for (const ProcRecord& p : raw.procs) {
    if (p.exited) freed.push_back(p.key);
  }
  for (auto& [id, ws] : fresh) {
    WorkloadStats& r = retired_[id];
    for (const auto& [nr, s] : ws.syscalls) r.syscalls[nr].Add(s);
    if (opts_.pid_labels) expire_after_export_.push_back(id);
  }
  for (const auto& [id, ws] : retired_) {
    WorkloadStats& o = (*out)[id];
    for (const auto& [nr, s] : ws.syscalls) o.syscalls[nr].Add(s);
  }
  return freed;
}

}  // namespace redline
