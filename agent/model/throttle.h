// CPU bandwidth throttling of a workload's cgroups: cgroup v2 cpu.stat
// (with cpu.max) or, where the cpu controller is on a v1 hierarchy,
// v1 cpu.stat (with cpu.cfs_quota_us). Parsers are pure; the readers only
// read the files they are given.
#ifndef REDLINE_AGENT_MODEL_THROTTLE_H_
#define REDLINE_AGENT_MODEL_THROTTLE_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "agent/model/model.h"

namespace redline {

// cpu.stat: v2 nr_periods, nr_throttled, throttled_usec; v1 throttled_time
// (ns). nullopt without nr_periods (no cpu controller there).
std::optional<CpuThrottle> ParseCpuStat(absl::string_view text);

// Whether a quota is set: v2 cpu.max "20000 100000" (not "max ..."), v1
// cpu.cfs_quota_us not "-1".
bool HasCpuQuota(absl::string_view quota_file_text);

// The path of the v1 cgroup holding the cpu controller, from a
// /proc/<pid>/cgroup text ("4:cpu,cpuacct:/a/b"), or nullopt.
std::optional<std::string> CpuCgroupV1Path(absl::string_view proc_cgroup);

// Mount point of the v1 hierarchy holding the cpu controller, from a
// mountinfo text, or nullopt (cgroup v2 only, or no cpu controller).
std::optional<std::string> FindCpuV1Mount(absl::string_view mountinfo);

// A cgroup directory's throttling when it has a quota (v2 if `v2`).
std::optional<CpuThrottle> ReadCpuThrottle(const std::string& dir, bool v2);

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_THROTTLE_H_
