// A budget for the series of a whole scrape (--max-series), on top of the
// per-family one (cardinality_governor.h): families are served in order of
// priority, and within a priority in proportion to their label sets; what a
// family cannot keep is folded into its [other] series with the guarantees
// of folding_governor.h (values never go down, admission is sticky, a
// series leaving the budget ends and its total moves into [other]).
//
// Counted in label sets: a histogram label set is one series to a
// Prometheus with native histograms (its classic form is buckets + 3
// samples). Gauges are not folded (they have no total to add up): they
// are a fixed cost taken from the budget first, as is what the caller says
// it adds after the budget (`reserved`). Each counter or histogram family
// keeps one place for its [other] series.
#ifndef REDLINE_EXPORTERS_SERIES_BUDGET_H_
#define REDLINE_EXPORTERS_SERIES_BUDGET_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "exporters/cardinality_governor.h"
#include "exporters/folding_governor.h"
#include "exporters/metric_family.h"

namespace redline::prom {

// 0 first. SLO events and request and CPU/syscall counts (what SLOs and
// RED need), then the other counters and the request histograms, then the
// other histograms.
int DefaultSeriesPriority(const MetricFamily& f);

// An operator's levels for named families (--series-priority), e.g.
// "redline_tcp_retransmits_total=0,redline_syscall_duration_seconds=3":
// family=level pairs, levels 0 (first) to 9; families not named keep
// DefaultSeriesPriority's 0-2.
absl::StatusOr<std::map<std::string, int>> ParseSeriesPriorities(
    absl::string_view spec);
std::function<int(const MetricFamily&)> SeriesPriorityWith(
    std::map<std::string, int> levels);

class SeriesBudget {
 public:
  using Priority = std::function<int(const MetricFamily&)>;

  explicit SeriesBudget(size_t total, Priority priority = DefaultSeriesPriority)
      : total_(total), priority_(std::move(priority)) {}

  // Folds `fams` in place so that their label sets plus `reserved` are at
  // most the budget (gauges alone over it: the gauges, nothing else).
  // Label sets newly folded, per family, are added to *folded. Not
  // thread-safe.
  void Apply(std::vector<MetricFamily>* fams, size_t reserved,
             std::map<std::string, uint64_t>* folded);

  size_t total() const { return total_; }

 private:
  using Governor =
      FoldingGovernor<std::string, ClientMetric, ClientMetricTraits>;
  size_t total_;
  Priority priority_;
  std::map<std::string, std::unique_ptr<Governor>> governors_;
  // Each family's label names with [other] values, from its first series.
  std::map<std::string, std::vector<Label>> other_labels_;
};

// How many of `demand` (label sets per family, by priority level) each
// family keeps within `avail`: whole levels first, in priority order; the
// first level that does not fit shares what is left in proportion to its
// families' demand (remainders to the largest); later levels keep none.
// Pure: exposed for its unit test.
std::vector<size_t> AllocateSeries(const std::vector<int>& priority,
                                   const std::vector<size_t>& demand,
                                   size_t avail);

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_SERIES_BUDGET_H_
