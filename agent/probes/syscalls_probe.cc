#include "agent/probes/syscalls_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <sys/syscall.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/base/logging.h"
#include "agent/model/fill_watch.h"
#include "agent/model/spill_planner.h"
#include "agent/probes/bpf_util.h"
#include "bpf/syscalls.h"
#include "exporters/status_macros.h"
#include "syscalls.skel.h"

namespace redline {

// The layout the BPF side writes; checked once here.
static_assert(sizeof(rl_proc_key) == 16);
static_assert(offsetof(rl_proc_key, gen) == 8);
static_assert(sizeof(rl_proc_info) == 32);
static_assert(offsetof(rl_proc_info, cgroup_id) == 16);
static_assert(offsetof(rl_proc_info, exited) == 24);
static_assert(sizeof(rl_sys_key) == 16);
static_assert(offsetof(rl_sys_key, gen) == 8);
static_assert(sizeof(rl_sys_val) == 8 * (3 + RL_HIST_SLOTS + RL_SLO_SLOTS));
static_assert(offsetof(rl_sys_val, last_ns) ==
              8 * (2 + RL_HIST_SLOTS + RL_SLO_SLOTS));
static_assert(offsetof(rl_sys_val, within) == 8 * (2 + RL_HIST_SLOTS));
static_assert(RL_SLO_SLOTS == kSloSlots, "shares SloWithin");
static_assert(offsetof(rl_sys_val, hist) == 16);
static_assert(sizeof(rl_err_key) == 24);
static_assert(offsetof(rl_err_key, err) == 16);

namespace {

constexpr const char* kMapNames[RL_MAP_COUNT] = {"sys_stats", "sys_errors",
                                                 "procs", "task_states"};

std::string CommOf(const rl_proc_info& info) {
  return std::string(info.comm, strnlen(info.comm, sizeof(info.comm)));
}

}  // namespace

struct SyscallsProbe::Impl {
  explicit Impl(const SyscallsProbeOptions& o) : opts(o), agg(o.naming) {}
  SkelPtr<syscalls_bpf, syscalls_bpf__destroy> skel;
  std::vector<LinkPtr> links;
  SyscallsProbeOptions opts;
  SyscallAggregator agg;
  std::vector<ProgramStatus> missing;  // not loaded: no such tracepoint
  FillWatch stats_fill, procs_fill;    // sys_stats and procs
  SpillPlanner spill;

