// The in-memory model of everything redline collected. One Snapshot is built
// per refresh and shared read-only by every consumer (the Prometheus
// families, the JSON snapshot, the SLO engine and `redline top`), so no
// consumer reads kernel maps its own way.
#ifndef REDLINE_AGENT_MODEL_MODEL_H_
#define REDLINE_AGENT_MODEL_MODEL_H_

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/model/histogram.h"

namespace redline {

// Per SLO slot (bpf/slo.h): events at most that slot's latency threshold.
inline constexpr int kSloSlots = 4;
using SloWithin = std::array<uint64_t, kSloSlots>;

// What the kernel is told (bpf/slo.h): thresholds per slot (0: off) for
// HTTP requests and for syscalls, and which slots each syscall feeds.
struct SloSlots {
  SloWithin http_ns{};
  SloWithin sys_ns{};
  std::vector<uint8_t> sys_mask;  // by syscall number; bit i: slot i
  bool operator==(const SloSlots&) const = default;
};

struct SyscallStats {
  uint64_t calls = 0;
  uint64_t errors = 0;
  uint64_t sum_ns = 0;
  Log2Hist hist{};
  SloWithin within{};                   // for syscalls an SLO names
  std::map<uint32_t, uint64_t> errnos;  // positive errno -> count

  void Add(const SyscallStats& o);
};

// What a series is labelled with. pid is 0 unless --pid-labels is on; an
// empty identity field is an absent label (not an empty one).
struct WorkloadId {
  std::string comm;
  uint32_t pid = 0;
  std::string container_id;
  std::string pod_uid;
  std::string systemd_unit;
  std::string namespace_name;  // Kubernetes names, from the kubelet
  std::string pod;
  std::string container;
  std::string workload;
  auto operator<=>(const WorkloadId&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const WorkloadId& w) {
    return H::combine(std::move(h), w.comm, w.pid, w.container_id, w.pod_uid,
                      w.systemd_unit, w.namespace_name, w.pod, w.container,
                      w.workload);
  }
};

// Why blocked threads were off the CPU (model/offcpu.h names them).
inline constexpr int kOffCpuReasons = 6;

// Scheduler view of a workload (bpf/sched.bpf.c). Per thread, on-CPU +
// stolen + run-queue + every off-CPU reason is its wall time.
struct SchedStats {
  uint64_t cpu_ns = 0;
  uint64_t steal_ns = 0;     // on a CPU, not running (hypervisor, IRQs)
  uint64_t voluntary = 0;    // context switches to block
  uint64_t involuntary = 0;  // preempted while runnable
  uint64_t rq_sum_ns = 0;    // total run-queue wait
  Log2Hist rq_hist{};        // run-queue waits, log2 ns
  std::array<uint64_t, kOffCpuReasons> off_ns{};  // blocked, by reason

  void Add(const SchedStats& o);
};

// CPU bandwidth throttling of the cgroups a workload's processes are in
// (model/throttle.h): their sum, each cgroup once.
struct CpuThrottle {
  uint64_t periods = 0;            // enforcement periods that had runnable work
  uint64_t throttled_periods = 0;  // of which its quota ran out
  uint64_t throttled_ns = 0;       // time its threads were held back
  void Add(const CpuThrottle& o) {
    periods += o.periods;
    throttled_periods += o.throttled_periods;
    throttled_ns += o.throttled_ns;
  }
};

// A block device (name from /sys/block, or "MAJ:MIN") and an operation:
// read, write, flush, discard, other.
struct DiskKey {
  std::string device;
  std::string op;
  auto operator<=>(const DiskKey&) const = default;
};

struct DiskIoStats {
  uint64_t ios = 0;  // completions, as /proc/diskstats counts them
  uint64_t bytes = 0;
  uint64_t sum_ns = 0;    // issue to completion
  uint64_t queue_ns = 0;  // insert to issue (I/O scheduler queue)
  Log2Hist hist{};        // issue to completion, of I/Os seen issued

  void Add(const DiskIoStats& o);
};

// The other end of a workload's TCP connections: `remote` ("10.0.0.5:5432",
// "[2001:db8::1]:443") for connections it opened, `local_port` for
// connections it accepted (clients are aggregated to the listening port).
struct TcpPeer {
  std::string remote;
  std::string local_port;
  auto operator<=>(const TcpPeer&) const = default;
};

struct TcpStats {
  uint64_t retrans_segs = 0;
  uint64_t resets_sent = 0;
  uint64_t resets_received = 0;
  uint64_t connects_ok = 0;
  uint64_t connects_failed = 0;
  uint64_t refused = 0;  // failed connects by reason (the rest: aborted)
  uint64_t timed_out = 0;
  uint64_t unreachable = 0;
  uint64_t accepts = 0;
  uint64_t connect_sum_ns = 0;
  Log2Hist connect_hist{};  // SYN_SENT -> ESTABLISHED
  uint64_t srtt_sum_ns = 0;
  Log2Hist srtt_hist{};            // one smoothed-RTT sample per socket-second
  uint64_t data_segs_out = 0;      // data segments sent, retransmits included
  uint64_t data_segs_retrans = 0;  // of those, retransmitted (the SLI's bad)

