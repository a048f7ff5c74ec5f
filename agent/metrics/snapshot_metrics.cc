#include "agent/metrics/snapshot_metrics.h"

#include "absl/strings/str_cat.h"
#include "agent/metrics/request_metrics.h"
#include "agent/metrics/tcp_metrics.h"
#include "agent/metrics/use_metrics.h"
#include "agent/model/histogram.h"
#include "agent/model/names.h"

namespace redline {
namespace {

using prom::ClientMetric;
using prom::Label;
using prom::MetricFamily;
using prom::MetricType;

SyscallSeriesView UnfoldedView(const Snapshot& snap) {
  SyscallSeriesView v;
  for (const auto& [id, ws] : snap.workloads) {
    for (const auto& [nr, s] : ws.syscalls) {
      v.calls.emplace_back(SyscallSeriesKey{id, nr, 0}, s);
      v.calls.back().second.errnos.clear();
      for (const auto& [err, n] : s.errnos) {
        v.errors.emplace_back(SyscallSeriesKey{id, nr, err}, n);
      }
    }
  }
  return v;
}

std::string SyscallLabel(uint32_t nr) {
  return nr == kOtherSyscall ? "[other]" : SyscallName(nr);
}

}  // namespace

std::vector<Label> WorkloadLabels(const WorkloadId& id) {
  std::vector<Label> l{{"comm", id.comm}};
  if (id.pid != 0) l.push_back({"pid", absl::StrCat(id.pid)});
  auto add = [&l](const char* name, const std::string& v) {
    if (!v.empty()) l.push_back({name, v});
  };
  add("namespace", id.namespace_name);
  add("pod", id.pod);
  add("container", id.container);
  add("workload", id.workload);
  add("pod_uid", id.pod_uid);
  add("container_id", id.container_id);
  add("systemd_unit", id.systemd_unit);
  return l;
}

ClientMetric CounterSample(std::vector<Label> labels, double v) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = v;
  return m;
}

