// One concern's BPF object (syscalls, sched, block, tcp, l7): loaded,
// attached and read on its own, so one that fails on a kernel does not take
// down the others. Every concern implements this interface; nothing above
// probes/ names a concrete probe.
#ifndef REDLINE_AGENT_PROBES_PROBE_H_
#define REDLINE_AGENT_PROBES_PROBE_H_

#include <vector>

#include "absl/status/status.h"
#include "agent/model/model.h"

namespace redline {

class Probe {
 public:
  virtual ~Probe() = default;
  // The concern's name, as --probes spells it.
  virtual const char* name() const = 0;
  // Attaches every program; failures are reported in programs().
  virtual absl::Status Attach() = 0;
  virtual void Detach() = 0;
  // Adds this concern's totals to `snap` (workloads, disks...).
  virtual absl::Status ReadInto(Snapshot* snap) = 0;
  // After a failed ReadInto: carries this concern's part of the previous
  // snapshot into `snap`, so a scrape sees the last counts, not a drop to
  // zero. Concerns whose maps keep their totals need not.
  virtual void CarryForward(const Snapshot& prev, Snapshot* snap) {}
  // SLO latency thresholds (bpf/slo.h), live at once; concerns that time
  // no SLO events ignore them.
  virtual void SetSloThresholds(const SloSlots& slots) {}
  // True when a map of this concern fills faster than refreshes drain it
  // (agent/model/fill_watch.h): the Store reads early. Polled every ~100 ms
  // between refreshes, so it must not make a syscall.
  virtual bool Pressed() const { return false; }
  virtual std::vector<ProgramStatus> programs() const = 0;
  virtual std::vector<MapStatus> maps() const = 0;
};

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_PROBE_H_
