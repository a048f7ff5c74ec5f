#include "agent/probes/l7_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <signal.h>
#include <time.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/base/logging.h"
#include "agent/model/endpoint.h"
#include "agent/model/ledger.h"
#include "agent/model/request_protocols.h"
#include "agent/model/workload_namer.h"
#include "agent/probes/bpf_util.h"
#include "agent/probes/dns_sweep.h"
#include "agent/probes/h2_events.h"
#include "agent/probes/ledger_map.h"
#include "agent/probes/tls_probe.h"
#include "bpf/l7.h"
#include "bpf/l7_dns.h"
#include "l7.skel.h"

namespace redline {

static_assert(sizeof(rl_l7_key) == 48);
static_assert(offsetof(rl_l7_key, addr) == 24);
static_assert(offsetof(rl_l7_key, port) == 40);
static_assert(offsetof(rl_l7_key, outcome) == 46);
static_assert(sizeof(rl_l7_val) == 8 * (3 + RL_L7_HIST_SLOTS + RL_SLO_SLOTS));
static_assert(RL_SLO_SLOTS == kSloSlots, "shares SloWithin");
static_assert(RL_L7_HIST_SLOTS == kFineSlots, "shares FineHist");

namespace {

struct ByKind {
  std::map<RequestKey, RequestStats> by;
  void Add(const ByKind& o) {
    for (const auto& [k, s] : o.by) by[k].Add(s);
  }
};

// nullopt for a protocol the agent's table does not know: the kernel and
// the agent are built from one bpf/l7.h, so only a mismatched build gets
// here; its requests are counted as skipped, never under another name.
std::optional<RequestKey> KeyOf(const rl_l7_key& k) {
  RequestKey h;
  h.server = k.role == RL_L7_SERVER;
  const RequestProtocol* p = RequestProtocolByKernelId(k.proto);
  if (p == nullptr) return std::nullopt;
  h.protocol = p->name;
  h.operation = p->operation_name(k.op);
  h.outcome = p->outcome_name(k.outcome);
  h.tls = k.tls != 0;
  if (h.server) {
    h.local_port = absl::StrCat(k.port);
  } else {
    h.remote = FormatEndpoint(k.family, k.addr, k.port);
  }
  return h;
}

RequestStats ToStats(const rl_l7_val& v) {
  RequestStats s;
  s.requests = v.requests;
  s.timed = v.timed;
  s.sum_ns = v.sum_ns;
  std::copy(v.hist, v.hist + RL_L7_HIST_SLOTS, s.hist.begin());
  std::copy(v.within, v.within + RL_SLO_SLOTS, s.within.begin());
  return s;
}

// Which syscalls carry socket I/O, and the shape of their buffer argument.
// sendmmsg/recvmmsg (glibc's resolver sends A and AAAA in one; TCP too):
// the tracepoints fire once per message of the vector, and pt_regs only
// point at the vector (bpf/l7.bpf.c mmsg_entry).
void MarkSyscalls(volatile __u8* kind) {
  auto mark = [kind](long nr, __u8 k) {
    if (nr >= 0 && nr < RL_L7_MAX_NR) kind[nr] = k;
  };
#ifdef SYS_read
  mark(SYS_read, RL_L7_IN | RL_L7_BUF);
#endif
#ifdef SYS_write
  mark(SYS_write, RL_L7_OUT | RL_L7_BUF);
#endif
  mark(SYS_readv, RL_L7_IN | RL_L7_IOV);
  mark(SYS_writev, RL_L7_OUT | RL_L7_IOV);
  mark(SYS_recvfrom, RL_L7_IN | RL_L7_BUF);
  mark(SYS_sendto, RL_L7_OUT | RL_L7_BUF | RL_L7_TO);
  mark(SYS_recvmsg, RL_L7_IN | RL_L7_MSG);
  mark(SYS_sendmsg, RL_L7_OUT | RL_L7_MSG);
  mark(SYS_recvmmsg, RL_L7_IN | RL_L7_MMSG);
  mark(SYS_sendmmsg, RL_L7_OUT | RL_L7_MMSG);
  // nginx sends HTTP/2 DATA payloads with sendfile, between frame headers
  // it writes: a walk must know how many bytes went by.
  mark(SYS_sendfile, RL_L7_OUT | RL_L7_OPAQUE);
}

// Socket I/O from sock:sock_{send,recv}_length (6.3+) when the kernel has
// both, else from raw_syscalls:sys_exit: the programs of the path not taken
// are not loaded, and not listed (an alternative this kernel does not need
// is no failure, nor a --strict warning); `redline check` says which
// tracepoints are there. Returns `missing` without them.
std::vector<ProgramStatus> ChooseIoPath(l7_bpf* s,
                                        std::vector<ProgramStatus> missing) {
  bpf_program* sock_io[] = {s->progs.l7_send, s->progs.l7_recv};
  const bool have =
      bpf_program__autoload(sock_io[0]) && bpf_program__autoload(sock_io[1]);
  std::vector<std::string> unused;
  if (have) {
    unused.push_back("l7/l7_exit");
    bpf_program__set_autoload(s->progs.l7_exit, false);
  } else {
    for (bpf_program* p : sock_io) {
      unused.push_back(absl::StrCat("l7/", bpf_program__name(p)));
      bpf_program__set_autoload(p, false);
    }
  }
  std::vector<ProgramStatus> out;
  for (ProgramStatus& st : missing) {
    const bool drop =
        st.reason != kDisabledReason &&
        std::find(unused.begin(), unused.end(), st.name) != unused.end();
    if (!drop) out.push_back(std::move(st));
  }
  return out;
}

constexpr const char* kCounterNames[RL_L7_COUNTER_COUNT] = {
    "response_without_request", "pipeline_overflow", "request_without_response",
    "unclassified", "dns_response_without_query", "h2_events_lost"};

}  // namespace

struct L7Probe::Impl {
  explicit Impl(const L7ProbeOptions& o)
      : opts(o), namer(o.naming), ledger({6, PidAlive}) {}
  L7ProbeOptions opts;
  SkelPtr<l7_bpf, l7_bpf__destroy> skel;
  std::vector<LinkPtr> links;
  std::vector<ProgramStatus> missing;
  WorkloadNamer namer;
  Ledger<std::string, ByKind> ledger;
  uint64_t stats_entries = 0, evictions = 0;
  uint64_t unknown_protocol = 0;  // requests of this read, see KeyOf
  DnsSweep dns;               // this refresh's
  uint64_t dns_lost = 0;      // timeouts l7_stats had no room for, in all
  uint64_t dns_unmatched = 0;  // early responses no query claimed
  // TLS plaintext into the same maps; null if it failed to load (the
  // reason is logged, plaintext RED goes on).
  std::unique_ptr<TlsUprobes> tls;
  // HTTP/2 requests, counted from the kernel's frame events; null if the
  // ring buffer could not be opened (logged; HTTP/2 is then not counted).
  std::unique_ptr<H2Events> h2;
};

L7Probe::L7Probe(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
L7Probe::~L7Probe() { Detach(); }

absl::StatusOr<std::unique_ptr<L7Probe>> L7Probe::Load(
    const L7ProbeOptions& opts) {
  auto impl = std::make_unique<Impl>(opts);
  impl->skel.reset(l7_bpf__open());
  if (!impl->skel) return LibbpfError(-errno, "opening l7 BPF object");
  auto* s = impl->skel.get();
  bpf_map__set_max_entries(s->maps.l7_stats, opts.max_entries);
  bpf_map__set_max_entries(s->maps.conns, opts.max_connections);
  s->rodata->tls_probed = opts.tls ? 1 : 0;
  if (!opts.tls) {
    bpf_map__set_max_entries(s->maps.tls_socks, 1);
    bpf_map__set_max_entries(s->maps.go_calls, 1);
  }
  bpf_map__set_max_entries(s->maps.h2_events, opts.h2_buffer_bytes);
  s->rodata->h2_wake_bytes = H2Events::WakeBytes(opts.h2_buffer_bytes);
  if (opts.dns_ports.size() > RL_DNS_MAX_PORTS) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at most ", RL_DNS_MAX_PORTS, " DNS ports, got ",
        opts.dns_ports.size(), ": name fewer in --dns-ports"));
  }
  for (size_t i = 0; i < RL_DNS_MAX_PORTS; ++i) {
    s->rodata->dns_ports[i] = i < opts.dns_ports.size() ? opts.dns_ports[i] : 0;
  }
  MarkSyscalls(s->rodata->sys_kind);
  s->rodata->nr_recvfrom = SYS_recvfrom;
  s->rodata->nr_recvmsg = SYS_recvmsg;
  impl->missing = ChooseIoPath(s, DisableMissingTracepoints(s->obj, "l7"));
  // Connection state in the socket's storage where every program that
  // finds it has the socket as a BTF pointer (bpf/l7_conn.bpf.h): the
  // hash, preallocated to max_connections, shrinks to one entry.
  s->rodata->conn_cap = opts.max_connections;
  if (bpf_program__autoload(s->progs.l7_send) && !opts.tls) {
    s->rodata->conn_sk = 1;
    bpf_map__set_max_entries(s->maps.conns, 1);
  }
  if (int err = l7_bpf__load(s); err != 0) {
    return LibbpfError(err, "loading l7 BPF programs");
  }
  if (opts.tls) {
    TlsOptions t;
    t.late_attach = opts.tls_late_attach;
    auto tls = TlsUprobes::Load(s->obj, t);
    if (tls.ok()) {
      impl->tls = std::move(*tls);
    } else {
      Log(LogLevel::kWarn, "l7: no TLS request RED: ", tls.status().message());
    }
  }
  auto h2 = H2Events::Start(bpf_map__fd(s->maps.h2_events),
                            bpf_map__fd(s->maps.l7_stats));
  if (h2.ok()) {
    impl->h2 = std::move(*h2);
  } else {
    Log(LogLevel::kWarn, "l7: no HTTP/2 request RED: ", h2.status().message());
  }
  return std::unique_ptr<L7Probe>(new L7Probe(std::move(impl)));
}

