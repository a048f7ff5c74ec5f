// User-space cost of one scrape, without the kernel read: aggregation,
// cardinality governor, metric families and text serialization, for a host
// of P processes x S syscalls each, C distinct comms. Prints ms per stage.
//
// usage: redline_pipeline_bench [PROCS=500] [SYSCALLS=30] [COMMS=500]
//                               [BUDGET=2000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/metrics/snapshot_metrics.h"
#include "agent/metrics/workload_governor.h"
#include "agent/model/syscall_aggregator.h"
#include "exporters/text_serializer.h"

namespace redline {
namespace {

double Ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

int Main(int argc, char** argv) {
  const int procs = argc > 1 ? std::atoi(argv[1]) : 500;
  const int syscalls = argc > 2 ? std::atoi(argv[2]) : 30;
  const int comms = argc > 3 ? std::atoi(argv[3]) : 500;
  const int budget = argc > 4 ? std::atoi(argv[4]) : 2000;

  RawSyscallData raw;
  for (int p = 0; p < procs; ++p) {
    raw.procs.push_back({{static_cast<uint32_t>(1000 + p), 1},
                         "comm" + std::to_string(p % comms), 0, false});
    for (int s = 0; s < syscalls; ++s) {
      SyscallRecord r;
      r.proc = {static_cast<uint32_t>(1000 + p), 1};
      r.nr = s;
      r.stats.calls = 100 + p + s;
      r.stats.sum_ns = r.stats.calls * 1500;
      for (int i = 8; i < 20; ++i) r.stats.hist[i] = r.stats.calls / 12;
      raw.stats.push_back(r);
      if (s % 10 == 0) raw.errors.push_back({r.proc, r.nr, 2, 3});
    }
  }
  SyscallAggregator agg({});
  WorkloadGovernor gov(budget);
  double t_agg = 0, t_fam = 0, t_ser = 0;
  size_t bytes = 0;
  const int rounds = 20;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    Snapshot snap;
    agg.Aggregate(raw, &snap.workloads);
    t_agg += Ms(t0);
    t0 = std::chrono::steady_clock::now();
    auto fams = SnapshotToFamilies(snap, &gov);
    t_fam += Ms(t0);
    t0 = std::chrono::steady_clock::now();
    std::string body;
    prom::SerializeText(fams, body);
    t_ser += Ms(t0);
    bytes = body.size();
  }
  std::printf(
      "%d procs x %d syscalls, %d comms, budget %d: aggregate %.2f ms, "
      "govern+families %.2f ms, serialize %.2f ms (%zu bytes)\n",
      procs, syscalls, comms, budget, t_agg / rounds, t_fam / rounds,
      t_ser / rounds, bytes);
  return 0;
}

}  // namespace
}  // namespace redline

int main(int argc, char** argv) { return redline::Main(argc, argv); }
