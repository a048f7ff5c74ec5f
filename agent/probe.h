// A concern's BPF object (sched, block, tcp): loaded, attached and read on
// its own, so one that fails on a kernel does not take down the others.
#ifndef REDLINE_AGENT_PROBE_H_
#define REDLINE_AGENT_PROBE_H_

#include <vector>

#include "absl/status/status.h"
#include "agent/model.h"

namespace redline {

class Probe {
 public:
  virtual ~Probe() = default;
  // Attaches every program; failures are reported in programs().
  virtual absl::Status Attach() = 0;
  virtual void Detach() = 0;
  // Adds this concern's totals to `snap` (workloads, disks...).
  virtual absl::Status ReadInto(Snapshot* snap) = 0;
  virtual std::vector<ProgramStatus> programs() const = 0;
  virtual std::vector<MapStatus> maps() const = 0;
};

}  // namespace redline

#endif  // REDLINE_AGENT_PROBE_H_
