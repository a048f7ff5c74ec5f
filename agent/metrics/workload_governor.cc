#include "agent/metrics/workload_governor.h"

#include <algorithm>

namespace redline {

WorkloadId OtherWorkload() {
  WorkloadId id;
  id.comm = "[other]";
  return id;
}

void SyscallStatsTraits::Add(SyscallStats* a, const SyscallStats& b) const {
  a->calls += b.calls;
  a->errors += b.errors;
  a->sum_ns += b.sum_ns;
  for (size_t i = 0; i < a->hist.size(); ++i) a->hist[i] += b.hist[i];
}

// a -= b, clamped at zero (b is an earlier value of the same series).
void SyscallStatsTraits::Sub(SyscallStats* a, const SyscallStats& b) const {
  auto sub = [](uint64_t& x, uint64_t y) { x -= std::min(x, y); };
  sub(a->calls, b.calls);
  sub(a->errors, b.errors);
  sub(a->sum_ns, b.sum_ns);
  for (size_t i = 0; i < a->hist.size(); ++i) sub(a->hist[i], b.hist[i]);
}

SyscallSeriesView WorkloadGovernor::Apply(
    const std::map<WorkloadId, WorkloadStats>& w) {
  std::vector<std::pair<SyscallSeriesKey, SyscallStats>> calls;
  std::vector<std::pair<SyscallSeriesKey, uint64_t>> errors;
  for (const auto& [id, ws] : w) {
    for (const auto& [nr, s] : ws.syscalls) {
      SyscallStats c;
      c.calls = s.calls;
      c.errors = s.errors;
      c.sum_ns = s.sum_ns;
      c.hist = s.hist;
      calls.emplace_back(SyscallSeriesKey{id, nr, 0}, std::move(c));
      for (const auto& [err, n] : s.errnos) {
        errors.emplace_back(SyscallSeriesKey{id, nr, err}, n);
      }
    }
  }
  SyscallSeriesView view;
  auto c = calls_.Apply(std::move(calls));
  view.calls = std::move(c.kept);
  if (c.other) {
    view.calls.emplace_back(SyscallSeriesKey{OtherWorkload(), kOtherSyscall, 0},
                            std::move(*c.other));
  }
  folded_calls_ += c.newly_folded;
  auto e = errors_.Apply(std::move(errors));
  view.errors = std::move(e.kept);
  if (e.other) {
    view.errors.emplace_back(
        SyscallSeriesKey{OtherWorkload(), kOtherSyscall, kOtherErrno},
        *e.other);
  }
  folded_errors_ += e.newly_folded;
  return view;
}

}  // namespace redline