std::vector<MetricFamily> SnapshotToFamilies(
    const Snapshot& snap, WorkloadGovernor* gov,
    std::map<std::string, uint64_t>* governed,
    SyscallHistogramSelector* hists) {
  MetricFamily calls{"redline_syscalls_total",
                     "System calls completed, per process name and syscall.",
                     MetricType::kCounter,
                     {}};
  MetricFamily errors{
      "redline_syscall_errors_total",
      "System calls that returned an error (-4095..-1), by errno name.",
      MetricType::kCounter,
      {}};
  MetricFamily dur{"redline_syscall_duration_seconds",
                   "Time from syscall entry to exit; buckets are the kernel's "
                   "slots, powers of 2 of seconds.",
                   MetricType::kHistogram,
                   {}};

  const SyscallSeriesView view =
      gov != nullptr ? gov->Apply(snap.workloads) : UnfoldedView(snap);
  if (gov != nullptr && governed != nullptr) {
    (*governed)[calls.name] = gov->folded_calls_total();
    (*governed)[dur.name] = gov->folded_calls_total();
    (*governed)[errors.name] = gov->folded_errors_total();
  }
  calls.metric.reserve(view.calls.size());
  for (const auto& [key, s] : view.calls) {
    ClientMetric c;
    c.label = WorkloadLabels(key.id);
    c.label.push_back({"syscall", SyscallLabel(key.nr)});
    c.counter.value = static_cast<double>(s.calls);
    calls.metric.push_back(std::move(c));
  }
  auto add_histograms = [&dur](const SyscallHistogramSelector::Series& from) {
    dur.metric.reserve(from.size());
    for (const auto& [key, s] : from) {
      ClientMetric h;
      h.label = WorkloadLabels(key.id);
      h.label.push_back({"syscall", SyscallLabel(key.nr)});
      h.histogram = ToPromHistogram(s.hist, s.sum_ns);
      dur.metric.push_back(std::move(h));
    }
  };
  if (hists != nullptr) {
    add_histograms(hists->Apply(view.calls));
    if (governed != nullptr) (*governed)[dur.name] += hists->folded_total();
  } else {
    add_histograms(view.calls);
  }
  errors.metric.reserve(view.errors.size());
  for (const auto& [key, n] : view.errors) {
    ClientMetric e;
    e.label = WorkloadLabels(key.id);
    e.label.push_back({"syscall", SyscallLabel(key.nr)});
    e.label.push_back(
        {"errno", key.err == kOtherErrno ? "[other]" : ErrnoName(key.err)});
    e.counter.value = static_cast<double>(n);
    errors.metric.push_back(std::move(e));
  }

  MetricFamily attached{
      "redline_bpf_program_attached",
      "1 if the BPF program is attached, else 0 (with the reason).",
      MetricType::kGauge,
      {}};
  MetricFamily misses{
      "redline_bpf_program_recursion_misses_total",
      "Runs the kernel skipped because the program was already running on "
      "that CPU (an interrupt's event nested in it): events not counted.",
      MetricType::kCounter,
      {}};
  for (const ProgramStatus& p : snap.programs) {
    ClientMetric m;
    m.label = {{"program", p.name}};
    // Why not, on the same series: a bounded set (one per program).
    if (!p.attached && !p.reason.empty())
      m.label.push_back({"reason", p.reason});
    m.gauge.value = p.attached ? 1 : 0;
    attached.metric.push_back(std::move(m));
    if (p.attached) {
      ClientMetric r;
      r.label = {{"program", p.name}};
      r.counter.value = static_cast<double>(p.recursion_misses);
      misses.metric.push_back(std::move(r));
    }
  }
  MetricFamily drops{"redline_bpf_map_drops_total",
                     "Kernel map updates lost: the sum over errno of "
                     "redline_bpf_map_update_errors_total.",
                     MetricType::kCounter,
                     {}};
  MetricFamily update_errors{
      "redline_bpf_map_update_errors_total",
      "Failed kernel map updates, counted in BPF by error: E2BIG the map "
      "is full, ENOMEM no kernel memory, EBUSY re-entered, ENOENT removed "
      "while in use, other (no code). Each is an event not counted.",
      MetricType::kCounter,
      {}};
  MetricFamily evictions{
      "redline_bpf_map_evictions_total",
      "Entries of live processes moved from a kernel map into the agent's "
      "totals, counts kept: idle ones (a read costs per entry) and, from a "
      "nearly full map, busy ones to make room.",
      MetricType::kCounter,
      {}};
  MetricFamily entries{"redline_bpf_map_entries",
                       "Entries in the kernel map at the last read.",
                       MetricType::kGauge,
                       {}};
  MetricFamily capacity{"redline_bpf_map_capacity",
                        "Maximum entries of the kernel map.",
                        MetricType::kGauge,
                        {}};
  for (const MapStatus& m : snap.maps) {
    ClientMetric d;
    d.label = {{"map", m.name}};
    d.counter.value = static_cast<double>(m.drops);
    drops.metric.push_back(d);
    for (int k = 0; k < kUpdateErrorKinds; ++k) {
      ClientMetric e;
      e.label = {{"map", m.name}, {"errno", kUpdateErrorNames[k]}};
      e.counter.value = static_cast<double>(m.update_errors[k]);
      update_errors.metric.push_back(std::move(e));
    }
    if (m.capacity == 0) continue;  // task storage: not enumerable
    d.counter.value = static_cast<double>(m.evictions);
    evictions.metric.push_back(d);
    d.gauge.value = static_cast<double>(m.entries);
    entries.metric.push_back(d);
    d.gauge.value = static_cast<double>(m.capacity);
    capacity.metric.push_back(d);
  }
  MetricFamily live{"redline_tracked_processes",
                    "Process incarnations with state in kernel maps.",
                    MetricType::kGauge,
                    {}};
  live.metric.emplace_back();
  live.metric.back().gauge.value = static_cast<double>(snap.live_processes);

  MetricFamily read_s{
      "redline_kernel_read_seconds_total",
      "Time the agent spent reading and folding each concern's kernel maps "
      "(programs: BPF run statistics; pressure: PSI files), at refreshes "
      "and scrapes.",
      MetricType::kCounter,
      {}};
  MetricFamily reads{"redline_kernel_reads_total",
                     "Reads of each concern's kernel maps.",
                     MetricType::kCounter,
                     {}};
  MetricFamily early{
      "redline_kernel_early_reads_total",
      "Reads made before the refresh interval was up because this concern's "
      "maps were filling faster than refreshes drain them (each also counts "
      "in redline_kernel_reads_total).",
      MetricType::kCounter,
      {}};
  for (const auto& [concern, c] : snap.read_costs) {
    read_s.metric.push_back(CounterSample({{"concern", concern}}, c.seconds));
    reads.metric.push_back(
        CounterSample({{"concern", concern}}, static_cast<double>(c.reads)));
    early.metric.push_back(
        CounterSample({{"concern", concern}}, static_cast<double>(c.early)));
  }

  std::vector<MetricFamily> out;
  out.push_back(std::move(calls));
  out.push_back(std::move(errors));
  out.push_back(std::move(dur));
  out.push_back(std::move(attached));
  out.push_back(std::move(misses));
  out.push_back(std::move(drops));
  out.push_back(std::move(update_errors));
  out.push_back(std::move(evictions));
  out.push_back(std::move(entries));
  out.push_back(std::move(capacity));
  out.push_back(std::move(live));
  out.push_back(std::move(read_s));
  out.push_back(std::move(reads));
  out.push_back(std::move(early));
  AppendUseFamilies(snap, &out);
  AppendTcpFamilies(snap, &out);
  AppendRequestFamilies(snap, &out);
  return out;
}

}  // namespace redline
