// Which syscalls keep a duration histogram (--syscall-histograms): every one
// (the default), the ones an operator names, or each workload's top N by
// time. A workload's other histograms are summed into its
// syscall="[other]" histogram, so the histogram counts of a workload still
// add up to its redline_syscalls_total. The counters are never affected.
//
// Histograms are most of what a host exports (a label set each, or its
// buckets + 3 text samples): this is the per-family priority the host
// series budget (exporters/series_budget.h) cannot express by itself.
//
// Folding has exporters/folding_governor.h's guarantees per workload: a
// [other] histogram never goes down, a top-N place is sticky (taken over
// only by a syscall with more than twice the time).
#ifndef REDLINE_AGENT_METRICS_HISTOGRAM_SELECTOR_H_
#define REDLINE_AGENT_METRICS_HISTOGRAM_SELECTOR_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/metrics/workload_governor.h"
#include "agent/model/model.h"
#include "exporters/folding_governor.h"

namespace redline {

struct SyscallHistogramPolicy {
  size_t top = 0;               // each workload's N syscalls by time
  std::vector<uint32_t> named;  // these syscalls (numbers)
  bool all() const { return top == 0 && named.empty(); }
};

// "all", "top:N" (1..64) or syscall names separated by commas.
absl::StatusOr<SyscallHistogramPolicy> ParseSyscallHistogramPolicy(
    absl::string_view spec);

class SyscallHistogramSelector {
 public:
  using Series = std::vector<std::pair<SyscallSeriesKey, SyscallStats>>;

  explicit SyscallHistogramSelector(SyscallHistogramPolicy policy)
      : policy_(std::move(policy)),
        named_(policy_.named.begin(), policy_.named.end()) {}

  // The histogram series of `calls` (WorkloadGovernor's view, one entry
  // per (workload, syscall)), in the order workloads first appear. Not
  // thread-safe.
  Series Apply(const Series& calls);

  // Label sets folded so far into a workload's [other].
  uint64_t folded_total() const { return folded_; }

 private:
  struct TimeTraits : SyscallStatsTraits {
    double Weight(const SyscallStats& s) const {
      return static_cast<double>(s.sum_ns);
    }
  };
  using Governor = prom::FoldingGovernor<uint32_t, SyscallStats, TimeTraits>;

  std::unique_ptr<Governor> NewGovernor() const;

  SyscallHistogramPolicy policy_;
  absl::flat_hash_set<uint32_t> named_;
  absl::flat_hash_map<WorkloadId, std::unique_ptr<Governor>> workloads_;
  uint64_t folded_ = 0;
};

}  // namespace redline

#endif  // REDLINE_AGENT_METRICS_HISTOGRAM_SELECTOR_H_
