// The agent's own cost and identity: build info, CPU, RSS.
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

class SelfCollector : public prom::Collectable {
 public:
  // `rejected`, when given, reads the HTTP requests refused with 503.
  explicit SelfCollector(std::function<uint64_t()> rejected = nullptr)
      : rejected_(std::move(rejected)) {}
  std::vector<prom::MetricFamily> Collect() const override;

 private:
  std::function<uint64_t()> rejected_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_METRICS_SELF_METRICS_H_
