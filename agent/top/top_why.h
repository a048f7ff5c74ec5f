// `redline top --why=NAME`: where the threads of one row spent the
// interval (on a CPU, waiting for one and behind whom, throttled, and
// blocked by reason), next to its request p99 and errors. Pure logic.
#ifndef REDLINE_AGENT_TOP_TOP_WHY_H_
#define REDLINE_AGENT_TOP_TOP_WHY_H_

#include <string>
#include <utility>
#include <vector>

#include "agent/model/model.h"
#include "agent/top/top_model.h"

namespace redline {

// Thread-seconds per second of the interval (2.0: two threads' worth).
struct WhyView {
  std::string name;
  bool found = false;  // a row of that name in the later snapshot
  double interval_s = 0;
  double cpu = 0, runqueue = 0;
  double steal = 0;  // on a CPU, not running: hypervisor steal, IRQ time
  std::vector<std::pair<std::string, double>> offcpu;  // reason, rate
  // Of the run-queue wait: the top culprits, by rate, then "[rest]".
  std::vector<std::pair<std::string, double>> culprits;
  double throttled = -1;  // its cgroups' quota; -1: no quota
  double total = 0;       // all of the above: the threads' wall time
  TopRow row;             // requests p99, 5xx, syscall errors
};

WhyView BuildWhyView(const Snapshot& prev, const Snapshot& cur, TopGrouping g,
                     const std::string& name);
// A bar of `width` cells (one letter per part: C cpu, H steal, Q run queue,
// and the reasons' initials), then one line per part.
std::string FormatWhyText(const WhyView& v, int width);
std::string FormatWhyJson(const WhyView& v);

}  // namespace redline

#endif  // REDLINE_AGENT_TOP_TOP_WHY_H_
