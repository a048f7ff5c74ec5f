// Workload identity from a cgroup v2 path: container, pod and systemd unit.
// Pure string logic: the table-driven unit test covers every runtime.
#ifndef REDLINE_AGENT_IDENTITY_IDENTITY_H_
#define REDLINE_AGENT_IDENTITY_IDENTITY_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace redline {

struct CgroupIdentity {
  std::string container_id;  // 64 hex digits (containerd, CRI-O, Docker, Podman)
  std::string pod_uid;       // with dashes, as the API server writes it
  std::string systemd_unit;  // e.g. nginx.service
  bool operator==(const CgroupIdentity&) const = default;
};

// Parses a cgroup v2 path (relative to the v2 root, leading '/' optional).
// Unknown layouts give an empty identity: never a guess.
CgroupIdentity ParseCgroupPath(absl::string_view path);

// Kubernetes names of a container, from the kubelet.
struct PodNames {
  std::string namespace_name;
  std::string pod;
  std::string container;  // empty if the container id is not (yet) known
  std::string workload;   // owner: Deployment, StatefulSet, DaemonSet, Job...
};

// Resolves a cgroup id to the identity labels of its processes. Must be
// cheap on a hit (called once per process per read); implementations cache.
class IdentityResolver {
 public:
  virtual ~IdentityResolver() = default;
  // False if the cgroup could not be resolved (yet): the caller retries.
  virtual bool Cgroup(uint64_t cgroup_id, CgroupIdentity* out) = 0;
  // Kubernetes names for a pod (and container, if known); false if unknown.
  virtual bool Pod(const std::string& pod_uid, const std::string& container_id,
                   PodNames* out) = 0;
};

}  // namespace redline

#endif  // REDLINE_AGENT_IDENTITY_IDENTITY_H_
