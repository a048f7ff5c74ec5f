// Text the agent reads from /proc and cgroupfs: cgroup paths (container,
// pod, unit ids), mountinfo, PSI files, /proc/<pid>/stat, cpu.stat,
// cpu.max and /proc/<pid>/cgroup. The first byte picks the parser.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/identity/cgroup_paths.h"
#include "agent/identity/identity.h"
#include "agent/metrics/self_metrics.h"
#include "agent/model/pressure.h"
#include "agent/model/throttle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0: {
      redline::CgroupIdentity id = redline::ParseCgroupPath(text);
      // Labels are absent or non-empty, and come from the path itself
      // (ids are lowercased, as the API server writes them).
      std::string lower = text;
      for (char& c : lower) c = std::tolower(static_cast<unsigned char>(c));
      for (const std::string* l :
           {&id.container_id, &id.pod_uid, &id.systemd_unit}) {
        if (!l->empty() && text.find(l->substr(0, 8)) == std::string::npos &&
            lower.find(l->substr(0, 8)) == std::string::npos) {
          __builtin_trap();
        }
      }
      break;
    }
    case 1:
      (void)redline::FindCgroup2Mount(text);
      break;
    case 2:
      (void)redline::ParsePressure("io", text);
      break;
    case 3: {
      redline::ProcSelfStat st;
      (void)redline::ParseProcStat(text, 100, 4096, 1.7e9, &st);
      break;
    }
    case 4:
      (void)redline::ParseCpuStat(text);
      break;
    case 5:
      (void)redline::HasCpuQuota(text);
      break;
    case 6: {
      // A path found is a suffix of one line of the input.
      auto p = redline::CpuCgroupV1Path(text);
      if (p && text.find(*p) == std::string::npos) __builtin_trap();
      break;
    }
    case 7:
      (void)redline::FindCpuV1Mount(text);
      break;
  }
  return 0;
}
