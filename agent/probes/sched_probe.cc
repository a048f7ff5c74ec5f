#include "agent/probes/sched_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <signal.h>
#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "agent/identity/cgroup_paths.h"
#include "agent/model/culprits.h"
#include "agent/model/fill_watch.h"
#include "agent/model/ledger.h"
#include "agent/model/offcpu.h"
#include "agent/model/throttle.h"
#include "agent/model/v1_path_cache.h"
#include "agent/model/workload_namer.h"
#include "agent/probes/bpf_util.h"
#include "agent/probes/ledger_map.h"
#include "bpf/sched.h"
#include "sched.skel.h"

namespace redline {

static_assert(sizeof(rl_sched_key) == 32);
static_assert(offsetof(rl_sched_key, cgroup_id) == 8);
static_assert(offsetof(rl_sched_key, comm) == 16);
static_assert(sizeof(rl_sched_val) ==
              8 * (6 + RL_OFF_REASONS + RL_SCHED_HIST_SLOTS));
static_assert(offsetof(rl_sched_val, exited) == 32);
static_assert(offsetof(rl_sched_val, off_ns) == 40);
static_assert(offsetof(rl_sched_val, rq_hist) == 88);
static_assert(offsetof(rl_sched_val, steal_ns) == 408);
static_assert(RL_OFF_REASONS == kOffCpuReasons);
static_assert(sizeof(rl_culprit_key) == 48);
static_assert(offsetof(rl_culprit_key, victim) == 8);
static_assert(offsetof(rl_culprit_key, culprit) == 24);
static_assert(offsetof(rl_culprit_key, victim_tgid) == 40);
static_assert(RL_SCHED_HIST_SLOTS == RL_HIST_SLOTS, "shares Log2Hist");

namespace {

// The kernel key as bytes: hashable, and what the delete needs back.
std::string KeyBytes(const rl_sched_key& k) {
  return std::string(reinterpret_cast<const char*>(&k), sizeof(k));
}

SchedStats ToStats(const rl_sched_val& v) {
  SchedStats s;
  s.cpu_ns = v.oncpu_ns;
  s.voluntary = v.voluntary;
  s.involuntary = v.involuntary;
  s.rq_sum_ns = v.rq_sum_ns;
  s.steal_ns = v.steal_ns;
  std::copy(v.rq_hist, v.rq_hist + RL_SCHED_HIST_SLOTS, s.rq_hist.begin());
  std::copy(v.off_ns, v.off_ns + RL_OFF_REASONS, s.off_ns.begin());
  return s;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A live scheduler entry: whose cgroups to read for throttling.
struct Member {
  uint32_t tgid;
  uint64_t cgroup_id;
  WorkloadId id;
};

}  // namespace

struct SchedProbe::Impl {
  explicit Impl(const SchedProbeOptions& o)
      : opts(o), namer(o.naming), ledger({6, PidAlive}) {}
  SchedProbeOptions opts;
  SkelPtr<sched_bpf, sched_bpf__destroy> skel;
  std::vector<LinkPtr> links;
  std::vector<ProgramStatus> missing;
  WorkloadNamer namer;
  Ledger<std::string, SchedStats> ledger;
  CulpritLedger culprits;
  uint64_t culprit_entries = 0;
  // Throttling: cgroup v2 paths by id, and the v1 hierarchy holding the
  // cpu controller where there is one (hybrid hosts).
  std::unique_ptr<CgroupPaths> v2;
  std::string v1_mount;
  std::vector<Member> members;  // of the current read
  // Each process's v1 cpu cgroup (hybrid and v1 hosts only).
  V1PathCache v1_paths{[](uint32_t tgid) {
                         return CpuCgroupV1Path(Slurp(
                             "/proc/" + std::to_string(tgid) + "/cgroup"));
                       },
                       std::chrono::seconds(10), std::chrono::seconds(30)};
  uint64_t entries = 0;
  uint64_t evictions = 0;
  // sched_stats only: the culprit table is a bounded top that folds the
  // rest by design, a full one is its steady state.
  FillWatch stats_fill;