  uint64_t Inserts(uint32_t map) const {
    return __atomic_load_n(&skel->bss->rl_inserts[map], __ATOMIC_RELAXED);
  }
};

SyscallsProbe::SyscallsProbe(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

SyscallsProbe::~SyscallsProbe() { Detach(); }

absl::StatusOr<std::unique_ptr<SyscallsProbe>> SyscallsProbe::Load(
    const SyscallsProbeOptions& opts) {
  auto impl = std::make_unique<Impl>(opts);
  impl->skel.reset(syscalls_bpf__open());
  if (!impl->skel) return LibbpfError(-errno, "opening syscalls BPF object");
  auto* s = impl->skel.get();
  s->rodata->nr_exit = SYS_exit;
  s->rodata->nr_exit_group = SYS_exit_group;
  s->rodata->nr_execve = SYS_execve;
  s->rodata->nr_execveat = SYS_execveat;
  bpf_map__set_max_entries(s->maps.sys_stats, opts.max_stats_entries);
  bpf_map__set_max_entries(s->maps.sys_errors, opts.max_errno_entries);
  bpf_map__set_max_entries(s->maps.procs, opts.max_processes);
  bpf_map__set_max_entries(s->maps.tgid_gen, opts.max_processes);
  impl->missing = DisableMissingTracepoints(s->obj, "syscalls");
  if (int err = syscalls_bpf__load(s); err != 0) {
    return LibbpfError(err, "loading syscalls BPF programs");
  }
  return std::unique_ptr<SyscallsProbe>(new SyscallsProbe(std::move(impl)));
}

void SyscallsProbe::SetSloThresholds(const SloSlots& slots) {
  const SloWithin& threshold_ns = slots.sys_ns;
  const std::vector<uint8_t>& mask_by_nr = slots.sys_mask;
  auto* bss = impl_->skel->bss;
  // Masks first when a slot turns on, thresholds first when it turns off:
  // either way no syscall counts against a half-written slot for long.
  for (int i = 0; i < RL_SLO_SLOTS; ++i) {
    if (threshold_ns[i] == 0) {
      __atomic_store_n(&bss->slo_threshold_ns[i], 0, __ATOMIC_RELAXED);
    }
  }
  for (size_t nr = 0; nr < RL_SLO_MAX_NR; ++nr) {
    __atomic_store_n(&bss->slo_sys_mask[nr],
                     nr < mask_by_nr.size() ? mask_by_nr[nr] : 0,
                     __ATOMIC_RELAXED);
  }
  for (int i = 0; i < RL_SLO_SLOTS; ++i) {
    __atomic_store_n(&bss->slo_threshold_ns[i], threshold_ns[i],
                     __ATOMIC_RELAXED);
  }
}

absl::Status SyscallsProbe::Attach() {
  // Only the rename hook is optional: without it names are those seen at
  // a process's first syscall.
  return AttachAll(impl_->skel->obj, "syscalls", impl_->missing,
                   {"syscalls/task_rename"}, &impl_->links, &programs_);
}

void SyscallsProbe::Detach() {
  if (impl_) DetachAll(&impl_->links, &programs_);
}

absl::Status SyscallsProbe::ReadInto(Snapshot* snap) {
  const auto t0 = std::chrono::steady_clock::now();
  std::map<WorkloadId, WorkloadStats> read;
  auto res = Read(&read);
  if (!res.ok()) return res.status();
  const std::chrono::duration<double, std::milli> took =
      std::chrono::steady_clock::now() - t0;
  if (snap->workloads.empty()) {
    snap->workloads = std::move(read);
  } else {
    for (auto& [id, ws] : read) {
      snap->workloads[id].syscalls = std::move(ws.syscalls);
    }
  }
  last_ = *res;
  snap->live_processes = res->live_processes;
  snap->read_seconds = took.count() / 1e3;
  Log(LogLevel::kDebug, "map read ", took.count(), " ms: ", res->procs,
      " processes, ", res->stats_entries, " syscall entries, ",
      res->errno_entries, " errno entries");
  return absl::OkStatus();
}

bool SyscallsProbe::Pressed() const {
  const Impl& im = *impl_;
  return im.stats_fill.Pressed(im.Inserts(RL_MAP_SYS_STATS)) ||
         im.procs_fill.Pressed(im.Inserts(RL_MAP_PROCS));
}

void SyscallsProbe::CarryForward(const Snapshot& prev, Snapshot* snap) {
  for (const auto& [id, ws] : prev.workloads) {
    if (!ws.syscalls.empty()) snap->workloads[id].syscalls = ws.syscalls;
  }
  snap->live_processes = prev.live_processes;
}

namespace {
// CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns (gen, last_ns).
uint64_t MonotonicNs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000 +
         static_cast<uint64_t>(t.tv_nsec);
}
}  // namespace

absl::StatusOr<ReadResult> SyscallsProbe::Read(
    std::map<WorkloadId, WorkloadStats>* out) {
  SyscallAggregator* agg = &impl_->agg;
  ReadResult res;
  auto* m = &impl_->skel->maps;
  impl_->stats_fill.ReadStarted(impl_->Inserts(RL_MAP_SYS_STATS));
  impl_->procs_fill.ReadStarted(impl_->Inserts(RL_MAP_PROCS));

  // Processes first: an incarnation that exits after this read is only
  // freed on a later read, after its last counts were seen.
  std::vector<ProcRecord> procs;
  RETURN_IF_ERROR(
      ForEachEntry(m->procs, [&](const void* k, const void* v) {
        const auto* pk = static_cast<const rl_proc_key*>(k);
        const auto* pi = static_cast<const rl_proc_info*>(v);
        procs.push_back(
            {{pk->tgid, pk->gen}, CommOf(*pi), pi->cgroup_id, pi->exited != 0});
      }).status());
  res.procs = procs.size();
  // After the process read: every incarnation in it was stamped earlier.
  const uint64_t now_ns = MonotonicNs();
  agg->Begin(procs, now_ns);

  // Entries of exited incarnations, deleted once their counts are folded.
  std::vector<rl_sys_key> dead_stats;
  std::vector<rl_err_key> dead_errors;
  // Live entries by size, in case the map must make room (see Spill).
  std::vector<LiveEntry> live_stats;
  SyscallStats st;
  absl::Status s =
      ForEachEntry(m->sys_stats, [&](const void* k, const void* v) {
        const auto* sk = static_cast<const rl_sys_key*>(k);
        const auto* val = static_cast<const rl_sys_val*>(v);
        st.errors = val->errors;
        st.sum_ns = val->sum_ns;
        std::copy(val->hist, val->hist + RL_HIST_SLOTS, st.hist.begin());
        std::copy(val->within, val->within + RL_SLO_SLOTS, st.within.begin());
        st.calls = 0;
        for (uint64_t n : val->hist) st.calls += n;
        ++res.stats_entries;
        if (agg->AddStats({sk->tgid, sk->gen}, sk->nr, st)) {
          dead_stats.push_back(*sk);
        } else {
          live_stats.push_back(
              {{sk->tgid, sk->gen}, sk->nr, st.calls, val->last_ns});
        }
      }).status();
  if (s.ok()) {
    s = ForEachEntry(m->sys_errors, [&](const void* k, const void* v) {
          const auto* ek = static_cast<const rl_err_key*>(k);
          ErrnoRecord r{{ek->tgid, ek->gen},
                        ek->nr,
                        ek->err,
                        *static_cast<const uint64_t*>(v)};
          ++res.errno_entries;
          if (agg->AddErrno(r)) dead_errors.push_back(*ek);
        }).status();
  }
  // Finish even after a failed read, so the aggregator is never left
  // half-way; the caller keeps serving its previous snapshot.
  std::map<WorkloadId, WorkloadStats> folded;
  std::vector<ProcKey> freed = agg->Finish(&folded);
  RETURN_IF_ERROR(s);
  *out = std::move(folded);

  DeleteKeys(m->sys_stats, dead_stats.data(), dead_stats.size());
  DeleteKeys(m->sys_errors, dead_errors.data(), dead_errors.size());
  std::vector<rl_proc_key> dead_procs;
  dead_procs.reserve(freed.size());
  for (const ProcKey& p : freed) dead_procs.push_back({p.tgid, 0, p.gen});
  DeleteKeys(m->procs, dead_procs.data(), dead_procs.size());
  res.live_processes = res.procs - freed.size();
  res.spilled = Spill(&live_stats, now_ns);
  impl_->stats_fill.ReadDone(live_stats.size() - res.spilled,
                             bpf_map__max_entries(m->sys_stats));
  impl_->procs_fill.ReadDone(res.live_processes,
                             bpf_map__max_entries(m->procs));
  return res;
}

// Exited processes are freed at every read. Entries idle for 10 s are
// read-and-deleted atomically into the agent's totals (a read costs the
// kernel per entry; most are start-up syscalls of long-lived processes).
// If live ones still fill more than 75% of sys_stats, entries chosen by
// SpillPlanner (idle since the previous read first) follow, down to 50%:
// new (process, syscall) pairs keep finding room (a quarter of the map
// between two reads), and no count is lost or counted twice.
uint64_t SyscallsProbe::Spill(std::vector<LiveEntry>* live, uint64_t now_ns) {
  const size_t cap = bpf_map__max_entries(impl_->skel->maps.sys_stats);
  const size_t n = impl_->spill.Plan(live, cap, now_ns);
  const int fd = bpf_map__fd(impl_->skel->maps.sys_stats);
  uint64_t spilled = 0, pressed = 0;
  rl_sys_val v;
  SyscallStats st;
  for (size_t i = 0; i < n; ++i) {
    const LiveEntry& e = (*live)[i];
    rl_sys_key k{};
    k.tgid = e.proc.tgid;
    k.nr = e.nr;
    k.gen = e.proc.gen;
    if (bpf_map_lookup_and_delete_elem(fd, &k, &v) != 0) continue;
    st.errors = v.errors;
    st.sum_ns = v.sum_ns;
    st.calls = 0;
    for (int j = 0; j < RL_HIST_SLOTS; ++j) {
      st.hist[j] = v.hist[j];
      st.calls += v.hist[j];
    }
    std::copy(v.within, v.within + RL_SLO_SLOTS, st.within.begin());
    impl_->agg.Retire(e.proc, e.nr, st);
    ++spilled;
    if (i >= impl_->spill.idle()) ++pressed;
  }
  impl_->spill.Remember(*live, n, cap);
  spilled_total_ += spilled;  // evictions, as the other maps' idle entries
  if (pressed > 0) {
    Log(LogLevel::kDebug, "sys_stats over 75% full: moved ", pressed,
        " live entries to the agent's totals");
  }
  return spilled;
}

std::vector<MapStatus> SyscallsProbe::maps() const {
  std::vector<MapStatus> out;
  auto* m = &impl_->skel->maps;
  const bpf_map* by_id[RL_MAP_COUNT] = {m->sys_stats, m->sys_errors, m->procs,
                                        m->task_states};
  for (uint32_t i = 0; i < RL_MAP_COUNT; ++i) {
    MapStatus st;
    st.name = kMapNames[i];
    ReadUpdateErrors(m->sys_update_errors, i, &st);
    st.capacity = bpf_map__max_entries(by_id[i]);
    if (by_id[i] == m->sys_stats) {
      st.entries = last_.stats_entries;
      st.evictions = spilled_total_;
    }
    if (by_id[i] == m->sys_errors) st.entries = last_.errno_entries;
    if (by_id[i] == m->procs) st.entries = last_.procs;
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace redline
