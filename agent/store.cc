#include "agent/store.h"

#include <sys/utsname.h>
#include <time.h>

#include <ctime>

#include "agent/bpf_util.h"
#include "agent/logging.h"
#include "agent/pressure.h"

namespace redline {

Store::Store(Probes probes, AggregatorOptions opts)
    : probes_(std::move(probes)),
      probe_(probes_.syscalls),
      agg_(opts),
      snap_(std::make_shared<Snapshot>()) {
  utsname u;
  if (uname(&u) == 0) {
    host_ = u.nodename;
    kernel_ = u.release;
  }
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  start_unix_ns_ = ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

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

void Store::Exclusive(const std::function<void()>& fn) {
  std::lock_guard<std::mutex> l(mu_);
  fn();
}

void Store::RefreshLocked() {
  taken_started_ = std::chrono::steady_clock::now();
  auto snap = std::make_shared<Snapshot>();
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snap->taken_unix_ns = ts.tv_sec * 1000000000LL + ts.tv_nsec;
  snap->host = host_;
  snap->kernel = kernel_;
  snap->agent_start_unix_ns = start_unix_ns_;
  ReadSyscalls(snap.get());
  // Each concern is read on its own: one that fails keeps the others.
  for (Probe* p : probes_.others) {
    if (absl::Status st = p->ReadInto(snap.get()); !st.ok()) {
      Log(LogLevel::kWarn, "read failed: ", st.message());
    }
    for (auto& s : p->programs()) snap->programs.push_back(s);
    for (auto& m : p->maps()) snap->maps.push_back(m);
  }
  for (const ProgramStatus& f : probes_.failed) snap->programs.push_back(f);
  ReadProgramStats(&snap->programs);
  if (!probes_.pressure_dir.empty()) {
    snap->pressure = ReadPressure(probes_.pressure_dir);
  }
  if (observer_) observer_(snap.get());
  snap_ = std::move(snap);
}

void Store::ReadSyscalls(Snapshot* snap) {
  if (probe_ == nullptr) return;
  const auto t0 = std::chrono::steady_clock::now();
  auto res = probe_->ReadInto(&agg_, &snap->workloads);
  const std::chrono::duration<double, std::milli> took =
      std::chrono::steady_clock::now() - t0;
  snap->programs = probe_->programs();
  snap->maps = probe_->maps();
  if (!res.ok()) {
    // Keep serving the previous counts rather than dropping to zero.
    Log(LogLevel::kWarn, "syscalls read failed: ", res.status().message());
    for (const auto& [id, ws] : snap_->workloads) {
      if (!ws.syscalls.empty()) snap->workloads[id].syscalls = ws.syscalls;
    }
    snap->live_processes = snap_->live_processes;
    return;
  }
  snap->live_processes = res->live_processes;
  snap->read_seconds = took.count() / 1e3;
  Log(LogLevel::kDebug, "map read ", took.count(), " ms: ", res->procs,
      " processes, ", res->stats_entries, " syscall entries, ",
      res->errno_entries, " errno entries");
  for (MapStatus& m : snap->maps) {
    if (m.name == "sys_stats") {
      m.entries = res->stats_entries;
      m.evictions = probe_->spilled_total();
    }
    if (m.name == "sys_errors") m.entries = res->errno_entries;
    if (m.name == "procs") m.entries = res->procs;
  }
}

}  // namespace redline
