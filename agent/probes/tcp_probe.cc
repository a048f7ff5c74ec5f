#include "agent/probes/tcp_probe.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/model/endpoint.h"
#include "agent/model/ledger.h"
#include "agent/model/workload_namer.h"
#include "agent/probes/bpf_util.h"
#include "agent/probes/ledger_map.h"
#include "bpf/tcp.h"
#include "tcp.skel.h"

namespace redline {

static_assert(sizeof(rl_tcp_owner) == 56);
static_assert(offsetof(rl_tcp_owner, comm) == 16);
static_assert(sizeof(rl_tcp_key) == 48);
static_assert(offsetof(rl_tcp_key, addr) == 24);
static_assert(offsetof(rl_tcp_key, port) == 40);
static_assert(offsetof(rl_tcp_key, family) == 42);
static_assert(sizeof(rl_tcp_val) == 8 * (13 + 2 * RL_TCP_HIST_SLOTS));
static_assert(offsetof(rl_tcp_val, connect_hist) == 80);
static_assert(RL_TCP_HIST_SLOTS == RL_HIST_SLOTS, "shares Log2Hist");

namespace {

struct ByPeer {
  std::map<TcpPeer, TcpStats> by;
  void Add(const ByPeer& o) {
    for (const auto& [p, s] : o.by) by[p].Add(s);
  }
};

TcpStats ToStats(const rl_tcp_val& v) {
  TcpStats s;
  s.retrans_segs = v.retrans_segs;
  s.resets_sent = v.resets_sent;
  s.resets_received = v.resets_received;
  s.connects_ok = v.connects_ok;
  s.connects_failed = v.connects_failed;
  s.refused = v.refused;
  s.timed_out = v.timed_out;
  s.unreachable = v.unreachable;
  s.accepts = v.accepts;
  s.connect_sum_ns = v.connect_sum_ns;
  std::copy(v.connect_hist, v.connect_hist + RL_TCP_HIST_SLOTS,
            s.connect_hist.begin());
  s.srtt_sum_ns = v.srtt_sum_ns;
  std::copy(v.srtt_hist, v.srtt_hist + RL_TCP_HIST_SLOTS, s.srtt_hist.begin());
  s.data_segs_out = v.data_segs_out;
  s.data_segs_retrans = v.data_segs_retrans;
  return s;
}

uint64_t Fingerprint(const rl_tcp_val& v) {
  uint64_t rtt_samples = 0;
  for (uint64_t n : v.srtt_hist) rtt_samples += n;
  return v.retrans_segs + v.resets_sent + v.resets_received + v.connects_ok +
         v.connects_failed + v.accepts + rtt_samples + v.data_segs_out;
}

TcpPeer PeerOf(const rl_tcp_key& k) {
  TcpPeer p;
  if (k.dir == RL_TCP_SERVER) {
    p.local_port = absl::StrCat(k.port);
  } else {
    p.remote = FormatEndpoint(k.family, k.addr, k.port);
  }
  return p;
}

}  // namespace

struct TcpProbe::Impl {
  explicit Impl(const TcpProbeOptions& o)
      : opts(o), namer(o.naming), ledger({6, PidAlive}) {}
  TcpProbeOptions opts;
  SkelPtr<tcp_bpf, tcp_bpf__destroy> skel;
  std::vector<LinkPtr> links;
  std::vector<ProgramStatus> missing;
  WorkloadNamer namer;
  Ledger<std::string, ByPeer> ledger;
  uint64_t stats_entries = 0, sockets = 0, listeners = 0, evictions = 0;
  std::chrono::steady_clock::time_point counted_at{};
};

TcpProbe::TcpProbe(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TcpProbe::~TcpProbe() { Detach(); }

absl::StatusOr<std::unique_ptr<TcpProbe>> TcpProbe::Load(
    const TcpProbeOptions& opts) {
  auto impl = std::make_unique<Impl>(opts);
  impl->skel.reset(tcp_bpf__open());
  if (!impl->skel) return LibbpfError(-errno, "opening tcp BPF object");
  auto* s = impl->skel.get();
  bpf_map__set_max_entries(s->maps.tcp_stats, opts.max_entries);
  bpf_map__set_max_entries(s->maps.sk_owners, opts.max_sockets);
  impl->missing = DisableMissingTracepoints(s->obj, "tcp");
  // Where the writer's program loads, it samples RTT with the owner in
  // hand; tcp_probe (an owner lookup per segment received) only stands in
  // for it on kernels without that tracepoint (before 6.13) or with it off.
  if (bpf_program__autoload(s->progs.tcp_sendmsg_locked)) {
    bpf_program__set_autoload(s->progs.tcp_probe, false);
  }
  // One of the two variants of the retransmit hook (see tcp.bpf.c).
  const bool with_err = TracepointArgCount("tcp_retransmit_skb") >= 3;
  bpf_program__set_autoload(with_err ? s->progs.tcp_retransmit_skb
                                     : s->progs.tcp_retransmit_skb_err,
                            false);
  if (int err = tcp_bpf__load(s); err != 0) {
    return LibbpfError(err, "loading tcp BPF programs");
  }
  return std::unique_ptr<TcpProbe>(new TcpProbe(std::move(impl)));
}

absl::Status TcpProbe::Attach() {
  // Without sendmsg ownership, accepted connections belong to the process
  // that listens; without synack, SYN-ACK retransmits are not counted.
  return AttachAll(impl_->skel->obj, "tcp", impl_->missing,
                   {"tcp/tcp_sendmsg_locked", "tcp/tcp_retransmit_synack",
                    "tcp/tcp_destroy_sock", "tcp/tcp_probe"},
                   &impl_->links, &programs_);
}

void TcpProbe::Detach() {
  if (impl_) DetachAll(&impl_->links, &programs_);
}

absl::Status TcpProbe::ReadInto(Snapshot* snap) {
  auto* out = &snap->workloads;
  Impl& im = *impl_;
  im.namer.Begin();
  auto res = ReadLedgerMap<rl_tcp_key, rl_tcp_val, ByPeer>(
      im.skel->maps.tcp_stats, &im.ledger,
      [&im](const rl_tcp_key& k, const rl_tcp_val& v) {
        LedgerEntry<ByPeer> e;
        e.stats.by[PeerOf(k)] = ToStats(v);
        e.id = im.namer.Name(
            std::string(k.comm, strnlen(k.comm, sizeof(k.comm))), 0,
            k.cgroup_id);
        e.fingerprint = Fingerprint(v);
        return e;
      },
      [out](const WorkloadId& id, const ByPeer& b) {
        WorkloadStats& w = (*out)[id];
        for (const auto& [p, s] : b.by) w.tcp[p].Add(s);
      });
  im.namer.End();
  if (!res.ok()) return res.status();
  im.stats_entries = res->entries;
  im.evictions += res->retired;
  // Counting the owner maps walks every bucket (65536 by default, each
  // locked by the batch read): a health gauge, refreshed every 10 s, not at
  // every scrape.
  const auto now = std::chrono::steady_clock::now();
  if (now - im.counted_at >= std::chrono::seconds(10)) {
    im.counted_at = now;
    auto socks = ForEachEntry(im.skel->maps.sk_owners,
                              [](const void*, const void*) {});
    im.sockets = socks.ok() ? *socks : 0;
    auto ls = ForEachEntry(im.skel->maps.listeners,
                           [](const void*, const void*) {});
    im.listeners = ls.ok() ? *ls : 0;
  }
  return absl::OkStatus();
}

std::vector<MapStatus> TcpProbe::maps() const {
  auto* m = &impl_->skel->maps;
  std::vector<MapStatus> out(RL_TCP_MAP_COUNT);
  const bpf_map* by_id[RL_TCP_MAP_COUNT] = {m->tcp_stats, m->sk_owners,
                                            m->listeners};
  const char* names[RL_TCP_MAP_COUNT] = {"tcp_stats", "tcp_sockets",
                                         "tcp_listeners"};
  const uint64_t entries[RL_TCP_MAP_COUNT] = {
      impl_->stats_entries, impl_->sockets, impl_->listeners};
  for (uint32_t i = 0; i < RL_TCP_MAP_COUNT; ++i) {
    out[i].name = names[i];
    out[i].capacity = bpf_map__max_entries(by_id[i]);
    out[i].entries = entries[i];
    ReadUpdateErrors(m->tcp_update_errors, i, &out[i]);
  }
  out[0].evictions = impl_->evictions;
  return out;
}

}  // namespace redline