void L7Probe::SetSloThresholds(const SloSlots& slots) {
  const SloWithin& threshold_ns = slots.http_ns;
  // The .bss is mmapped: each 8-byte store is seen by the next request.
  for (int i = 0; i < RL_SLO_SLOTS; ++i) {
    __atomic_store_n(&impl_->skel->bss->slo_threshold_ns[i], threshold_ns[i],
                     __ATOMIC_RELAXED);
  }
  if (impl_->tls) impl_->tls->SetSloThresholds(threshold_ns);
  if (impl_->h2) impl_->h2->SetSloThresholds(threshold_ns);
}

absl::Status L7Probe::Attach() {
  absl::Status s = AttachAll(impl_->skel->obj, "l7", impl_->missing, {},
                             &impl_->links, &programs_);
  if (impl_->tls) {
    (void)impl_->tls->Attach();  // per-library status in snap->tls
    for (ProgramStatus& p : impl_->tls->programs()) programs_.push_back(p);
  }
  return s;
}

void L7Probe::Detach() {
  if (!impl_) return;
  DetachAll(&impl_->links, &programs_);
  if (impl_->tls) impl_->tls->Detach();
}

absl::Status L7Probe::ReadInto(Snapshot* snap) {
  auto* out = &snap->workloads;
  Impl& im = *impl_;
  if (im.h2) {
    im.h2->Drain();  // the first read comes after the drop
    im.h2->Flush();  // before l7_stats is read, on this thread
  }
  // Unanswered DNS queries become timeouts before l7_stats is read, so
  // they are in this snapshot.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  im.dns = SweepDnsTimeouts(
      {.pending = bpf_map__fd(im.skel->maps.dns_pending),
       .early = bpf_map__fd(im.skel->maps.dns_early),
       .stats = bpf_map__fd(im.skel->maps.l7_stats)},
      static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec);
  im.dns_lost += im.dns.lost;
  im.dns_unmatched += im.dns.unmatched;
  im.namer.Begin();
  im.unknown_protocol = 0;
  auto res = ReadLedgerMap<rl_l7_key, rl_l7_val, ByKind>(
      im.skel->maps.l7_stats, &im.ledger,
      [&im](const rl_l7_key& k, const rl_l7_val& v) {
        LedgerEntry<ByKind> e;
        if (auto key = KeyOf(k)) {
          e.stats.by[*key] = ToStats(v);
        } else {
          im.unknown_protocol += v.requests;
        }
        e.id =
            im.namer.Name(std::string(k.comm, strnlen(k.comm, sizeof(k.comm))),
                          0, k.cgroup_id);
        e.fingerprint = v.requests;
        return e;
      },
      [out](const WorkloadId& id, const ByKind& b) {
        WorkloadStats& w = (*out)[id];
        for (const auto& [k, s] : b.by) w.requests[k].Add(s);
      });
  im.namer.End();
  if (!res.ok()) return res.status();
  im.stats_entries = res->entries;
  im.evictions += res->retired;
  for (uint32_t i = 0; i < RL_L7_COUNTER_COUNT; ++i) {
    auto c = SumPercpuU64(im.skel->maps.l7_counters, i);
    if (c.ok()) snap->request_unparsed[kCounterNames[i]] = *c;
  }
  // Early responses the sweep found no query for, beside the kernel's.
  snap->request_unparsed["dns_response_without_query"] += im.dns_unmatched;
  if (im.tls) im.tls->ReadInto(snap);
  if (im.h2) {
    const H2Events::Counts h = im.h2->counts();
    snap->h2_ring = {true, h.stream.events, h.stream.frames};
    snap->request_unparsed["h2_desynced"] = h.stream.desynced;
    snap->request_unparsed["h2_streams_dropped"] = h.stream.dropped_streams;
    snap->request_unparsed["h2_response_without_request"] =
        h.stream.unpaired_responses;
    snap->request_unparsed["h2_request_without_response"] =
        h.stream.unanswered_streams;
    snap->request_unparsed["h2_connections_evicted"] = h.stream.evicted;
    if (h.not_counted != 0) {
      snap->request_unparsed["h2_not_counted"] = h.not_counted;
    }
  }
  if (im.unknown_protocol != 0) {
    snap->request_unparsed["unknown_protocol"] = im.unknown_protocol;
  }
  if (im.dns_lost != 0) {
    snap->request_unparsed["dns_timeout_not_counted"] = im.dns_lost;
  }
  return absl::OkStatus();
}

