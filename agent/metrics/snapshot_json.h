// The agent's cumulative snapshot as JSON: served by `redline run` at
// /api/v1/snapshot and read back by `redline top --connect`, so the
// terminal view works against a running agent (a DaemonSet pod through a
// port-forward) without loading programs twice. Counters are cumulative;
// clients take rates between two snapshots.
#ifndef REDLINE_AGENT_METRICS_SNAPSHOT_JSON_H_
#define REDLINE_AGENT_METRICS_SNAPSHOT_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "agent/model/history.h"
#include "agent/model/model.h"

namespace redline {

inline constexpr char kSnapshotPath[] = "/api/v1/snapshot";
inline constexpr int kSnapshotFormat = 1;  // bumped on incompatible change

std::string SnapshotToJson(const Snapshot& snap);
absl::StatusOr<Snapshot> SnapshotFromJson(const std::string& text);

// /api/v1/history (model/history_time.h has the path and the query):
// {"format", "interval_s" (the agent's refresh), "entries", "oldest_unix_ns",
// "newest_unix_ns" (what it keeps), "truncated", "snapshots": [the
// snapshot format above, oldest first; folded as model/history.h says]}.
std::string HistoryToJson(const HistoryRange& r, double interval_s);
absl::StatusOr<HistoryRange> HistoryFromJson(const std::string& text,
                                             double* interval_s);

}  // namespace redline

#endif  // REDLINE_AGENT_METRICS_SNAPSHOT_JSON_H_
