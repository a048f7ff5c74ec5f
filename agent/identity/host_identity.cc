#include "agent/identity/host_identity.h"

#include <utility>

namespace redline {
namespace {

using Clock = std::chrono::steady_clock;
// An id we could not resolve is retried after this long.
constexpr auto kNegativeTtl = std::chrono::seconds(5);
// Ids nobody asked about for this long are forgotten (memory follows the
// live cgroups).
constexpr auto kIdleTtl = std::chrono::minutes(10);

}  // namespace

HostIdentity::HostIdentity(std::unique_ptr<CgroupPaths> paths,
                           std::unique_ptr<PodCache> pods)
    : paths_(std::move(paths)), pods_(std::move(pods)) {}

void HostIdentity::Start() {
  if (pods_) pods_->Start();
}

bool HostIdentity::Cgroup(uint64_t cgroup_id, CgroupIdentity* out) {
  // Without a cgroup v2 mount every process resolves to "no identity".
  if (!paths_ || cgroup_id == 0) {
    *out = {};
    return true;
  }
  const auto now = Clock::now();
  Sweep(now);
  Entry& e = cache_[cgroup_id];
  e.used = now;
  if (!e.found && (e.checked == Clock::time_point{} ||
                   now - e.checked >= kNegativeTtl)) {
    e.checked = now;
    if (auto path = paths_->Path(cgroup_id)) {
      e.id = ParseCgroupPath(*path);
      e.found = true;
    }
  }
  *out = e.id;
  return e.found;
}

bool HostIdentity::Pod(const std::string& pod_uid,
                       const std::string& container_id, PodNames* out) {
  return pods_ && !pod_uid.empty() && pods_->Lookup(pod_uid, container_id, out);
}

void HostIdentity::Sweep(Clock::time_point now) {
  if (now - last_sweep_ < std::chrono::minutes(1)) return;
  last_sweep_ = now;
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (now - it->second.used > kIdleTtl) {
      cache_.erase(it++);
    } else {
      ++it;
    }
  }
}

}  // namespace redline
