// Times as people and clients write them, for the history: `redline top
// --at` and /api/v1/history's from/to. Pure: "now" and the time zone are
// arguments, so tests pin them.
#ifndef REDLINE_AGENT_MODEL_HISTORY_TIME_H_
#define REDLINE_AGENT_MODEL_HISTORY_TIME_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace redline {

inline constexpr char kHistoryPath[] = "/api/v1/history";
// Snapshots per /api/v1/history response at most (each is a few hundred
// bytes per workload as JSON): a client pages with from/to.
inline constexpr size_t kHistoryMaxLimit = 30;

// Unix ns from any of: unix seconds ("1764558180", "1764558180.5"),
// RFC 3339 ("2026-12-01T14:03:00Z", "...+01:00"), a time of day today in
// `tz` ("14:03", "14:03:25"), or an offset back from now ("-5m", "-90s",
// "-1h30m"). The error names the forms.
absl::StatusOr<int64_t> ParseHistoryTime(absl::string_view text, absl::Time now,
                                         absl::TimeZone tz);

// --history=1h: how long the agent keeps; "0" turns it off. At most a day.
absl::StatusOr<absl::Duration> ParseHistoryKeep(absl::string_view text);

struct HistoryQuery {
  int64_t from_ns = 0;
  int64_t to_ns = 0;
  size_t limit = kHistoryMaxLimit;
};

// The query of /api/v1/history: from and to (default: everything kept),
// limit (1..kHistoryMaxLimit; the newest that many in range). Empty
// strings are absent parameters.
absl::StatusOr<HistoryQuery> ParseHistoryQuery(const std::string& from,
                                               const std::string& to,
                                               const std::string& limit,
                                               absl::Time now,
                                               absl::TimeZone tz);

// "14:03:05" in tz, for messages and the top header.
std::string FormatClock(int64_t unix_ns, absl::TimeZone tz);

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_HISTORY_TIME_H_
