// Names the workload of a kernel entry (comm, pid, cgroup id) with the
// configured labels. Shared by every per-workload probe except syscalls,
// whose aggregator pins names per incarnation itself.
#ifndef REDLINE_AGENT_MODEL_WORKLOAD_NAMER_H_
#define REDLINE_AGENT_MODEL_WORKLOAD_NAMER_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "agent/identity/identity.h"
#include "agent/model/model.h"
#include "agent/model/naming.h"

namespace redline {

class WorkloadNamer {
 public:
  explicit WorkloadNamer(const NamingOptions& opts) : opts_(opts) {}

  // Brackets one read. A cgroup resolved once keeps its identity while
  // entries of it are read, even after the cgroup is removed (a pod that
  // just ended), so its last counts keep their labels.
  void Begin();
  void End();

  // `tgid` is used only with --pid-labels.
  WorkloadId Name(const std::string& comm, uint32_t tgid, uint64_t cgroup_id);

 private:
  struct Pin {
    CgroupIdentity cg;
    bool resolved = false;
    bool seen = false;
  };
  NamingOptions opts_;
  absl::flat_hash_map<uint64_t, Pin> pins_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_WORKLOAD_NAMER_H_
