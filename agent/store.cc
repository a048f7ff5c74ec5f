#include "agent/store.h"

#include <ctime>

#include "agent/logging.h"

namespace redline {

Store::Store(SyscallsProbe* probe, AggregatorOptions opts)
    : probe_(probe), agg_(opts), snap_(std::make_shared<Snapshot>()) {}

std::shared_ptr<const Snapshot> Store::GetFresh() {
  const auto arrival = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> l(mu_);
  if (taken_started_ < arrival) RefreshLocked();
  return snap_;
}

std::shared_ptr<const Snapshot> Store::Latest() {
  std::lock_guard<std::mutex> l(mu_);
  return snap_;
}

void Store::Refresh() {
  std::lock_guard<std::mutex> l(mu_);
  RefreshLocked();
}

void Store::RefreshLocked() {
  taken_started_ = std::chrono::steady_clock::now();
  auto snap = std::make_shared<Snapshot>();
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snap->taken_unix_ns = ts.tv_sec * 1000000000LL + ts.tv_nsec;
  if (probe_ != nullptr) {
    auto raw = probe_->Read();
    if (!raw.ok()) {
      // Keep serving the previous counts rather than dropping to zero.
      Log(LogLevel::kWarn, "refresh failed: ", raw.status().message());
      return;
    }
    std::vector<ProcKey> freed = agg_.Aggregate(*raw, &snap->workloads);
    probe_->Free(freed, *raw);
    snap->live_processes = raw->procs.size() - freed.size();
    snap->programs = probe_->programs();
    snap->maps = probe_->maps();
    for (MapStatus& m : snap->maps) {
      if (m.name == "sys_stats") m.entries = raw->stats.size();
      if (m.name == "sys_errors") m.entries = raw->errors.size();
      if (m.name == "procs") m.entries = raw->procs.size();
    }
  }
  snap_ = std::move(snap);
}

}  // namespace redline
