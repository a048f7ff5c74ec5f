#include "agent/metrics/self_metrics.h"

#include <malloc.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "redline_version.h"

namespace redline {
namespace {

std::string ReadFile(const char* path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

double BootTime() {
  std::istringstream in(ReadFile("/proc/stat"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) {
      double v = 0;
      if (absl::SimpleAtod(line.substr(6), &v)) return v;
    }
  }
  return 0;
}

prom::MetricFamily One(const char* name, const char* help,
                       prom::MetricType type, double v,
                       std::vector<prom::Label> labels = {}) {
  prom::MetricFamily f{name, help, type, {}};
  f.metric.emplace_back();
  f.metric.back().label = std::move(labels);
  f.metric.back().counter.value = v;
  f.metric.back().gauge.value = v;
  return f;
}

}  // namespace

bool ParseProcStat(const std::string& text, long clk_tck, long page_size,
                   double boot_time, ProcSelfStat* out) {
  const auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::vector<std::string> f =
      absl::StrSplit(text.substr(close + 1), ' ', absl::SkipEmpty());
  // f[0] is field 3 (state); utime=14, stime=15, starttime=22, rss=24.
  if (f.size() < 22) return false;
  double utime, stime, start, rss;
  if (!absl::SimpleAtod(f[11], &utime) || !absl::SimpleAtod(f[12], &stime) ||
      !absl::SimpleAtod(f[19], &start) || !absl::SimpleAtod(f[21], &rss)) {
    return false;
  }
  out->cpu_seconds = (utime + stime) / clk_tck;
  out->rss_bytes = rss * page_size;
  out->start_time_seconds = boot_time + start / clk_tck;
  return true;
}

std::vector<prom::MetricFamily> SelfCollector::Collect() const {
  std::vector<prom::MetricFamily> out;
  out.push_back(One("redline_build_info",
                    "Build of the running agent; the value is always 1.",
                    prom::MetricType::kGauge, 1,
                    {{"version", REDLINE_VERSION}}));
  if (sources_.rejected) {
    out.push_back(One("redline_http_requests_rejected_total",
                      "HTTP requests answered 503 because every worker and "
                      "queue slot was taken.",
                      prom::MetricType::kCounter,
                      static_cast<double>(sources_.rejected()), {}));
  }
  // The history grows with time up to its --history bound, not with the
  // host's activity: its own gauge tells that growth from a leak.
  if (sources_.history_bytes) {
    out.push_back(One("redline_history_bytes",
                      "Bytes the agent's history (--history) holds: encoded "
                      "entries and their name tables.",
                      prom::MetricType::kGauge,
                      static_cast<double>(sources_.history_bytes())));
  }
  if (sources_.history_entries) {
    out.push_back(One("redline_history_entries",
                      "Refreshes the agent's history holds (one per "
                      "--refresh-interval, up to --history).",
                      prom::MetricType::kGauge,
                      static_cast<double>(sources_.history_entries())));
  }
  static const double boot = BootTime();
  ProcSelfStat st;
  if (ParseProcStat(ReadFile("/proc/self/stat"), sysconf(_SC_CLK_TCK),
                    sysconf(_SC_PAGESIZE), boot, &st)) {
    out.push_back(One("process_cpu_seconds_total",
                      "User and system CPU time of the agent.",
                      prom::MetricType::kCounter, st.cpu_seconds));
    out.push_back(One("process_resident_memory_bytes",
                      "Resident set size of the agent.",
                      prom::MetricType::kGauge, st.rss_bytes));
    out.push_back(One("process_start_time_seconds",
                      "Start time of the agent since the epoch.",
                      prom::MetricType::kGauge, st.start_time_seconds));
  }
  // The live heap, not what the allocator keeps: RSS also holds freed
  // pages not yet trimmed, library code faulted in late and thread stacks,
  // all bounded; a leak grows this one (churn_test judges its slope).
  const struct mallinfo2 mi = mallinfo2();
  out.push_back(One("redline_heap_inuse_bytes",
                    "Bytes the agent has allocated and not freed (glibc "
                    "mallinfo2: in-use chunks plus mmapped blocks).",
                    prom::MetricType::kGauge,
                    static_cast<double>(mi.uordblks + mi.hblkhd)));
  return out;
}

}  // namespace redline
