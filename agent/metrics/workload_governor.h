// The cardinality budget applied to per-workload syscall series, on model
// keys (no label strings are built for series that end up folded).
// (workload, syscall) pairs and (workload, syscall, errno) triples are
// governed separately: each family has at most `budget` label sets plus one
// [other] series (see exporters/folding_governor.h for the guarantees).
#ifndef REDLINE_AGENT_METRICS_WORKLOAD_GOVERNOR_H_
#define REDLINE_AGENT_METRICS_WORKLOAD_GOVERNOR_H_

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "agent/model/model.h"
#include "exporters/folding_governor.h"

namespace redline {

// Syscall number and errno of the [other] series.
inline constexpr uint32_t kOtherSyscall = 0xFFFFFFFF;
inline constexpr uint32_t kOtherErrno = 0xFFFFFFFF;
WorkloadId OtherWorkload();

struct SyscallSeriesKey {
  WorkloadId id;
  uint32_t nr = 0;
  uint32_t err = 0;  // errno triples only
  bool operator==(const SyscallSeriesKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const SyscallSeriesKey& k) {
    return H::combine(std::move(h), k.id, k.nr, k.err);
  }
};

// What the syscall families export after folding.
struct SyscallSeriesView {
  std::vector<std::pair<SyscallSeriesKey, SyscallStats>> calls;  // no errnos
  std::vector<std::pair<SyscallSeriesKey, uint64_t>> errors;
};

struct SyscallStatsTraits {
  void Add(SyscallStats* a, const SyscallStats& b) const;
  void Sub(SyscallStats* a, const SyscallStats& b) const;
  bool IsZero(const SyscallStats& s) const { return s.calls == 0; }
  double Weight(const SyscallStats& s) const { return s.calls; }
};
struct CountTraits {
  void Add(uint64_t* a, uint64_t b) const { *a += b; }
  void Sub(uint64_t* a, uint64_t b) const { *a -= std::min(*a, b); }
  bool IsZero(uint64_t v) const { return v == 0; }
  double Weight(uint64_t v) const { return static_cast<double>(v); }
};

class WorkloadGovernor {
 public:
  explicit WorkloadGovernor(size_t budget) : calls_(budget), errors_(budget) {}

  // Not thread-safe: one caller at a time.
  SyscallSeriesView Apply(const std::map<WorkloadId, WorkloadStats>& w);

  uint64_t folded_calls_total() const { return folded_calls_; }
  uint64_t folded_errors_total() const { return folded_errors_; }

 private:
  prom::FoldingGovernor<SyscallSeriesKey, SyscallStats, SyscallStatsTraits>
      calls_;
  prom::FoldingGovernor<SyscallSeriesKey, uint64_t, CountTraits> errors_;
  uint64_t folded_calls_ = 0;
  uint64_t folded_errors_ = 0;
};

}  // namespace redline

#endif  // REDLINE_AGENT_METRICS_WORKLOAD_GOVERNOR_H_
