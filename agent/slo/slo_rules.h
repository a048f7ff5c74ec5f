// `redline rules`: Prometheus recording rules (error ratio per window) and
// multi-window, multi-burn-rate alerts (Google SRE workbook, ch. 5) for the
// SLOs of a config, over redline_slo_events_total{slo,outcome}.
#ifndef REDLINE_AGENT_SLO_SLO_RULES_H_
#define REDLINE_AGENT_SLO_SLO_RULES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "agent/slo/slo_config.h"

namespace redline {

enum class RulesFormat {
  kPrometheus,          // a rule file for rule_files:
  kPrometheusOperator,  // a monitoring.coreos.com/v1 PrometheusRule
};

inline constexpr char kFastBurnAlert[] = "RedlineSLOFastBurn";  // page
inline constexpr char kSlowBurnAlert[] = "RedlineSLOSlowBurn";  // ticket

// Error-ratio windows every SLO records (dashboards use them too), plus
// those its alert windows need.
std::vector<int64_t> RecordedWindows(const Slo& slo);

// Name of the recording rule for a window: redline_slo:error_ratio:rate5m.
std::string ErrorRatioRecord(int64_t window_s);

std::string GenerateRules(const SloConfig& cfg, RulesFormat format);

}  // namespace redline

#endif  // REDLINE_AGENT_SLO_SLO_RULES_H_
