#include "agent/slo/slo_runtime.h"

#include <time.h>

#include "absl/strings/str_cat.h"
#include "agent/base/logging.h"

namespace redline {
namespace {

double MonotonicSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

}  // namespace

absl::StatusOr<std::pair<SloConfig, SloSlots>> LoadSloPlan(
    const std::string& path, const SloSlots& prev) {
  auto cfg = LoadSloConfig(path);
  if (!cfg.ok()) return cfg.status();
  auto slots = PlanSloSlots(*cfg, prev);
  if (!slots.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", slots.status().message()));
  }
  return std::make_pair(std::move(*cfg), std::move(*slots));
}

SloRuntime::SloRuntime(std::string path, SloConfig cfg, SloSlots slots,
                       ProbeSet* probes)
    : path_(std::move(path)), probes_(probes), slots_(std::move(slots)) {
  Warn(cfg);
  engine_.Configure(cfg, slots_, /*from_zero=*/true);
  Log(LogLevel::kInfo, path_, ": ", cfg.slos.size(), " SLOs");
}

void SloRuntime::Warn(const SloConfig& cfg) const {
  for (const Slo& s : cfg.slos) {
    const bool http = s.kind == SliKind::kRequestAvailability ||
                      s.kind == SliKind::kRequestLatency;
    const bool sys =
        s.kind == SliKind::kSyscallLatency || s.kind == SliKind::kSyscallErrors;
    if ((http && !probes_->Has("l7")) || (sys && !probes_->Has("syscalls"))) {
      Log(LogLevel::kWarn, "SLO ", s.name, ": the ", http ? "l7" : "syscalls",
          " probe is not running, so it counts no events");
    }
  }
}

void SloRuntime::OnSnapshot(Snapshot* snap) {
  engine_.Update(*snap, MonotonicSeconds());
  engine_.Annotate(snap);
}

absl::Status SloRuntime::Reload() {
  std::lock_guard<std::mutex> l(mu_);
  auto plan = LoadSloPlan(path_, slots_);
  if (!plan.ok()) return plan.status();
  auto& [cfg, slots] = *plan;
  Warn(cfg);
  // Thresholds first, then the engine: an SLO whose slot changed takes
  // its baseline at the next read, after the kernel counts the new way.
  probes_->SetSloThresholds(slots);
  engine_.Configure(cfg, slots, /*from_zero=*/false);
  slots_ = slots;
  Log(LogLevel::kInfo, path_, ": reloaded, ", cfg.slos.size(), " SLOs");
  return absl::OkStatus();
}

}  // namespace redline
