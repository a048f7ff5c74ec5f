// IdentityResolver for this host: cgroup v2 paths parsed into container,
// pod and unit, plus Kubernetes names from the kubelet when configured.
// Every answer is cached: resolution never reads /proc or the cgroup tree
// per series per scrape.
#ifndef REDLINE_AGENT_IDENTITY_HOST_IDENTITY_H_
#define REDLINE_AGENT_IDENTITY_HOST_IDENTITY_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "agent/identity/cgroup_paths.h"
#include "agent/identity/identity.h"
#include "agent/identity/kubelet.h"

namespace redline {

class HostIdentity : public IdentityResolver {
 public:
  // Either may be null: that source of labels is off.
  HostIdentity(std::unique_ptr<CgroupPaths> paths,
               std::unique_ptr<PodCache> pods);

  // Starts the kubelet reader thread, if there is one.
  void Start();

  bool Cgroup(uint64_t cgroup_id, CgroupIdentity* out) override;
  bool Pod(const std::string& pod_uid, const std::string& container_id,
           PodNames* out) override;

  size_t cached() const { return cache_.size(); }

 private:
  struct Entry {
    CgroupIdentity id;
    bool found = false;
    std::chrono::steady_clock::time_point checked, used;
  };
  void Sweep(std::chrono::steady_clock::time_point now);

  std::unique_ptr<CgroupPaths> paths_;
  std::unique_ptr<PodCache> pods_;
  absl::flat_hash_map<uint64_t, Entry> cache_;
  std::chrono::steady_clock::time_point last_sweep_{};
};

}  // namespace redline

#endif  // REDLINE_AGENT_IDENTITY_HOST_IDENTITY_H_
