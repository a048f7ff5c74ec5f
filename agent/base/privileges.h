// Linux capabilities: which ones redline needs, which it has, and giving
// them up once the programs are attached.
//
// Measured (Linux 6.18, uid 65534 under setpriv): `redline run` produces
// every metric family with exactly CAP_BPF and CAP_PERFMON. CAP_BPF creates
// maps and loads programs; CAP_PERFMON is what tracing programs (tp_btf,
// bpf_probe_read_kernel) need. CAP_DAC_READ_SEARCH is optional: it lets
// cgroup ids resolve by file handle instead of a walk of /sys/fs/cgroup.
#ifndef REDLINE_AGENT_BASE_PRIVILEGES_H_
#define REDLINE_AGENT_BASE_PRIVILEGES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace redline {

inline constexpr int kCapDacReadSearch = 2;
inline constexpr int kCapSysPtrace = 19;
inline constexpr int kCapSysAdmin = 21;
inline constexpr int kCapPerfmon = 38;
inline constexpr int kCapBpf = 39;

struct CapabilityNeed {
  int cap;
  const char* name;
  const char* why;
  bool optional;
};

// What `redline run` and standalone `redline top` use, in check order.
const std::vector<CapabilityNeed>& NeededCapabilities();

// "CAP_BPF"; "cap_<n>" for numbers we have no name for.
std::string CapabilityName(int cap);

// The calling thread's effective set as a bit mask (bit n = capability n).
uint64_t EffectiveCapabilities();
bool HasEffective(uint64_t effective, int cap);

// Required capabilities missing from `effective`, comma-separated names;
// empty when nothing is missing. CAP_SYS_ADMIN stands in for both (the
// kernel's bpf_capable() and perfmon_capable() accept it).
std::string MissingRequired(uint64_t effective);

// What to keep once everything is attached. Map reads and updates by fd
// need no capability since Linux 5.19 (commit c8644cd0efe7 limited
// kernel.unprivileged_bpf_disabled to BPF_MAP_CREATE/BPF_PROG_LOAD);
// before that every bpf(2) command needs CAP_BPF (or CAP_SYS_ADMIN when
// that was granted instead). CAP_DAC_READ_SEARCH stays
// if it was granted: new cgroups keep appearing. `attach_later`: the TLS
// uprobes attach to libraries processes map after start, which needs
// CAP_SYS_ADMIN (measured on 6.18: a uprobe perf event is EACCES with
// CAP_BPF + CAP_PERFMON) and CAP_SYS_PTRACE (another process's
// /proc/PID/maps and root); kept if they were granted.
uint64_t CapabilitiesToKeep(int kernel_major, int kernel_minor,
                            uint64_t permitted, bool attach_later = false);

// Drops every capability not in `keep` from the effective, permitted and
// inheritable sets and clears the ambient set, for the calling thread only:
// call it before any other thread starts. Sets no_new_privs. Returns the
// capability mask now effective.
absl::Status DropCapabilities(uint64_t keep);

// Permitted set of the calling thread.
uint64_t PermittedCapabilities();

// "CAP_BPF,CAP_PERFMON" ("none" for an empty mask).
std::string CapabilityList(uint64_t mask);

}  // namespace redline

#endif  // REDLINE_AGENT_BASE_PRIVILEGES_H_
