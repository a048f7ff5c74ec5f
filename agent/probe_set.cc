#include "agent/probe_set.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/block_probe.h"
#include "agent/bpf_util.h"
#include "agent/logging.h"
#include "agent/sched_probe.h"
#include "agent/slo_runtime.h"
#include "agent/tcp_probe.h"

namespace redline {
namespace {

template <typename T>
absl::StatusOr<std::unique_ptr<Probe>> Upcast(
    absl::StatusOr<std::unique_ptr<T>> p) {
  if (!p.ok()) return p.status();
  return std::unique_ptr<Probe>(std::move(*p));
}

}  // namespace

void ProbeSet::Detach() {
  if (syscalls != nullptr) syscalls->Detach();
  for (auto& p : others) p->Detach();
}

absl::StatusOr<std::unique_ptr<ProbeSet>> LoadProbes(
    const Options& opts, const AggregatorOptions& naming,
    const SloSlots* slo_slots) {
  const KernelBtfCache btf_cache;
  // Without BTF every CO-RE load fails with a cryptic errno: say it once.
  if (absl::Status s = RequireKernelBtf(); !s.ok()) return s;
  auto set = std::make_unique<ProbeSet>();
  auto want = [&opts](const char* p) {
    return std::find(opts.probes.begin(), opts.probes.end(), p) !=
           opts.probes.end();
  };
  int attached = 0;
  auto started = [&](const char* name, auto& probe) -> bool {
    if (!probe.ok()) {
      set->warnings.emplace_back(probe.status().message());
      set->view.failed.push_back(
          {name, false, std::string(probe.status().message())});
      return false;
    }
    (void)(*probe)->Attach();  // per-program status below
    for (const auto& p : (*probe)->programs()) {
      attached += p.attached;
      if (!p.attached && p.reason != kDisabledReason) {
        set->warnings.push_back(absl::StrCat(p.name, ": ", p.reason));
      }
    }
    Log(LogLevel::kDebug, name, " loaded");
    return true;
  };
  if (want("syscalls")) {
    SyscallsProbeOptions popts;
    popts.max_processes = opts.max_processes;
    popts.max_stats_entries = opts.max_syscall_entries;
    popts.max_errno_entries = opts.max_errno_entries;
    auto sys = SyscallsProbe::Load(popts);
    if (sys.ok() && slo_slots != nullptr) {
      SloRuntime::ApplyThresholds(*slo_slots, sys->get(), nullptr);
    }
    if (started("syscalls", sys)) {
      set->syscalls = std::move(*sys);
      set->view.syscalls = set->syscalls.get();
    }
  }
  // The other concerns, in the order their families are exported.
  BlockProbeOptions bopts;
  bopts.max_owner_entries = opts.max_disk_entries;
  bopts.naming = naming;
  TcpProbeOptions topts;
  topts.max_entries = opts.max_tcp_entries;
  topts.naming = naming;
  L7ProbeOptions lopts;
  lopts.max_entries = opts.max_http_entries;
  lopts.naming = naming;
  using Loader = std::function<absl::StatusOr<std::unique_ptr<Probe>>()>;
  const std::vector<std::pair<const char*, Loader>> loaders = {
      {"sched",
       [&] {
         return Upcast(SchedProbe::Load({opts.max_sched_entries, naming}));
       }},
      {"block", [&] { return Upcast(BlockProbe::Load(bopts)); }},
      {"tcp", [&] { return Upcast(TcpProbe::Load(topts)); }},
      {"l7",
       [&] {
         auto p = L7Probe::Load(lopts);
         if (p.ok()) {
           set->l7 = p->get();
           if (slo_slots != nullptr) {
             SloRuntime::ApplyThresholds(*slo_slots, nullptr, set->l7);
           }
         }
         return Upcast(std::move(p));
       }},
  };
  for (const auto& [name, load] : loaders) {
    if (!want(name)) continue;
    absl::StatusOr<std::unique_ptr<Probe>> p = load();
    if (!started(name, p)) continue;
    set->view.others.push_back(p->get());
    set->others.push_back(std::move(*p));
  }
  // Checked after loading: only opening a probe lists its programs. The
  // caller exits; the set's destructor detaches what attached.
  if (absl::Status s = CheckProgramsOffKnown(); !s.ok()) return s;
  if (attached == 0) {
    return absl::FailedPreconditionError(
        set->warnings.empty() ? "no probe enabled" : set->warnings.front());
  }
  set->view.pressure_dir = "/proc/pressure";
  return set;
}

}  // namespace redline
