// Owns bpf/block.bpf.c: disk I/O latency per device and operation, bytes
// per issuing workload.
#ifndef REDLINE_AGENT_PROBES_BLOCK_PROBE_H_
#define REDLINE_AGENT_PROBES_BLOCK_PROBE_H_

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

struct BlockProbeOptions {
  uint32_t max_owner_entries = 16384;  // (device, op, cgroup, comm)
  NamingOptions naming;
  std::string sys_dev_block = "/sys/dev/block";  // MAJ:MIN -> name links
};

// REQ_OP_* code to the op label: read, write, flush, discard, other.
const char* BlockOpName(uint32_t op);

class BlockProbe : public Probe {
 public:
  ~BlockProbe() override;
  static absl::StatusOr<std::unique_ptr<BlockProbe>> Load(
      const BlockProbeOptions& opts);
  const char* name() const override { return "block"; }
  absl::Status Attach() override;
  void Detach() override;

  // Per-device totals and per-workload bytes.
  absl::Status ReadInto(Snapshot* snap) override;

  std::vector<ProgramStatus> programs() const override { return programs_; }
  std::vector<MapStatus> maps() const override;

 private:
  struct Impl;
  explicit BlockProbe(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<ProgramStatus> programs_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_BLOCK_PROBE_H_
