// Loads and attaches the concerns `--probes` asks for, one BPF object
// each, for `redline run`, `redline top` and `redline check`: one that
// fails is reported and the others keep working. The table of concerns
// (kProbeTable in probe_set.cc) is the one place that names every probe.
#ifndef REDLINE_AGENT_PROBES_PROBE_SET_H_
#define REDLINE_AGENT_PROBES_PROBE_SET_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/model/model.h"
#include "agent/model/naming.h"
#include "agent/probes/probe.h"
#include "agent/probes/store.h"

namespace redline {

// Map sizes and which concerns to load (the --max-*-entries and --probes
// flags).
struct ProbeSetOptions {
  std::vector<std::string> probes = {"syscalls", "sched", "block", "tcp", "l7"};
  uint32_t max_processes = 32768;
  uint32_t max_syscall_entries = 65536;
  uint32_t max_errno_entries = 16384;
  uint32_t max_sched_entries = 32768;
  uint32_t max_disk_entries = 16384;
  uint32_t max_tcp_entries = 16384;
  uint32_t max_http_entries = 16384;
  uint32_t max_connections = 65536;  // l7's connection table
  bool tls = false;              // l7 also reads TLS plaintext (uprobes)
  bool tls_late_attach = false;  // TLS libraries mapped after start too
  std::vector<uint16_t> dns_ports = {53};  // UDP ports DNS is served on
  uint32_t h2_buffer_bytes = 4u << 20;     // HTTP/2 event ring buffer
  NamingOptions naming;
};

// Every concern, in the order its families are exported: its name and how
// to load it (open and verify, not attach).
struct ProbeKind {
  const char* name;
  bool required;  // `redline check` fails without it (others warn)
  std::function<absl::StatusOr<std::unique_ptr<Probe>>(const ProbeSetOptions&)>
      load;
};
const std::vector<ProbeKind>& ProbeKinds();

struct ProbeSet {
  std::vector<std::unique_ptr<Probe>> probes;  // attached, in table order
  Probes view;                                 // what the store reads
  std::vector<std::string> warnings;  // programs or concerns that failed

  // True if the concern loaded (whether or not all its programs attached).
  bool Has(const std::string& name) const;
  // Sets SLO thresholds in every loaded concern.
  void SetSloThresholds(const SloSlots& slots);
  // Detaches everything: the host stops paying for tracing at once.
  void Detach();
};

// Fails (with the first reason) only when no program at all attached.
// SLO thresholds, when given, are set before anything attaches, so every
// event is measured against them.
absl::StatusOr<std::unique_ptr<ProbeSet>> LoadProbes(
    const ProbeSetOptions& opts, const SloSlots* slo_slots);

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_PROBE_SET_H_
