// How kernel records of processes are named as workloads: the identity
// labels series carry and where cgroup identities come from.
#ifndef REDLINE_AGENT_MODEL_NAMING_H_
#define REDLINE_AGENT_MODEL_NAMING_H_

#include "agent/identity/identity.h"

namespace redline {

// Which identity labels series carry (comm always).
struct IdentityLabels {
  bool container_id = true;
  bool pod_uid = true;
  bool systemd_unit = true;
  bool kubernetes = true;  // namespace, pod, container, workload
};

// How processes become workloads (series): shared by every probe that
// names what it counts.
struct NamingOptions {
  bool pid_labels = false;
  IdentityLabels labels;
  IdentityResolver* resolver = nullptr;  // null: comm (and pid) only
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_NAMING_H_
