// `redline top`'s data model: one row per workload (or per container, pod
// or unit) with rates and percentiles over the interval between two
// cumulative snapshots, whichever source they came from. Pure logic.
#ifndef REDLINE_AGENT_TOP_TOP_MODEL_H_
#define REDLINE_AGENT_TOP_TOP_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "agent/model/model.h"

namespace redline {

enum class TopGrouping { kProcess, kContainer, kPod, kUnit };
const char* TopGroupingName(TopGrouping g);

// A value that is not measured (its probe is off, or no event happened)
// is negative: shown as "-".
struct TopRow {
  std::string name;  // comm, container, namespace/pod or unit
  WorkloadId id;     // the first workload of the group
  size_t members = 0;
  double cpu_pct = -1;   // of one CPU
  double rq_p99_s = -1;  // run-queue wait
  double syscalls_per_s = 0;
  double errors_per_s = 0;
  double syscall_p99_s = -1;
  double requests_per_s = 0;  // served and made
  double request_error_pct = -1;
  double request_p99_s = -1;  // served, else made
  double retrans_per_s = 0;
  double slo_burn = -1;  // worst 5m burn of the SLOs matching a member
};

struct TopSyscallRow {
  std::string name;
  double per_s = 0;
  double errors_per_s = 0;
  std::string top_errno;  // the most frequent errno in the interval
  // Errors per second by errno in the interval, the most frequent first.
  std::vector<std::pair<std::string, double>> errnos;
  double p50_s = -1, p99_s = -1, max_s = -1;
  Log2Hist hist{};  // the interval's distribution
};

struct TopView {
  std::string host, kernel;
  double agent_uptime_s = 0;
  std::string worst_slo;  // name of the SLO burning fastest (5m)
  double worst_slo_burn = -1;
  double interval_s = 0;
  double syscalls_per_s = 0;
  double cpu_pct = -1;  // all workloads, of one CPU
  uint64_t drops = 0;   // lost map updates, since start
  int programs_attached = 0;
  int programs = 0;
  std::vector<TopRow> rows;  // unsorted
};

// The row a workload falls in: comm (comm/pid with --pid-labels),
// container, namespace/pod, or systemd unit.
std::string TopGroupName(const WorkloadId& id, TopGrouping g);

// Rows over the interval from prev to cur.
TopView BuildTopView(const Snapshot& prev, const Snapshot& cur, TopGrouping g);

// Per-syscall table of the group named `name` over the interval.
std::vector<TopSyscallRow> BuildSyscallTable(const Snapshot& prev,
                                             const Snapshot& cur, TopGrouping g,
                                             const std::string& name);

// Columns rows can be sorted by, in display order.
enum class TopColumn {
  kName,
  kCpu,
  kRqP99,
  kSyscalls,
  kErrors,
  kSyscallP99,
  kRequests,
  kRequestErrors,
  kRequestP99,
  kRetrans,
  kSloBurn
};
inline constexpr int kTopColumns = 11;
const char* TopColumnTitle(TopColumn c);
// Sorts descending (ascending for the name).
void SortTopRows(std::vector<TopRow>* rows, TopColumn by);

// "4.2ms", "64us", "1.3s"; "-" when negative.
std::string FormatSeconds(double s);
// The pieces of a report, for the batch text and the interactive screen.
int TopNameWidth(int width);  // NAME column width for a terminal width
std::string FormatTopSummary(const TopView& v, TopGrouping g);
std::string FormatTopColumns(int name_w);
std::string FormatTopRow(const TopRow& r, int name_w);
// The row's cells, NAME first, each padded to its column (joined by one
// space they are FormatTopRow).
std::vector<std::string> FormatTopCells(const TopRow& r, int name_w);
// 0 fine, 1 worth a look (yellow), 2 bad (red): CPU% >= 90, run-queue
// p99 >= 10 / 50 ms, 5xx >= 1 / 5 %, any retransmit, SLO burn >= 1 / 6x.
int TopCellSeverity(const TopRow& r, TopColumn c);
std::string FormatRate(double per_s);  // "518.0k"
// "93.5", "1600" (at most 5 characters); "-" when negative.
std::string FormatPct(double pct);
// top -b style text: the header, then one line per row (already sorted).
std::string FormatTopText(const TopView& v, TopGrouping g, int width);
std::string FormatTopJson(const TopView& v, TopGrouping g);

}  // namespace redline

#endif  // REDLINE_AGENT_TOP_TOP_MODEL_H_
