#include "agent/probes/probe_set.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/base/logging.h"
#include "agent/probes/block_probe.h"
#include "agent/probes/bpf_util.h"
#include "agent/probes/l7_probe.h"
#include "agent/probes/sched_probe.h"
#include "agent/probes/syscalls_probe.h"
#include "agent/probes/tcp_probe.h"

namespace redline {
namespace {

template <typename T>
absl::StatusOr<std::unique_ptr<Probe>> Upcast(
    absl::StatusOr<std::unique_ptr<T>> p) {
  if (!p.ok()) return p.status();
  return std::unique_ptr<Probe>(std::move(*p));
}

}  // namespace

const std::vector<ProbeKind>& ProbeKinds() {
  // syscalls first: its read fills the snapshot's workloads.
  static const std::vector<ProbeKind> kinds = {
      {"syscalls", true,
       [](const ProbeSetOptions& o) {
         SyscallsProbeOptions p;
         p.max_processes = o.max_processes;
         p.max_stats_entries = o.max_syscall_entries;
         p.max_errno_entries = o.max_errno_entries;
         p.naming = o.naming;
         return Upcast(SyscallsProbe::Load(p));
       }},
      {"sched", false,
       [](const ProbeSetOptions& o) {
         return Upcast(SchedProbe::Load({o.max_sched_entries, o.naming}));
       }},
      {"block", false,
       [](const ProbeSetOptions& o) {
         BlockProbeOptions p;
         p.max_owner_entries = o.max_disk_entries;
         p.naming = o.naming;
         return Upcast(BlockProbe::Load(p));
       }},
      {"tcp", false,
       [](const ProbeSetOptions& o) {
         TcpProbeOptions p;
         p.max_entries = o.max_tcp_entries;
         p.naming = o.naming;
         return Upcast(TcpProbe::Load(p));
       }},
      {"l7", false,
       [](const ProbeSetOptions& o) {
         L7ProbeOptions p;
         p.max_entries = o.max_http_entries;
         p.max_connections = o.max_connections;
         p.tls = o.tls;
         p.tls_late_attach = o.tls_late_attach;
         p.dns_ports = o.dns_ports;
         p.h2_buffer_bytes = o.h2_buffer_bytes;
         p.naming = o.naming;
         return Upcast(L7Probe::Load(p));
       }},
  };
  return kinds;
}

bool ProbeSet::Has(const std::string& name) const {
  return std::any_of(probes.begin(), probes.end(),
                     [&](const auto& p) { return name == p->name(); });
}

void ProbeSet::SetSloThresholds(const SloSlots& slots) {
  for (auto& p : probes) p->SetSloThresholds(slots);
}

void ProbeSet::Detach() {
  for (auto& p : probes) p->Detach();
}

absl::StatusOr<std::unique_ptr<ProbeSet>> LoadProbes(
    const ProbeSetOptions& opts, const SloSlots* slo_slots) {
  const KernelBtfCache btf_cache;
  // Without BTF every CO-RE load fails with a cryptic errno: say it once.
  if (absl::Status s = RequireKernelBtf(); !s.ok()) return s;
  auto set = std::make_unique<ProbeSet>();
  int attached = 0;
  for (const ProbeKind& kind : ProbeKinds()) {
    if (std::find(opts.probes.begin(), opts.probes.end(), kind.name) ==
        opts.probes.end()) {
      continue;
    }
    absl::StatusOr<std::unique_ptr<Probe>> p = kind.load(opts);
    if (!p.ok()) {
      set->warnings.emplace_back(p.status().message());
      set->view.failed.push_back(
          {kind.name, false, std::string(p.status().message())});
      continue;
    }
    if (slo_slots != nullptr) (*p)->SetSloThresholds(*slo_slots);
    (void)(*p)->Attach();  // per-program status below
    for (const auto& prog : (*p)->programs()) {
      attached += prog.attached;
      if (!prog.attached && prog.reason != kDisabledReason) {
        set->warnings.push_back(absl::StrCat(prog.name, ": ", prog.reason));
      }
    }
    Log(LogLevel::kDebug, kind.name, " loaded");
    set->view.probes.push_back(p->get());
    set->probes.push_back(std::move(*p));
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
