// Owns bpf/l7.bpf.c: HTTP/1.x request RED per workload, from plaintext
// socket I/O at the sock tracepoints (sys_exit before 6.3).
#ifndef REDLINE_AGENT_PROBES_L7_PROBE_H_
#define REDLINE_AGENT_PROBES_L7_PROBE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/model/model.h"
#include "agent/model/naming.h"
#include "agent/probes/probe.h"

namespace redline {

struct L7ProbeOptions {
  uint32_t max_entries = 16384;      // (workload, role, method, status, peer)
  uint32_t max_connections = 65536;  // tracked sockets
  bool tls = false;  // also TLS plaintext (bpf/tls.bpf.c, tls_probe.h)
  bool tls_late_attach = false;  // see TlsOptions::late_attach
  // UDP ports DNS is served on (at most RL_DNS_MAX_PORTS, checked by Load).
  std::vector<uint16_t> dns_ports = {53};
  // Bytes of the HTTP/2 event ring buffer (a power of 2, page multiple).
  uint32_t h2_buffer_bytes = 4u << 20;
  NamingOptions naming;
};

class L7Probe : public Probe {
 public:
  ~L7Probe() override;
  static absl::StatusOr<std::unique_ptr<L7Probe>> Load(
      const L7ProbeOptions& opts);
  const char* name() const override { return "l7"; }
  absl::Status Attach() override;
  void Detach() override;
  absl::Status ReadInto(Snapshot* snap) override;
  std::vector<ProgramStatus> programs() const override { return programs_; }
  std::vector<MapStatus> maps() const override;
  // The HTTP latency thresholds in ns per slot (0: off).
  void SetSloThresholds(const SloSlots& slots) override;

 private:
  struct Impl;
  explicit L7Probe(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<ProgramStatus> programs_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_L7_PROBE_H_
