// Command line of the `redline` binary: a subcommand and --flags.
#ifndef REDLINE_AGENT_APP_FLAGS_H_
#define REDLINE_AGENT_APP_FLAGS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/identity/identity.h"
#include "agent/metrics/histogram_selector.h"
#include "agent/probes/probe_set.h"

namespace redline {

inline constexpr char kDefaultListen[] = "127.0.0.1:10433";

struct Options {
  std::string command;  // run, check, rules, top; empty with --help/--version
  bool help = false;
  bool version = false;
  std::string listen = kDefaultListen;
  std::string log_level = "info";
  std::string btf = "/sys/kernel/btf/vmlinux";
  bool pid_labels = false;
  uint32_t refresh_interval_s = 10;
  uint32_t max_processes = 32768;
  uint32_t max_syscall_entries = 65536;
  uint32_t max_errno_entries = 16384;
  uint32_t max_series_per_family = 2000;
  uint32_t max_series = 0;  // all workload families together; 0: no limit
  std::map<std::string, int> series_priorities;  // family -> level
  SyscallHistogramPolicy syscall_histograms;     // default: all
  // Protobuf scrapes (native histograms) get no classic buckets.
  bool native_histograms_only = false;
  uint32_t max_sched_entries = 32768;
  uint32_t max_disk_entries = 16384;
  uint32_t max_tcp_entries = 16384;
  uint32_t max_http_entries = 16384;
  uint32_t max_connections = 65536;  // followed by l7 at once
  // Probes to load (probes/probe_set.cc has the table): syscalls, sched,
  // block, tcp, l7.
  bool strict = false;                    // any program not attached: exit
  bool tls = false;              // TLS request RED (uprobes)
  bool tls_late_attach = false;  // keep what TLS uprobes after start need
  std::vector<uint16_t> dns_ports = {53};  // UDP ports DNS is served on
  uint32_t h2_buffer_bytes = 4u << 20;     // HTTP/2 event ring buffer
  std::vector<std::string> programs_off;  // programs not to load
  std::vector<std::string> probes = {"syscalls", "sched", "block", "tcp",
                                       "l7"};
  // Identity labels: any of container_id, pod_uid, systemd_unit, kubernetes
  // (namespace, pod, container, workload); "none" for comm only.
  std::vector<std::string> identity_labels = {"container_id", "pod_uid",
                                              "systemd_unit", "kubernetes"};
  std::string cgroup_root;  // empty: found in /proc/self/mountinfo
  std::string kubelet_url;  // empty: in-cluster default when a token exists
  std::string kubelet_token_file;
  std::string kubelet_ca_file;
  bool kubelet_insecure_skip_verify = false;
  std::string slo_config;                  // SLO file (YAML)
  std::string web_config_file;             // TLS and basic auth (YAML)
  std::string rules_format = "prometheus";  // rules: or prometheus-operator
  std::string output;                      // rules: file; empty: stdout
  // top
  bool batch = false;        // -b: text snapshots to stdout
  bool json = false;         // batch as JSON lines
  double delay_s = 2;        // -d: refresh interval
  uint32_t iterations = 0;   // -n: reports then exit; 0: until interrupted
  std::string connect;       // a running agent's URL
  std::string top_sort = "CPU%";
  std::string top_group = "process";
  std::string top_filter;    // rows whose name contains this
  std::string top_why;       // batch: the breakdown of this row only
  std::string top_at;        // batch: the agent's interval at that time
  // run: seconds of per-refresh history for top --at (0: off).
  int64_t history_s = 3600;
};

// Parses argv (without argv[0]). Errors are one line, ready for stderr.
absl::StatusOr<Options> ParseFlags(const std::vector<std::string>& args);

std::string UsageText();

// What the probes need of the flags; `resolver` (may be null) names cgroups.
ProbeSetOptions ProbeOptionsFrom(const Options& opts,
                                 IdentityResolver* resolver);

}  // namespace redline

#endif  // REDLINE_AGENT_APP_FLAGS_H_
