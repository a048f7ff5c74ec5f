// SLO files are operator input: any bytes give a config or an error naming
// file:line, never a crash; a config that parses also generates rules.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/slo/slo_config.h"
#include "agent/slo/slo_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto cfg = redline::ParseSloConfig(text, "slo.yaml");
  if (!cfg.ok()) {
    const std::string msg(cfg.status().message());
    if (msg.rfind("slo.yaml", 0) != 0) __builtin_trap();  // names the file
    return 0;
  }
  (void)redline::GenerateRules(*cfg, redline::RulesFormat::kPrometheus);
  (void)redline::GenerateRules(*cfg, redline::RulesFormat::kPrometheusOperator);
  return 0;
}
