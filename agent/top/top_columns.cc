#include "agent/top/top_columns.h"

#include "absl/strings/str_format.h"

namespace redline {
namespace {

using F = TopColumnSpec::Format;

int CpuSeverity(double pct) {  // one thread's worth of CPU, or more
  return pct >= 90 ? 1 : 0;
}
int RunQueueSeverity(double s) {  // waiting for a CPU: saturation
  return s >= 0.05 ? 2 : s >= 0.01 ? 1 : 0;
}
int ErrorPctSeverity(double pct) { return pct >= 5 ? 2 : pct >= 1 ? 1 : 0; }
int RetransSeverity(double per_s) { return per_s > 0 ? 2 : 0; }
int BurnSeverity(double burn) {  // the slow-burn and fast-burn alert factors
  return burn >= 6 ? 2 : burn >= 1 ? 1 : 0;
}

}  // namespace

const std::vector<TopColumnSpec>& TopColumnSpecs() {
  // The ten value columns take 70 characters with their separators: at 80
  // columns BURN (the rightmost) still shows, with 8 of the name.
  static const std::vector<TopColumnSpec> kColumns = {
      {TopColumn::kName, "NAME", 0, nullptr, F::kName, "name", false, nullptr},
      {TopColumn::kCpu, "CPU%", 5, &TopRow::cpu_pct, F::kPct, "cpu_pct", true,
       CpuSeverity},
      {TopColumn::kRqP99, "RQ_P99", 7, &TopRow::rq_p99_s, F::kSeconds,
       "runqueue_p99_seconds", true, RunQueueSeverity},
      {TopColumn::kSyscalls, "SYS/S", 6, &TopRow::syscalls_per_s, F::kRate,
       "syscalls_per_second", false, nullptr},
      {TopColumn::kErrors, "ERR/S", 5, &TopRow::errors_per_s, F::kRate,
       "syscall_errors_per_second", false, nullptr},
      {TopColumn::kSyscallP99, "SYS_P99", 7, &TopRow::syscall_p99_s,
       F::kSeconds, "syscall_p99_seconds", true, nullptr},
      // Requests of every protocol (HTTP, Redis...): errors are each
      // protocol's (5xx, error replies); p99 of those served, else made.
      {TopColumn::kRequests, "REQ/S", 6, &TopRow::requests_per_s, F::kRate,
       "requests_per_second", false, nullptr},
      {TopColumn::kRequestErrors, "RERR%", 5, &TopRow::request_error_pct,
       F::kPct, "request_error_pct", true, ErrorPctSeverity},
      {TopColumn::kRequestP99, "REQ_P99", 8, &TopRow::request_p99_s,
       F::kSeconds, "request_p99_seconds", true, nullptr},
      {TopColumn::kRetrans, "RETR/S", 6, &TopRow::retrans_per_s, F::kRate,
       "tcp_retransmits_per_second", false, RetransSeverity},
      {TopColumn::kSloBurn, "BURN", 5, &TopRow::slo_burn, F::kBurn,
       "slo_burn_rate_5m", true, BurnSeverity},
  };
  return kColumns;
}

const TopColumnSpec& TopColumnSpecOf(TopColumn c) {
  return TopColumnSpecs()[static_cast<size_t>(c)];
}

std::string FormatTopValue(const TopColumnSpec& c, double v) {
  switch (c.format) {
    case F::kName:
      return "";
    case F::kPct:
      return FormatPct(v);
    case F::kSeconds:
      return FormatSeconds(v);
    case F::kRate:
      return FormatRate(v);
    case F::kBurn:
      // From 99.95 the one-decimal form would need 6 characters.
      if (v < 0) return "-";
      return v >= 99.95 ? absl::StrFormat("%.0fx", v)
                        : absl::StrFormat("%.1fx", v);
  }
  return "";
}

}  // namespace redline
