// `redline top`'s interactive screen (ncurses), over any snapshot source.
#ifndef REDLINE_AGENT_TOP_TUI_H_
#define REDLINE_AGENT_TOP_TUI_H_

#include "absl/status/statusor.h"
#include "agent/flags.h"
#include "agent/model.h"
#include "agent/top_model.h"

namespace redline {

// Where snapshots come from: programs loaded here, or a running agent.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual absl::StatusOr<Snapshot> Next() = 0;
};

// Runs until q, SIGINT or SIGTERM; the terminal is restored on every way
// out. Returns the exit status (2 with one line on stderr on error).
int RunTopScreen(SnapshotSource* source, const Options& opts, TopColumn sort,
                 TopGrouping group);

}  // namespace redline

#endif  // REDLINE_AGENT_TOP_TUI_H_
