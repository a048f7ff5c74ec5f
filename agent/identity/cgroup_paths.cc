#include "agent/identity/cgroup_paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace redline {
namespace {

// FILEID_KERNFS: the handle type cgroupfs (kernfs) hands out; its payload is
// the 64-bit node id (include/linux/exportfs.h).
constexpr int kFileIdKernfs = 0xfe;

}  // namespace

std::optional<std::string> FindCgroup2Mount(absl::string_view mountinfo) {
  std::optional<std::string> found;
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    // id parent major:minor root mountpoint opts... - fstype source opts
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    size_t dash = 0;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 5 || dash + 1 >= f.size() || f[dash + 1] != "cgroup2") {
      continue;
    }
    std::string mp(f[4]);
    // Prefer the canonical places if cgroup2 is mounted more than once.
    if (!found || mp == "/sys/fs/cgroup" ||
        (mp == "/sys/fs/cgroup/unified" && *found != "/sys/fs/cgroup")) {
      found = mp;
    }
  }
  return found;
}

CgroupPaths::~CgroupPaths() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<std::unique_ptr<CgroupPaths>> CgroupPaths::Open(
    const std::string& mount) {
  std::string mp = mount;
  if (mp.empty()) {
    std::ifstream in("/proc/self/mountinfo");
    std::stringstream ss;
    ss << in.rdbuf();
    auto found = FindCgroup2Mount(ss.str());
    if (!found) {
      return absl::NotFoundError(
          "no cgroup v2 mount in /proc/self/mountinfo: container and unit "
          "labels are off (mount cgroup2, or --cgroup-root=PATH)");
    }
    mp = *found;
  }
  int fd = open(mp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot open cgroup v2 root ", mp, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<CgroupPaths>(new CgroupPaths(mp, fd));
}

std::optional<std::string> CgroupPaths::ByHandle(uint64_t id) {
  if (!handles_work_) return std::nullopt;
  alignas(file_handle) char buf[sizeof(file_handle) + sizeof(uint64_t)];
  auto* fh = reinterpret_cast<file_handle*>(buf);
  fh->handle_bytes = sizeof(uint64_t);
  fh->handle_type = kFileIdKernfs;
  std::memcpy(fh->f_handle, &id, sizeof(id));
  int fd = open_by_handle_at(fd_, fh, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    // EPERM: no CAP_DAC_READ_SEARCH; EOPNOTSUPP/EINVAL: old kernel. Walk.
    if (errno != ESTALE && errno != ENOENT) handles_work_ = false;
    return std::nullopt;
  }
  char link[4096];
  const std::string proc = absl::StrCat("/proc/self/fd/", fd);
  ssize_t n = readlink(proc.c_str(), link, sizeof(link) - 1);
  close(fd);
  if (n <= 0) return std::nullopt;
  std::string path(link, n);
  if (path.compare(0, mount_.size(), mount_) != 0) return std::nullopt;
  path.erase(0, mount_.size());
  if (path.empty()) path = "/";
  return path;
}

void CgroupPaths::Walk() {
  walked_.clear();
  ++walks_;
  std::error_code ec;
  struct stat st;
  if (stat(mount_.c_str(), &st) == 0) walked_[st.st_ino] = "/";
  namespace fs = std::filesystem;
  for (auto it = fs::recursive_directory_iterator(
           mount_, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    if (stat(it->path().c_str(), &st) != 0) continue;
    walked_[st.st_ino] = it->path().string().substr(mount_.size());
  }
}

std::optional<std::string> CgroupPaths::Path(uint64_t id) {
  if (auto p = ByHandle(id)) return p;
  auto it = walked_.find(id);
  if (it != walked_.end()) return it->second;
  const auto now = std::chrono::steady_clock::now();
  if (walks_ > 0 && now - last_walk_ < min_walk_interval_) return std::nullopt;
  last_walk_ = now;
  Walk();
  it = walked_.find(id);
  if (it != walked_.end()) return it->second;
  return std::nullopt;
}

}  // namespace redline