std::vector<MapStatus> L7Probe::maps() const {
  auto* m = &impl_->skel->maps;
  std::vector<MapStatus> out(RL_L7_MAP_COUNT);
  out[0].name = "l7_stats";
  out[0].capacity = bpf_map__max_entries(m->l7_stats);
  out[0].entries = impl_->stats_entries;
  out[0].evictions = impl_->evictions;
  ReadUpdateErrors(m->l7_update_errors, RL_L7_MAP_STATS, &out[0]);
  // Counted in BPF at insert and delete: no walk of every bucket.
  out[1].name = "l7_connections";
  out[1].capacity = impl_->skel->rodata->conn_cap;
  // +1 and -1 land on different CPUs: a delete may be summed before its
  // insert for a moment (negative, as unsigned).
  if (auto n = SumPercpuU64(m->conn_count, 0); n.ok()) {
    out[1].entries = static_cast<int64_t>(*n) < 0 ? 0 : *n;
  }
  ReadUpdateErrors(m->l7_update_errors, RL_L7_MAP_CONNS, &out[1]);
  out[2].name = "dns_pending";
  out[2].capacity = bpf_map__max_entries(m->dns_pending);
  out[2].entries = impl_->dns.pending;
  ReadUpdateErrors(m->l7_update_errors, RL_L7_MAP_DNS, &out[2]);
  if (impl_->tls) {
    for (MapStatus& st : impl_->tls->maps()) out.push_back(std::move(st));
  }
  return out;
}

}  // namespace redline
