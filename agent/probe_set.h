// Loads and attaches the concerns `--probes` asks for, one BPF object
// each, for `redline run` and `redline top`: one that fails is reported and
// the others keep working.
#ifndef REDLINE_AGENT_PROBE_SET_H_
#define REDLINE_AGENT_PROBE_SET_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/flags.h"
#include "agent/l7_probe.h"
#include "agent/probe.h"
#include "agent/slo_engine.h"
#include "agent/store.h"
#include "agent/syscall_aggregator.h"
#include "agent/syscalls_probe.h"

namespace redline {

struct ProbeSet {
  std::unique_ptr<SyscallsProbe> syscalls;
  std::vector<std::unique_ptr<Probe>> others;
  L7Probe* l7 = nullptr;              // owned by others
  Probes view;                        // what the store reads
  std::vector<std::string> warnings;  // programs or concerns that failed

  // Detaches everything: the host stops paying for tracing at once.
  void Detach();
};

// Fails (with the first reason) only when no program at all attached.
// SLO thresholds, when given, are set before anything attaches.
absl::StatusOr<std::unique_ptr<ProbeSet>> LoadProbes(
    const Options& opts, const AggregatorOptions& naming,
    const SloSlots* slo_slots);

}  // namespace redline

#endif  // REDLINE_AGENT_PROBE_SET_H_
