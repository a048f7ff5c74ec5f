// SLO definitions (--slo-config): which workloads, which SLI, what
// objective over what window, and how to alert on its error budget burn.
//
//   slos:
//     - name: checkout-availability
//       selector: {comm: nginx, namespace: shop, pod: {regex: "checkout-.*"}}
//       sli: {kind: http_availability}
//       objective: 99.9          # percent of events that must be good
//       window: 28d              # compliance window
//       alerting:                # optional; SRE workbook defaults
//         runbook_url: https://wiki/checkout
//         labels: {team: payments}
//         page: [{long: 1h, short: 5m, factor: 14.4}, ...]
//         ticket: [{long: 1d, short: 2h, factor: 3}, ...]
//
// Errors name the file, line, column and field; unknown keys are errors.
#ifndef REDLINE_AGENT_SLO_SLO_CONFIG_H_
#define REDLINE_AGENT_SLO_SLO_CONFIG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace redline {

enum class SliKind {
  // Requests of one protocol (RequestProtocols()), role and operations.
  kRequestAvailability,  // good: outcome not an error (HTTP: not 5xx)
  kRequestLatency,       // good: request duration <= threshold
  kSyscallLatency,       // good: duration of the listed syscalls <= threshold
  kSyscallErrors,        // good: the listed syscalls not failing (with errnos)
  kTcpRetransmits,       // good: segments not retransmitted
};

const char* SliKindName(SliKind k);

// One selector field: an exact value or a fully anchored regex.
struct Matcher {
  std::string text;
  bool regex = false;
  std::shared_ptr<const std::regex> re;  // when regex

  bool Matches(absl::string_view value) const;
};

// Multi-window burn-rate condition: the error ratio over both windows is
// above factor * (1 - objective).
struct BurnWindow {
  int64_t long_s = 0;
  int64_t short_s = 0;
  double factor = 0;
};

struct Slo {
  std::string name;
  // Keys: comm, container_id, pod_uid, systemd_unit, namespace, pod,
  // container, workload (the labels redline exports).
  std::map<std::string, Matcher> selector;
  SliKind kind = SliKind::kRequestAvailability;
  std::string kind_name;  // as configured: "http_latency", "request_latency"
  // Request kinds: the protocol (http_* kinds: "http"), the role (server
  // or client), the operations counted (empty: all) and, for availability,
  // the outcomes that are bad (empty: the protocol's errors).
  std::string protocol = "http";
  std::string role = "server";
  std::vector<std::string> operations;
  std::vector<std::string> bad_outcomes;
  uint64_t threshold_ns = 0;          // latency kinds
  std::vector<std::string> syscalls;  // syscall kinds
  std::vector<std::string> errnos;    // syscall_errors; empty: any errno
  double objective = 0;               // fraction, e.g. 0.999
  int64_t window_s = 28 * 86400;
  std::vector<BurnWindow> page, ticket;
  std::string description;  // what the SLO promises, in the alerts' text
  std::string runbook_url;
  std::map<std::string, std::string> labels;  // added to every alert
  int line = 0;                               // in the file, 1-based
};

struct SloConfig {
  std::vector<Slo> slos;
};

// The SRE workbook's multi-window, multi-burn-rate defaults.
std::vector<BurnWindow> DefaultPageWindows();
std::vector<BurnWindow> DefaultTicketWindows();

// Parses YAML text; `filename` prefixes every error ("slo.yaml:3:5: ...").
absl::StatusOr<SloConfig> ParseSloConfig(const std::string& text,
                                         const std::string& filename);
absl::StatusOr<SloConfig> LoadSloConfig(const std::string& path);

// "300ms", "10s", "1.5s", "5m", "1h", "28d", "1w" to nanoseconds.
absl::StatusOr<int64_t> ParseDurationNs(absl::string_view s);
// Seconds as Prometheus writes a range: "5m", "1h", "3d", "90s".
std::string PromDuration(int64_t seconds);

}  // namespace redline

#endif  // REDLINE_AGENT_SLO_SLO_CONFIG_H_