  void Add(const TcpStats& o);
};

// One kind of request a workload served or made (bpf/l7.bpf.c), in any
// request protocol. What operation and outcome hold, and the label names
// they are exported under, is the protocol's (model/request_protocols.h).
struct RequestKey {
  std::string protocol;    // a RequestProtocols() name: "http"
  bool server = true;      // served (accepted connection) or made
  std::string operation;   // http: method, "GET".."PATCH" or "unknown"
  std::string outcome;     // http: status class, "1xx".."5xx"
  std::string remote;      // client side: the server's address:port
  std::string local_port;  // server side: the port it was served on
  bool tls = false;        // read at a TLS library (bpf/tls.bpf.c)
  auto operator<=>(const RequestKey&) const = default;
};

struct RequestStats {
  uint64_t requests = 0;  // completed: a response started
  uint64_t timed = 0;     // of which the request start was seen
  uint64_t sum_ns = 0;
  FineHist hist{};     // request start to response start
  SloWithin within{};  // timed, at most each SLO threshold

  void Add(const RequestStats& o);
};

struct WorkloadStats {
  std::map<uint32_t, SyscallStats> syscalls;  // by syscall number
  bool has_sched = false;
  SchedStats sched;
  // Run-queue wait by the workload (comm) that held the CPU, "[other]"
  // for idle, unknown or folded (model/culprits.h).
  std::map<std::string, uint64_t> rq_culprits;
  bool has_throttle = false;  // a cgroup of it has a CPU quota
  CpuThrottle throttle;
  std::map<DiskKey, uint64_t> disk_bytes;  // I/O this workload issued
  std::map<TcpPeer, TcpStats> tcp;
  std::map<RequestKey, RequestStats> requests;
  // The worst 5-minute burn rate of the SLOs whose selector matches this
  // workload (agent history), -1 when none does.
  double slo_burn = -1;
};

struct SloBurn {
  std::string name;
  double burn_1m = 0, burn_5m = 0;
};

// Host-wide stall time from /proc/pressure/* (PSI), when enabled.
struct PressureStats {
  std::string resource;  // cpu, io, memory
  std::string kind;      // some, full
  uint64_t total_us = 0;
};

struct ProgramStatus {
  std::string name;  // e.g. "syscalls/sys_enter"
  bool attached = false;
  std::string reason;  // why not, when not attached
  int fd = -1;         // while attached: to read its kernel stats
  // Runs the kernel skipped because the program was already running on
  // that CPU (bpf_prog_info.recursion_misses, since 5.12).
  uint64_t recursion_misses = 0;
};

// The errno label of redline_bpf_map_update_errors_total, in the order of
// bpf/map_errors.h's enum rl_update_error.
inline constexpr int kUpdateErrorKinds = 5;
inline constexpr const char* kUpdateErrorNames[kUpdateErrorKinds] = {
    "E2BIG", "ENOMEM", "EBUSY", "ENOENT", "other"};

struct MapStatus {
  std::string name;
  uint64_t drops = 0;      // updates lost: the sum of update_errors
  uint64_t evictions = 0;  // live entries moved to the agent to make room
  uint64_t entries = 0;
  uint64_t capacity = 0;
  uint64_t update_errors[kUpdateErrorKinds] = {};  // by kind, counted in BPF
};

// The TLS uprobes (bpf/tls.bpf.c, probes/tls_probe): library files probed
// now and files refused, by library ("openssl", "gnutls") and reason
// ("cap": over the file cap; "no_symbols"; "attach_failed").
struct TlsStatus {
  bool loaded = false;
  std::map<std::string, uint64_t> files;
  std::map<std::pair<std::string, std::string>, uint64_t> skipped;
  uint64_t links = 0;  // uprobes attached, over every file
};

// What reading one concern's kernel maps has cost so far (cumulative).
struct ReadCost {
  uint64_t reads = 0;
  double seconds = 0;
  // Reads this concern asked for before the refresh interval was up,
  // because its maps were filling (Probe::Pressed).
  uint64_t early = 0;
};

struct Snapshot {
  int64_t taken_unix_ns = 0;
  std::string host, kernel;         // uname nodename, release
  int64_t agent_start_unix_ns = 0;  // when this agent (or top) started
  std::vector<SloBurn> slos;        // with --slo-config
  std::map<WorkloadId, WorkloadStats> workloads;
  std::map<DiskKey, DiskIoStats> disks;
  std::vector<PressureStats> pressure;
  // Request-parsing events (bpf/l7.h rl_l7_counter), by kind.
  std::map<std::string, uint64_t> request_unparsed;
  TlsStatus tls;
  // HTTP/2's ring buffer (bpf/l7_h2.bpf.h h2_events), drained so far:
  // its records and the frames they carried (none without the l7 probe's
  // HTTP/2 drain).
  struct H2Ring {
    bool loaded = false;
    uint64_t records = 0, frames = 0;
  } h2_ring;
  std::vector<ProgramStatus> programs;
  std::vector<MapStatus> maps;
  uint64_t live_processes = 0;
  double read_seconds = 0;  // time to read and fold the kernel maps
  // By concern (a probe's name, "programs" for BPF run stats, "pressure"
  // for PSI files), including the read behind this snapshot.
  std::map<std::string, ReadCost> read_costs;
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_MODEL_H_
