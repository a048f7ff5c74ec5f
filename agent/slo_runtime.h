// SLOs in `redline run`: the file given with --slo-config, its thresholds
// in the kernel, its counts exported at scrape, reloaded on SIGHUP.
#ifndef REDLINE_AGENT_SLO_RUNTIME_H_
#define REDLINE_AGENT_SLO_RUNTIME_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/l7_probe.h"
#include "agent/slo_config.h"
#include "agent/slo_engine.h"
#include "agent/syscalls_probe.h"
#include "exporters/metric_family.h"

namespace redline {

// Reads and plans an SLO file: errors name the file, line and field.
absl::StatusOr<std::pair<SloConfig, SloSlots>> LoadSloPlan(
    const std::string& path, const SloSlots& prev);

class SloRuntime : public prom::Collectable {
 public:
  // cfg and slots from LoadSloPlan; the probes (either may be null) must
  // have their thresholds set before they attach (ApplyThresholds), so
  // every event they count is measured against them.
  SloRuntime(std::string path, SloConfig cfg, SloSlots slots,
             SyscallsProbe* sys, L7Probe* l7);

  static void ApplyThresholds(const SloSlots& slots, SyscallsProbe* sys,
                              L7Probe* l7);

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
  SyscallsProbe* sys_;
  L7Probe* l7_;
  std::mutex mu_;
  SloSlots slots_;
  SloEngine engine_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_SLO_RUNTIME_H_
