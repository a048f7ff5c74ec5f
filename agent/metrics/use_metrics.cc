#include "agent/metrics/use_metrics.h"

#include "agent/metrics/snapshot_metrics.h"
#include "agent/model/histogram.h"
#include "agent/model/offcpu.h"

namespace redline {
namespace {

using prom::ClientMetric;
using prom::Label;
using prom::MetricFamily;
using prom::MetricType;

constexpr double kNsPerSecond = 1e9;

void AppendSched(const Snapshot& snap, std::vector<MetricFamily>* out) {
  MetricFamily cpu{"redline_cpu_seconds_total",
                   "Time the workload's threads ran on a CPU (sched_switch).",
                   MetricType::kCounter, {}};
  MetricFamily steal{
      "redline_cpu_steal_seconds_total",
      "Time the workload's threads held a CPU without running: the "
      "hypervisor ran another guest (steal) or, where the kernel accounts "
      "IRQ time, interrupts were handled.",
      MetricType::kCounter,
      {}};
  MetricFamily rq{"redline_runqueue_latency_seconds",
                  "Time runnable threads waited for a CPU, from wakeup or "
                  "preemption to running; buckets are powers of 2 of "
                  "seconds.",
                  MetricType::kHistogram, {}};
  MetricFamily off{"redline_offcpu_seconds_total",
                   "Time the workload's threads were blocked off the CPU, "
                   "from switch-out to wakeup, by reason (syscall in flight, "
                   "I/O wait, page fault); with CPU, steal and run-queue "
                   "time it adds up to the threads' wall time.",
                   MetricType::kCounter, {}};
  MetricFamily culprit{
      "redline_runqueue_wait_by_culprit_seconds_total",
      "Run-queue wait of the workload's threads by the process name that "
      "held the CPU meanwhile (\"[other]\": idle, begun on another CPU, "
      "or beyond the kernel's table).",
      MetricType::kCounter,
      {}};
  MetricFamily thr{"redline_cpu_throttled_seconds_total",
                   "Time the workload's cgroups were held back by their CPU "
                   "quota (cpu.stat throttled_usec; each cgroup once).",
                   MetricType::kCounter,
                   {}};
  MetricFamily thr_p{"redline_cpu_throttled_periods_total",
                     "CPU quota periods in which the workload's cgroups ran "
                     "out of quota (cpu.stat nr_throttled).",
                     MetricType::kCounter,
                     {}};
  MetricFamily per{"redline_cpu_quota_periods_total",
                   "CPU quota periods in which the workload's cgroups had "
                   "runnable threads (cpu.stat nr_periods).",
                   MetricType::kCounter,
                   {}};
  MetricFamily cs{"redline_context_switches_total",
                  "Context switches: voluntary (blocked) or involuntary "
                  "(preempted while runnable).",
                  MetricType::kCounter, {}};
  for (const auto& [id, ws] : snap.workloads) {
    for (const auto& [who, ns] : ws.rq_culprits) {
      std::vector<Label> l = WorkloadLabels(id);
      l.push_back({"culprit", who});
      culprit.metric.push_back(CounterSample(std::move(l), ns / kNsPerSecond));
    }
    if (ws.has_throttle) {
      const CpuThrottle& t = ws.throttle;
      std::vector<Label> l = WorkloadLabels(id);
      thr.metric.push_back(CounterSample(l, t.throttled_ns / kNsPerSecond));
      thr_p.metric.push_back(
          CounterSample(l, static_cast<double>(t.throttled_periods)));
      per.metric.push_back(
          CounterSample(std::move(l), static_cast<double>(t.periods)));
    }
    if (!ws.has_sched) continue;
    const SchedStats& s = ws.sched;
    std::vector<Label> l = WorkloadLabels(id);
    cpu.metric.push_back(CounterSample(l, s.cpu_ns / kNsPerSecond));
    steal.metric.push_back(CounterSample(l, s.steal_ns / kNsPerSecond));
    ClientMetric h;
    h.label = l;
    h.histogram = ToPromHistogram(s.rq_hist, s.rq_sum_ns);
    rq.metric.push_back(std::move(h));
    for (int r = 0; r < kOffCpuReasons; ++r) {
      std::vector<Label> lr = l;
      lr.push_back({"reason", std::string(kOffCpuReasonNames[r])});
      off.metric.push_back(
          CounterSample(std::move(lr), s.off_ns[r] / kNsPerSecond));
    }
    l.push_back({"kind", "voluntary"});
    cs.metric.push_back(CounterSample(l, static_cast<double>(s.voluntary)));
    l.back().value = "involuntary";
    cs.metric.push_back(CounterSample(std::move(l),
                                static_cast<double>(s.involuntary)));
  }
  out->push_back(std::move(cpu));
  out->push_back(std::move(steal));
  out->push_back(std::move(rq));
  out->push_back(std::move(cs));
  out->push_back(std::move(off));
  out->push_back(std::move(culprit));
  out->push_back(std::move(thr));
  out->push_back(std::move(thr_p));
  out->push_back(std::move(per));
}

void AppendDisk(const Snapshot& snap, std::vector<MetricFamily>* out) {
  MetricFamily dur{"redline_disk_io_duration_seconds",
                   "Block I/O time from issue to the device until completion; "
                   "buckets are powers of 2 of seconds.",
                   MetricType::kHistogram, {}};
  MetricFamily ops{"redline_disk_io_operations_total",
                   "Block I/O requests completed (as /proc/diskstats counts "
                   "them, including those not seen issued).",
                   MetricType::kCounter, {}};
  MetricFamily queue{"redline_disk_io_queue_seconds_total",
                     "Time block I/O waited in the I/O scheduler before issue.",
                     MetricType::kCounter, {}};
  MetricFamily bytes{"redline_disk_io_bytes_total",
                     "Bytes of block I/O completed, by the workload that "
                     "issued it (a flusher thread for buffered writeback).",
                     MetricType::kCounter, {}};
  for (const auto& [k, s] : snap.disks) {
    std::vector<Label> l{{"device", k.device}, {"op", k.op}};
    ClientMetric h;
    h.label = l;
    h.histogram = ToPromHistogram(s.hist, s.sum_ns);
    dur.metric.push_back(std::move(h));
    ops.metric.push_back(CounterSample(l, static_cast<double>(s.ios)));
    queue.metric.push_back(CounterSample(std::move(l), s.queue_ns / kNsPerSecond));
  }
  for (const auto& [id, ws] : snap.workloads) {
    for (const auto& [k, n] : ws.disk_bytes) {
      std::vector<Label> l{{"device", k.device}, {"op", k.op}};
      for (Label& w : WorkloadLabels(id)) l.push_back(std::move(w));
      bytes.metric.push_back(CounterSample(std::move(l), static_cast<double>(n)));
    }
  }
  out->push_back(std::move(dur));
  out->push_back(std::move(ops));
  out->push_back(std::move(queue));
  out->push_back(std::move(bytes));
}

}  // namespace

void AppendUseFamilies(const Snapshot& snap, std::vector<MetricFamily>* out) {
  AppendSched(snap, out);
  AppendDisk(snap, out);
  MetricFamily psi{"redline_pressure_stalled_seconds_total",
                   "Host time some (or all non-idle) tasks stalled on the "
                   "resource, from /proc/pressure (PSI).",
                   MetricType::kCounter, {}};
  for (const PressureStats& p : snap.pressure) {
    psi.metric.push_back(CounterSample({{"resource", p.resource}, {"kind", p.kind}},
                                 p.total_us / 1e6));
  }
  out->push_back(std::move(psi));
}

}  // namespace redline
