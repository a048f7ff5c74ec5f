// `redline top`'s interactive screen (ncurses), over any snapshot source.
#ifndef REDLINE_AGENT_TOP_TOP_TUI_H_
#define REDLINE_AGENT_TOP_TOP_TUI_H_

#include <string>

#include "absl/status/statusor.h"
#include "agent/model/model.h"
#include "agent/top/top_model.h"

namespace redline {

// An interval of a running agent's history (/api/v1/history): the entry
// at or just before the time asked and the one before it.
struct HistoryInterval {
  Snapshot prev, cur;
  double agent_interval_s = 0;  // its --refresh-interval
};

// Where snapshots come from: programs loaded here, or a running agent.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual absl::StatusOr<Snapshot> Next() = 0;
  // The agent's interval at unix_ns; only a running agent keeps history.
  virtual absl::StatusOr<HistoryInterval> At(int64_t unix_ns) {
    (void)unix_ns;
    return absl::FailedPreconditionError(
        "no history here: rewinding reads a running agent's, use "
        "--connect=URL");
  }
};

// What the screen starts with (the flags -d and --filter).
struct TopScreenOptions {
  double delay_s = 2;
  std::string filter;
  bool history = false;  // the source keeps history: [ ] t G L rewind
};

// Runs until q, SIGINT or SIGTERM; the terminal is restored on every way
// out. Returns the exit status (2 with one line on stderr on error).
int RunTopScreen(SnapshotSource* source, const TopScreenOptions& opts,
                 TopColumn sort, TopGrouping group);

}  // namespace redline

#endif  // REDLINE_AGENT_TOP_TOP_TUI_H_
