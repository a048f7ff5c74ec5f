#include "agent/model/workload_namer.h"

namespace redline {

void WorkloadNamer::Begin() {
  for (auto& [id, pin] : pins_) pin.seen = false;
}

void WorkloadNamer::End() {
  absl::erase_if(pins_, [](const auto& kv) { return !kv.second.seen; });
}

WorkloadId WorkloadNamer::Name(const std::string& comm, uint32_t tgid,
                               uint64_t cgroup_id) {
  WorkloadId id;
  id.comm = comm;
  if (opts_.pid_labels) id.pid = tgid;
  IdentityResolver* r = opts_.resolver;
  if (r == nullptr) return id;
  Pin& pin = pins_[cgroup_id];
  pin.seen = true;
  if (!pin.resolved) pin.resolved = r->Cgroup(cgroup_id, &pin.cg);
  const IdentityLabels& want = opts_.labels;
  if (want.container_id) id.container_id = pin.cg.container_id;
  if (want.pod_uid) id.pod_uid = pin.cg.pod_uid;
  if (want.systemd_unit) id.systemd_unit = pin.cg.systemd_unit;
  PodNames names;
  if (want.kubernetes &&
      r->Pod(pin.cg.pod_uid, pin.cg.container_id, &names)) {
    id.namespace_name = names.namespace_name;
    id.pod = names.pod;
    id.container = names.container;
    id.workload = names.workload;
  }
  return id;
}

}  // namespace redline
