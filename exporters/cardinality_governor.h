// Applies the cardinality budget (see folding_governor.h) to metric
// families: at most `budget` label sets per counter or histogram family,
// the rest folded into one series whose label values are all "[other]".
#ifndef REDLINE_EXPORTERS_CARDINALITY_GOVERNOR_H_
#define REDLINE_EXPORTERS_CARDINALITY_GOVERNOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "exporters/folding_governor.h"
#include "exporters/metric_family.h"

namespace redline::prom {

inline constexpr char kOtherLabelValue[] = "[other]";

// A label set as a map key: names and values, NUL-separated.
std::string LabelSetKey(const std::vector<Label>& labels);

// Sums counters or histograms (bucket by bucket) of one family.
struct ClientMetricTraits {
  MetricType type = MetricType::kCounter;
  void Add(ClientMetric* a, const ClientMetric& b) const;
  void Sub(ClientMetric* a, const ClientMetric& b) const;
  bool IsZero(const ClientMetric& m) const;
  double Weight(const ClientMetric& m) const;
};

class CardinalityGovernor {
 public:
  explicit CardinalityGovernor(size_t budget) : budget_(budget) {}

  // Applies the budget to `fam` in place (counters and histograms; gauges
  // are left alone: they have no total to fold). Not thread-safe.
  void Apply(MetricFamily* fam);

  // Records label sets folded by another governor (model-level folding).
  void CountFolded(const std::string& family, uint64_t n);

  // Label sets that went from exported (or new) to folded, per family.
  const std::map<std::string, uint64_t>& folded_total() const {
    return folded_total_;
  }
  // redline_series_folded_total as a family.
  MetricFamily FoldedFamily() const;

 private:
  using Governor = FoldingGovernor<std::string, ClientMetric,
                                   ClientMetricTraits>;
  size_t budget_;
  std::map<std::string, std::unique_ptr<Governor>> governors_;
  std::map<std::string, std::vector<Label>> other_labels_;
  std::map<std::string, uint64_t> folded_total_;
};

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_CARDINALITY_GOVERNOR_H_