  uint64_t Inserts(uint32_t map) const {
    return __atomic_load_n(&skel->bss->rl_inserts[map], __ATOMIC_RELAXED);
  }
};

SchedProbe::SchedProbe(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

bool SchedProbe::Pressed() const {
  return impl_->stats_fill.Pressed(impl_->Inserts(RL_SCHED_MAP_STATS));
}
SchedProbe::~SchedProbe() { Detach(); }

absl::StatusOr<std::unique_ptr<SchedProbe>> SchedProbe::Load(
    const SchedProbeOptions& opts) {
  auto impl = std::make_unique<Impl>(opts);
  impl->skel.reset(sched_bpf__open());
  if (!impl->skel) return LibbpfError(-errno, "opening sched BPF object");
  auto* s = impl->skel.get();
  bpf_map__set_max_entries(s->maps.sched_stats, opts.max_entries);
  const std::vector<uint8_t> classes = OffCpuSyscallClasses(RL_OFF_MAX_NR);
  std::copy(classes.begin(), classes.end(), s->rodata->off_sys_class);
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  s->rodata->culprit_by_pid = opts.naming.pid_labels ? 1 : 0;
  s->rodata->loaded_ns = static_cast<uint64_t>(now.tv_sec) * 1000000000ULL +
                         static_cast<uint64_t>(now.tv_nsec);
  impl->missing = DisableMissingTracepoints(s->obj, "sched");
  if (auto p = CgroupPaths::Open(); p.ok()) impl->v2 = std::move(*p);
  impl->v1_mount =
      FindCpuV1Mount(Slurp("/proc/self/mountinfo")).value_or(std::string());
  // With sched_info (CONFIG_SCHED_INFO) the kernel stamps queueing itself
  // and run-queue waits need no wakeup hooks: not loaded, not listed.
  if (KernelHasMember("sched_info", "last_queued") &&
      KernelHasMember("sched_entity", "cfs_rq") &&
      KernelHasMember("cfs_rq", "rq")) {
    bpf_program__set_autoload(s->progs.sched_wakeup, false);
    bpf_program__set_autoload(s->progs.sched_wakeup_new, false);
    std::erase_if(impl->missing, [](const ProgramStatus& p) {
      return p.name == "sched/sched_wakeup" ||
             p.name == "sched/sched_wakeup_new";
    });
  }
  if (int err = sched_bpf__load(s); err != 0) {
    return LibbpfError(err, "loading sched BPF programs");
  }
  return std::unique_ptr<SchedProbe>(new SchedProbe(std::move(impl)));
}

absl::Status SchedProbe::Attach() {
  // Without wakeup_new, a new task's first wait is not seen; without
  // task_rename, entries of renamed processes are freed once idle.
  return AttachAll(impl_->skel->obj, "sched", impl_->missing,
                   {"sched/sched_wakeup_new", "sched/task_rename"},
                   &impl_->links, &programs_);
}

void SchedProbe::Detach() {
  if (impl_) DetachAll(&impl_->links, &programs_);
}

absl::Status SchedProbe::ReadInto(Snapshot* snap) {
  auto* out = &snap->workloads;
  Impl& im = *impl_;
  im.namer.Begin();
  im.members.clear();
  im.stats_fill.ReadStarted(im.Inserts(RL_SCHED_MAP_STATS));
  auto res = ReadLedgerMap<rl_sched_key, rl_sched_val, SchedStats>(
      im.skel->maps.sched_stats, &im.ledger,
      [&im](const rl_sched_key& k, const rl_sched_val& v) {
        LedgerEntry<SchedStats> e;
        e.id =
            im.namer.Name(std::string(k.comm, strnlen(k.comm, sizeof(k.comm))),
                          k.tgid, k.cgroup_id);
        e.stats = ToStats(v);
        e.exited = v.exited != 0;
        if (!e.exited) im.members.push_back({k.tgid, k.cgroup_id, e.id});
        // Every field only grows: their sum changes iff the entry changed.
        e.fingerprint =
            v.oncpu_ns + v.voluntary + v.involuntary + v.rq_sum_ns + v.steal_ns;
        for (uint64_t off : v.off_ns) e.fingerprint += off;
        return e;
      },
      [out](const WorkloadId& id, const SchedStats& s) {
        WorkloadStats& w = (*out)[id];
        w.has_sched = true;
        w.sched.Add(s);
      });
  absl::Status culprits = ReadCulprits(out);  // names through namer too
  im.namer.End();
  if (!res.ok()) return res.status();
  im.entries = res->entries;
  im.evictions += res->retired;
  im.stats_fill.ReadDone(res->entries,
                         bpf_map__max_entries(im.skel->maps.sched_stats));
  ReadThrottle(out);
  return culprits;
}

// Each cgroup with a CPU quota that a workload's processes are in, once
// per read: v2 by the entries' cgroup ids; v1 (the cpu controller on its
// own hierarchy) by each process's /proc/<pid>/cgroup, with backoff in its
// first 10 s and then every 30 s (model/v1_path_cache.h).
void SchedProbe::ReadThrottle(std::map<WorkloadId, WorkloadStats>* out) {
  Impl& im = *impl_;
  std::map<WorkloadId, std::set<std::pair<bool, std::string>>> dirs;
  // One lookup per cgroup, not per process (each is an open_by_handle_at,
  // a readlink and a close: 288 per scrape for 500 processes in a few
  // cgroups, issue 23).
  absl::flat_hash_map<uint64_t, std::optional<std::string>> v2_paths;
  const bool v1 = !im.v1_mount.empty();
  if (v1) im.v1_paths.Begin(std::chrono::steady_clock::now());
  for (const Member& m : im.members) {
    if (im.v2) {
      auto [it, fresh] = v2_paths.try_emplace(m.cgroup_id);
      if (fresh) it->second = im.v2->Path(m.cgroup_id);
      const std::optional<std::string>& p = it->second;
      if (p && *p != "/" && !p->empty()) {
        dirs[m.id].insert({true, im.v2->mount() + *p});
      }
    }
    if (v1) {
      const uint64_t incarnation =
          absl::Hash<std::pair<uint64_t, std::string>>{}(
              {m.cgroup_id, m.id.comm});
      const auto& p = im.v1_paths.Get(m.tgid, incarnation);
      if (p && *p != "/") dirs[m.id].insert({false, im.v1_mount + *p});
    }
  }
  if (v1) im.v1_paths.End();
  std::map<std::pair<bool, std::string>, std::optional<CpuThrottle>> read;
  for (const auto& [id, ds] : dirs) {
    for (const auto& d : ds) {
      auto [it, fresh] = read.try_emplace(d);
      if (fresh) it->second = ReadCpuThrottle(d.second, d.first);
      if (!it->second) continue;
      WorkloadStats& w = (*out)[id];
      w.has_throttle = true;
      w.throttle.Add(*it->second);
    }
  }
}

// Pairs not grown for this many reads are freed (CulpritLedger); with pid
// labels, or with the table over 3/4 full, after one.
constexpr int kCulpritIdleReads = 30;

absl::Status SchedProbe::ReadCulprits(
    std::map<WorkloadId, WorkloadStats>* out) {
  Impl& im = *impl_;
  const uint64_t cap = bpf_map__max_entries(im.skel->maps.culprits);
  im.culprits.Begin(im.opts.naming.pid_labels || im.culprit_entries * 4 > cap * 3
                        ? 1
                        : kCulpritIdleReads);
  std::vector<rl_culprit_key> gone;
  auto n = ForEachEntry(
      im.skel->maps.culprits, [&im, &gone](const void* kp, const void* vp) {
        const auto& k = *static_cast<const rl_culprit_key*>(kp);
        const WorkloadId victim = im.namer.Name(
            std::string(k.victim, strnlen(k.victim, sizeof(k.victim))),
            k.victim_tgid, k.victim_cgroup);
        const absl::string_view culprit(
            k.culprit, strnlen(k.culprit, sizeof(k.culprit)));
        if (im.culprits.Add(
                absl::string_view(static_cast<const char*>(kp), sizeof(k)),
                victim, culprit, *static_cast<const uint64_t*>(vp))) {
          gone.push_back(k);
        }
      });
  im.culprits.Finish(out);
  DeleteKeys(im.skel->maps.culprits, gone.data(), gone.size());
  if (!n.ok()) return n.status();
  im.culprit_entries = *n - gone.size();
  return absl::OkStatus();
}

std::vector<MapStatus> SchedProbe::maps() const {
  auto* m = &impl_->skel->maps;
  std::vector<MapStatus> out(RL_SCHED_MAP_COUNT);
  out[0].name = "sched_stats";
  out[0].capacity = bpf_map__max_entries(m->sched_stats);
  out[0].entries = impl_->entries;
  out[0].evictions = impl_->evictions;
  out[1].name = "sched_tasks";
  out[2].name = "culprits";
  out[2].capacity = bpf_map__max_entries(m->culprits);
  out[2].entries = impl_->culprit_entries;
  for (uint32_t i = 0; i < RL_SCHED_MAP_COUNT; ++i) {
    ReadUpdateErrors(m->sched_update_errors, i, &out[i]);
  }
  return out;
}

}  // namespace redline
