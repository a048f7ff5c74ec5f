// SLOs in `redline run`: the file given with --slo-config, its thresholds
// in the kernel, its counts exported at scrape, reloaded on SIGHUP.
#ifndef REDLINE_AGENT_SLO_SLO_RUNTIME_H_
#define REDLINE_AGENT_SLO_SLO_RUNTIME_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/probes/probe_set.h"
#include "agent/slo/slo_config.h"
#include "agent/slo/slo_engine.h"
#include "exporters/metric_family.h"

namespace redline {

// Reads and plans an SLO file: errors name the file, line and field.
absl::StatusOr<std::pair<SloConfig, SloSlots>> LoadSloPlan(
    const std::string& path, const SloSlots& prev);

class SloRuntime : public prom::Collectable {
 public:
  // cfg and slots from LoadSloPlan; the probes must have had these
  // thresholds set before they attached (LoadProbes does), so every event
  // they count is measured against them. `probes` outlives this.
  SloRuntime(std::string path, SloConfig cfg, SloSlots slots, ProbeSet* probes);

  // Every snapshot the store reads: counts, then marks each workload's
  // worst burn rate and the SLOs' burn rates on it.
  void OnSnapshot(Snapshot* snap);
  // SIGHUP: reads the file again. On error the current SLOs stay.
  // Unchanged SLOs keep counting; the caller should read the maps soon
  // (new SLOs start from that read).
  absl::Status Reload();

  std::vector<prom::MetricFamily> Collect() const override {
    return engine_.Families();
  }
  const SloEngine& engine() const { return engine_; }

 private:
  void Warn(const SloConfig& cfg) const;

  std::string path_;
  ProbeSet* probes_;
  std::mutex mu_;
  SloSlots slots_;
  SloEngine engine_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_SLO_SLO_RUNTIME_H_
