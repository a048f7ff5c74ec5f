// Owns bpf/tcp.bpf.c: retransmits, resets, connects and connect latency
// per workload and peer.
#ifndef REDLINE_AGENT_PROBES_TCP_PROBE_H_
#define REDLINE_AGENT_PROBES_TCP_PROBE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/model/model.h"
#include "agent/model/naming.h"
#include "agent/probes/probe.h"

namespace redline {

struct TcpProbeOptions {
  uint32_t max_entries = 16384;     // (workload, peer) entries
  uint32_t max_sockets = 65536;     // sockets with a known owner
  NamingOptions naming;
};

class TcpProbe : public Probe {
 public:
  ~TcpProbe() override;
  static absl::StatusOr<std::unique_ptr<TcpProbe>> Load(
      const TcpProbeOptions& opts);
  const char* name() const override { return "tcp"; }
  absl::Status Attach() override;
  void Detach() override;

  absl::Status ReadInto(Snapshot* snap) override;

  std::vector<ProgramStatus> programs() const override { return programs_; }
  std::vector<MapStatus> maps() const override;

 private:
  struct Impl;
  explicit TcpProbe(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<ProgramStatus> programs_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_TCP_PROBE_H_
