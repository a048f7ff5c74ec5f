#include "agent/model/throttle.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace redline {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<CpuThrottle> ParseCpuStat(absl::string_view text) {
  CpuThrottle t;
  bool periods = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> f =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    uint64_t v;
    if (f.size() != 2 || !absl::SimpleAtoi(f[1], &v)) continue;
    if (f[0] == "nr_periods") {
      t.periods = v;
      periods = true;
    } else if (f[0] == "nr_throttled") {
      t.throttled_periods = v;
    } else if (f[0] == "throttled_usec") {
      t.throttled_ns = v * 1000;
    } else if (f[0] == "throttled_time") {
      t.throttled_ns = v;
    }
  }
  if (!periods) return std::nullopt;
  return t;
}

bool HasCpuQuota(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty() || absl::StartsWith(text, "max")) return false;
  int64_t quota;
  const absl::string_view first = text.substr(0, text.find(' '));
  return absl::SimpleAtoi(first, &quota) && quota > 0;
}

std::optional<std::string> CpuCgroupV1Path(absl::string_view proc_cgroup) {
  for (absl::string_view line : absl::StrSplit(proc_cgroup, '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (f.size() != 3) continue;
    for (absl::string_view c : absl::StrSplit(f[1], ',')) {
      if (c == "cpu") return std::string(f[2]);
    }
  }
  return std::nullopt;
}

std::optional<std::string> FindCpuV1Mount(absl::string_view mountinfo) {
  // "36 25 0:31 / /sys/fs/cgroup/cpu rw,relatime shared:1 - cgroup cgroup
  // rw,cpu": the mount point is field 5, fstype and super options follow
  // the " - " separator.
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    const size_t sep = line.find(" - ");
    if (sep == absl::string_view::npos) continue;
    std::vector<absl::string_view> pre =
        absl::StrSplit(line.substr(0, sep), ' ', absl::SkipEmpty());
    std::vector<absl::string_view> post =
        absl::StrSplit(line.substr(sep + 3), ' ', absl::SkipEmpty());
    if (pre.size() < 5 || post.size() < 3 || post[0] != "cgroup") continue;
    for (absl::string_view o : absl::StrSplit(post[2], ',')) {
      if (o == "cpu") return std::string(pre[4]);
    }
  }
  return std::nullopt;
}

std::optional<CpuThrottle> ReadCpuThrottle(const std::string& dir, bool v2) {
  auto quota = ReadFile(dir + (v2 ? "/cpu.max" : "/cpu.cfs_quota_us"));
  if (!quota || !HasCpuQuota(*quota)) return std::nullopt;
  auto stat = ReadFile(dir + "/cpu.stat");
  if (!stat) return std::nullopt;
  return ParseCpuStat(*stat);
}

}  // namespace redline
