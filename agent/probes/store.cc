#include "agent/probes/store.h"

#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <ctime>

#include "agent/base/logging.h"
#include "agent/model/pressure.h"
#include "agent/probes/bpf_util.h"

namespace redline {

Store::Store(Probes probes)
    : probes_(std::move(probes)), snap_(std::make_shared<Snapshot>()) {
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

bool Store::RefreshIfPressed() {
  std::lock_guard<std::mutex> l(mu_);
  const auto now = std::chrono::steady_clock::now();
  const std::chrono::steady_clock::duration spacing =
      std::max<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(100), 4 * took_);
  if (now - taken_started_ < spacing) return false;
  for (Probe* p : probes_.probes) {
    if (p->Pressed()) {
      ++costs_[p->name()].early;
      RefreshLocked();
      return true;
    }
  }
  return false;
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
  // Each concern is read on its own: one that fails keeps the others, and
  // its own last counts.
  auto timed = [this](const char* concern, const auto& read) {
    const auto t0 = std::chrono::steady_clock::now();
    read();
    ReadCost& c = costs_[concern];
    ++c.reads;
    c.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
  };
  for (Probe* p : probes_.probes) {
    timed(p->name(), [&] {
      if (absl::Status st = p->ReadInto(snap.get()); !st.ok()) {
        Log(LogLevel::kWarn, p->name(), " read failed: ", st.message());
        p->CarryForward(*snap_, snap.get());
      }
      for (auto& s : p->programs()) snap->programs.push_back(s);
      for (auto& m : p->maps()) snap->maps.push_back(m);
    });
  }
  for (const ProgramStatus& f : probes_.failed) snap->programs.push_back(f);
  timed("programs", [&] { ReadProgramStats(&snap->programs); });
  if (!probes_.pressure_dir.empty()) {
    timed("pressure",
          [&] { snap->pressure = ReadPressure(probes_.pressure_dir); });
  }
  snap->read_costs = costs_;
  if (observer_) observer_(snap.get());
  snap_ = std::move(snap);
  took_ = std::chrono::steady_clock::now() - taken_started_;
}

}  // namespace redline
