// SLO event counting in the agent: which kernel slot holds each latency
// threshold, and per SLO the good and bad events of the workloads its
// selector matches, from the cumulative counts of each snapshot. Also the
// agent's own short-window burn rates and budget since start. Pure logic:
// no libbpf, unit-tested with synthetic snapshots.
#ifndef REDLINE_AGENT_SLO_SLO_ENGINE_H_
#define REDLINE_AGENT_SLO_SLO_ENGINE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/model/model.h"
#include "agent/slo/slo_config.h"
#include "exporters/metric_family.h"

namespace redline {

// Gives every distinct latency threshold of cfg a slot. A threshold that
// `prev` already holds keeps its slot, so a reload leaves unchanged SLOs'
// counting untouched. Fails with more than kSloSlots thresholds per kind.
absl::StatusOr<SloSlots> PlanSloSlots(const SloConfig& cfg,
                                      const SloSlots& prev);

// True when the SLO's selector matches the workload's labels.
bool SelectorMatches(const Slo& slo, const WorkloadId& id);

class SloEngine {
 public:
  // Applies cfg. SLOs whose counting (selector, SLI, threshold, syscalls,
  // errnos, role) is unchanged keep their counts and history; new or
  // changed ones start from the next Update (whose counts so far are
  // their baseline) unless `from_zero` (a fresh start: the kernel's maps
  // are empty, so everything counts).
  void Configure(const SloConfig& cfg, const SloSlots& slots, bool from_zero);

  // Folds in a snapshot read `now_s` seconds into a monotonic clock.
  void Update(const Snapshot& snap, double now_s);

  // Burn rates on the snapshot: per SLO, and on each workload its SLOs
  // match, the worst 5-minute one (for `redline top`).
  void Annotate(Snapshot* snap) const;

  // redline_slo_* families, read at scrape time.
  std::vector<prom::MetricFamily> Families() const;

  struct Totals {
    uint64_t good = 0, bad = 0;
  };
  // For tests and `redline top`: totals by SLO name.
  std::map<std::string, Totals> totals() const;
  // Burn rate over the last window_s seconds of the agent's history.
  double BurnRate(const std::string& slo, double window_s) const;

 private:
  struct Sample {
    double t;
    uint64_t good, bad;
  };
  struct State {
    Slo slo;
    std::string counting_key;
    int slot = -1;  // latency kinds
    bool baseline_pending = false;
    std::map<WorkloadId, std::pair<uint64_t, uint64_t>> last;  // good, total
    Totals totals;
    std::deque<Sample> history;
  };

  static std::pair<uint64_t, uint64_t> Measure(const State& st,
                                               const WorkloadStats& ws);
  double BurnRateLocked(const State& st, double window_s) const;

  mutable std::mutex mu_;
  std::vector<State> states_;
  double now_s_ = 0;
};

}  // namespace redline

#endif  // REDLINE_AGENT_SLO_SLO_ENGINE_H_
