#include "agent/probes/block_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "agent/model/ledger.h"
#include "agent/model/workload_namer.h"
#include "agent/probes/bpf_util.h"
#include "agent/probes/ledger_map.h"
#include "block.skel.h"
#include "bpf/block.h"

namespace redline {

static_assert(sizeof(rl_disk_key) == 8);
static_assert(sizeof(rl_disk_val) == 8 * (4 + RL_BLOCK_HIST_SLOTS));
static_assert(offsetof(rl_disk_val, hist) == 32);
static_assert(sizeof(rl_disk_owner_key) == 32);
static_assert(offsetof(rl_disk_owner_key, cgroup_id) == 8);
static_assert(offsetof(rl_disk_owner_key, comm) == 16);
static_assert(sizeof(rl_disk_owner_val) == 16);
static_assert(RL_BLOCK_HIST_SLOTS == RL_HIST_SLOTS, "shares Log2Hist");

const char* BlockOpName(uint32_t op) {
  switch (op) {
    case 0: return "read";
    case 1: return "write";
    case 2: return "flush";
    case 3:   // REQ_OP_DISCARD
    case 5:   // REQ_OP_SECURE_ERASE
      return "discard";
    case 9:   // REQ_OP_WRITE_ZEROES: written, without a payload
      return "write";
    default: return "other";
  }
}

namespace {

// Bytes of one workload by device and op (Ledger's Stats).
struct OwnerBytes {
  std::map<DiskKey, uint64_t> by;
  void Add(const OwnerBytes& o) {
    for (const auto& [k, n] : o.by) by[k] += n;
  }
};

}  // namespace

struct BlockProbe::Impl {
  explicit Impl(const BlockProbeOptions& o)
      : opts(o), namer(o.naming), ledger({6, PidAlive}) {}
  BlockProbeOptions opts;
  SkelPtr<block_bpf, block_bpf__destroy> skel;
  std::vector<LinkPtr> links;
  std::vector<ProgramStatus> missing;
  WorkloadNamer namer;
  Ledger<std::string, OwnerBytes> ledger;
  absl::flat_hash_map<uint32_t, std::string> dev_names;
  uint64_t disk_entries = 0, owner_entries = 0, evictions = 0;

  // "sda", or "8:0" if /sys does not know the device (yet).
  const std::string& DevName(uint32_t dev) {
    auto it = dev_names.find(dev);
    if (it != dev_names.end() && it->second.find(':') == std::string::npos) {
      return it->second;
    }
    const std::string mm = absl::StrCat(dev >> 20, ":", dev & 0xfffff);
    char buf[512];
    const std::string link = absl::StrCat(opts.sys_dev_block, "/", mm);
    ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
    std::string name = mm;
    if (n > 0) {
      buf[n] = '\0';
      const char* slash = strrchr(buf, '/');
      name = slash ? slash + 1 : buf;
    }
    return dev_names[dev] = std::move(name);
  }
};

BlockProbe::BlockProbe(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlockProbe::~BlockProbe() { Detach(); }

absl::StatusOr<std::unique_ptr<BlockProbe>> BlockProbe::Load(
    const BlockProbeOptions& opts) {
  auto impl = std::make_unique<Impl>(opts);
  impl->skel.reset(block_bpf__open());
  if (!impl->skel) return LibbpfError(-errno, "opening block BPF object");
  auto* s = impl->skel.get();
  bpf_map__set_max_entries(s->maps.disk_owners, opts.max_owner_entries);
  impl->missing = DisableMissingTracepoints(s->obj, "block");
  if (int err = block_bpf__load(s); err != 0) {
    return LibbpfError(err, "loading block BPF programs");
  }
  return std::unique_ptr<BlockProbe>(new BlockProbe(std::move(impl)));
}

absl::Status BlockProbe::Attach() {
  // Without insert there is no queue time; latency and bytes still work.
  return AttachAll(impl_->skel->obj, "block", impl_->missing,
                   {"block/block_rq_insert"}, &impl_->links, &programs_);
}

void BlockProbe::Detach() {
  if (impl_) DetachAll(&impl_->links, &programs_);
}

absl::Status BlockProbe::ReadInto(Snapshot* snap) {
  auto* disks = &snap->disks;
  auto* workloads = &snap->workloads;
  Impl& im = *impl_;
  auto nd = ForEachEntry(im.skel->maps.disk_stats, [&](const void* kp,
                                                       const void* vp) {
    const auto& k = *static_cast<const rl_disk_key*>(kp);
    const auto& v = *static_cast<const rl_disk_val*>(vp);
    DiskIoStats s;
    s.ios = v.ios;
    s.bytes = v.bytes;
    s.sum_ns = v.sum_ns;
    s.queue_ns = v.queue_ns;
    std::copy(v.hist, v.hist + RL_BLOCK_HIST_SLOTS, s.hist.begin());
    (*disks)[{im.DevName(k.dev), BlockOpName(k.op)}].Add(s);
  });
  if (!nd.ok()) return nd.status();
  im.disk_entries = *nd;

  im.namer.Begin();
  auto res = ReadLedgerMap<rl_disk_owner_key, rl_disk_owner_val, OwnerBytes>(
      im.skel->maps.disk_owners, &im.ledger,
      [&im](const rl_disk_owner_key& k, const rl_disk_owner_val& v) {
        LedgerEntry<OwnerBytes> e;
        e.stats.by[{im.DevName(k.dev), BlockOpName(k.op)}] = v.bytes;
        // I/O is attributed to a name and cgroup, never a pid: the flusher
        // that wrote a page back is not the process that dirtied it.
        e.id = im.namer.Name(
            std::string(k.comm, strnlen(k.comm, sizeof(k.comm))), 0,
            k.cgroup_id);
        e.fingerprint = v.ios;
        return e;
      },
      [workloads](const WorkloadId& id, const OwnerBytes& b) {
        WorkloadStats& w = (*workloads)[id];
        for (const auto& [k, n] : b.by) w.disk_bytes[k] += n;
      });
  im.namer.End();
  if (!res.ok()) return res.status();
  im.owner_entries = res->entries;
  im.evictions += res->retired;
  return absl::OkStatus();
}

std::vector<MapStatus> BlockProbe::maps() const {
  auto* m = &impl_->skel->maps;
  std::vector<MapStatus> out(RL_BLOCK_MAP_COUNT);
  const bpf_map* by_id[RL_BLOCK_MAP_COUNT] = {m->disk_stats, m->disk_owners,
                                              m->inflight};
  const char* names[RL_BLOCK_MAP_COUNT] = {"disk_stats", "disk_owners",
                                           "block_inflight"};
  for (uint32_t i = 0; i < RL_BLOCK_MAP_COUNT; ++i) {
    out[i].name = names[i];
    out[i].capacity = bpf_map__max_entries(by_id[i]);
    ReadUpdateErrors(m->block_update_errors, i, &out[i]);
  }
  out[0].entries = impl_->disk_entries;
  out[1].entries = impl_->owner_entries;
  out[1].evictions = impl_->evictions;
  return out;
}

}  // namespace redline
