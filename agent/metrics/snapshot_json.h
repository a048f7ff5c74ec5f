// The agent's cumulative snapshot as JSON: served by `redline run` at
// /api/v1/snapshot and read back by `redline top --connect`, so the
// terminal view works against a running agent (a DaemonSet pod through a
// port-forward) without loading programs twice. Counters are cumulative;
// clients take rates between two snapshots.
#ifndef REDLINE_AGENT_METRICS_SNAPSHOT_JSON_H_
#define REDLINE_AGENT_METRICS_SNAPSHOT_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "agent/model/model.h"

namespace redline {

inline constexpr char kSnapshotPath[] = "/api/v1/snapshot";
inline constexpr int kSnapshotFormat = 1;  // bumped on incompatible change

std::string SnapshotToJson(const Snapshot& snap);
absl::StatusOr<Snapshot> SnapshotFromJson(const std::string& text);

}  // namespace redline

#endif  // REDLINE_AGENT_METRICS_SNAPSHOT_JSON_H_
