// The agent's own cost and identity: build info, CPU, RSS, live heap, and
// what its bounded stores (the history) hold.
#ifndef REDLINE_AGENT_METRICS_SELF_METRICS_H_
#define REDLINE_AGENT_METRICS_SELF_METRICS_H_

#include <functional>
#include <string>
#include <vector>

#include "exporters/metric_family.h"

namespace redline {

struct ProcSelfStat {
  double cpu_seconds = 0;   // utime + stime
  double rss_bytes = 0;
  double start_time_seconds = 0;  // since the epoch
};

// Parses /proc/<pid>/stat text (the comm field may hold spaces and ')').
bool ParseProcStat(const std::string& text, long clk_tck, long page_size,
                   double boot_time, ProcSelfStat* out);

// Readers of state other layers own; each family is exported only when its
// reader is given.
struct SelfSources {
  std::function<uint64_t()> rejected;         // HTTP requests refused (503)
  std::function<uint64_t()> history_bytes;    // History::MemoryBytes
  std::function<uint64_t()> history_entries;  // History::size
};

class SelfCollector : public prom::Collectable {
 public:
  explicit SelfCollector(SelfSources sources = {})
      : sources_(std::move(sources)) {}
  std::vector<prom::MetricFamily> Collect() const override;

 private:
  SelfSources sources_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_METRICS_SELF_METRICS_H_
