// cgroup v2 id -> path. The id bpf_get_current_cgroup_id() returns is the
// cgroup directory's kernfs node id, which is also its inode number on
// 64-bit kernels (since 5.5).
#ifndef REDLINE_AGENT_IDENTITY_CGROUP_PATHS_H_
#define REDLINE_AGENT_IDENTITY_CGROUP_PATHS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace redline {

// The cgroup v2 mount point from a mountinfo text: /sys/fs/cgroup on a
// unified host, /sys/fs/cgroup/unified on a hybrid one. Pure.
std::optional<std::string> FindCgroup2Mount(absl::string_view mountinfo);

class CgroupPaths {
 public:
  ~CgroupPaths();
  // `mount` empty: found from /proc/self/mountinfo.
  static absl::StatusOr<std::unique_ptr<CgroupPaths>> Open(
      const std::string& mount = "");

  // Path relative to the v2 root ("/system.slice/nginx.service"), or
  // nullopt if the cgroup does not exist (any more). Tries a file handle
  // lookup first (O(1), needs CAP_DAC_READ_SEARCH), else walks the tree, at
  // most once per `min_walk_interval` for ids it cannot find.
  std::optional<std::string> Path(uint64_t id);

  const std::string& mount() const { return mount_; }
  uint64_t walks() const { return walks_; }

 private:
  CgroupPaths(std::string mount, int fd) : mount_(std::move(mount)), fd_(fd) {}
  std::optional<std::string> ByHandle(uint64_t id);
  void Walk();

  std::string mount_;
  int fd_;
  bool handles_work_ = true;
  absl::flat_hash_map<uint64_t, std::string> walked_;
  std::chrono::steady_clock::time_point last_walk_{};
  std::chrono::milliseconds min_walk_interval_{2000};
  uint64_t walks_ = 0;
};

}  // namespace redline

#endif  // REDLINE_AGENT_IDENTITY_CGROUP_PATHS_H_
