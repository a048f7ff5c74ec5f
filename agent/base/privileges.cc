#include "agent/base/privileges.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace redline {
namespace {

struct CapSets {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};

bool Get(CapSets* out) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2]{};
  if (syscall(SYS_capget, &hdr, d) != 0) return false;
  auto join = [](uint32_t lo, uint32_t hi) {
    return static_cast<uint64_t>(hi) << 32 | lo;
  };
  out->effective = join(d[0].effective, d[1].effective);
  out->permitted = join(d[0].permitted, d[1].permitted);
  out->inheritable = join(d[0].inheritable, d[1].inheritable);
  return true;
}

}  // namespace

const std::vector<CapabilityNeed>& NeededCapabilities() {
  static const auto* needs = new std::vector<CapabilityNeed>{
      {kCapBpf, "CAP_BPF", "create maps and load programs", false},
      {kCapPerfmon, "CAP_PERFMON",
       "load tracing programs (tp_btf, reading kernel memory)", false},
      {kCapDacReadSearch, "CAP_DAC_READ_SEARCH",
       "cgroup ids are resolved by walking /sys/fs/cgroup instead of by "
       "file handle (slower on hosts with many cgroups)",
       true},
  };
  return *needs;
}

std::string CapabilityName(int cap) {
  // include/uapi/linux/capability.h, in number order.
  static constexpr const char* kNames[] = {"CHOWN",
                                           "DAC_OVERRIDE",
                                           "DAC_READ_SEARCH",
                                           "FOWNER",
                                           "FSETID",
                                           "KILL",
                                           "SETGID",
                                           "SETUID",
                                           "SETPCAP",
                                           "LINUX_IMMUTABLE",
                                           "NET_BIND_SERVICE",
                                           "NET_BROADCAST",
                                           "NET_ADMIN",
                                           "NET_RAW",
                                           "IPC_LOCK",
                                           "IPC_OWNER",
                                           "SYS_MODULE",
                                           "SYS_RAWIO",
                                           "SYS_CHROOT",
                                           "SYS_PTRACE",
                                           "SYS_PACCT",
                                           "SYS_ADMIN",
                                           "SYS_BOOT",
                                           "SYS_NICE",
                                           "SYS_RESOURCE",
                                           "SYS_TIME",
                                           "SYS_TTY_CONFIG",
                                           "MKNOD",
                                           "LEASE",
                                           "AUDIT_WRITE",
                                           "AUDIT_CONTROL",
                                           "SETFCAP",
                                           "MAC_OVERRIDE",
                                           "MAC_ADMIN",
                                           "SYSLOG",
                                           "WAKE_ALARM",
                                           "BLOCK_SUSPEND",
                                           "AUDIT_READ",
                                           "PERFMON",
                                           "BPF",
                                           "CHECKPOINT_RESTORE"};
  if (cap >= 0 && cap < static_cast<int>(std::size(kNames))) {
    return absl::StrCat("CAP_", kNames[cap]);
  }
  return absl::StrCat("cap_", cap);
}

uint64_t EffectiveCapabilities() {
  CapSets s;
  return Get(&s) ? s.effective : 0;
}

uint64_t PermittedCapabilities() {
  CapSets s;
  return Get(&s) ? s.permitted : 0;
}

bool HasEffective(uint64_t effective, int cap) {
  return cap >= 0 && cap < 64 && (effective >> cap & 1) != 0;
}

std::string MissingRequired(uint64_t effective) {
  std::vector<std::string> missing;
  // CAP_SYS_ADMIN passes both bpf_capable() and perfmon_capable().
  if (HasEffective(effective, kCapSysAdmin)) return "";
  for (const CapabilityNeed& n : NeededCapabilities()) {
    if (!n.optional && !HasEffective(effective, n.cap)) {
      missing.push_back(n.name);
    }
  }
  return absl::StrJoin(missing, ", ");
}

uint64_t CapabilitiesToKeep(int kernel_major, int kernel_minor,
                            uint64_t permitted, bool attach_later) {
  uint64_t keep = 0;
  const bool fd_ops_need_bpf =
      kernel_major < 5 || (kernel_major == 5 && kernel_minor < 19);
  // Granted CAP_SYS_ADMIN instead (old runtimes that do not know CAP_BPF):
  // that is what bpf_capable() then needs.
  if (fd_ops_need_bpf) {
    keep |= (permitted >> kCapBpf & 1) ? uint64_t{1} << kCapBpf
                                       : uint64_t{1} << kCapSysAdmin;
  }
  keep |= uint64_t{1} << kCapDacReadSearch;
  if (attach_later) {
    keep |= uint64_t{1} << kCapSysAdmin | uint64_t{1} << kCapSysPtrace;
  }
  return keep & permitted;
}

absl::Status DropCapabilities(uint64_t keep) {
  CapSets s;
  if (!Get(&s)) {
    return absl::InternalError(absl::StrCat("capget: ", std::strerror(errno)));
  }
  // Ambient first: it must stay a subset of permitted and inheritable.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
      errno != EINVAL) {  // EINVAL: kernel without ambient capabilities
    return absl::InternalError(
        absl::StrCat("clearing ambient capabilities: ", std::strerror(errno)));
  }
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2]{};
  const uint64_t eff = s.effective & keep, perm = s.permitted & keep;
  for (int i = 0; i < 2; ++i) {
    d[i].effective = static_cast<uint32_t>(eff >> (32 * i));
    d[i].permitted = static_cast<uint32_t>(perm >> (32 * i));
    d[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &hdr, d) != 0) {
    return absl::InternalError(absl::StrCat("capset: ", std::strerror(errno)));
  }
  // No exec'd child (there is none today) may gain privileges back.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return absl::InternalError(
        absl::StrCat("PR_SET_NO_NEW_PRIVS: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string CapabilityList(uint64_t mask) {
  std::vector<std::string> names;
  for (int c = 0; c < 64; ++c) {
    if (HasEffective(mask, c)) names.push_back(CapabilityName(c));
  }
  return names.empty() ? "none" : absl::StrJoin(names, ",");
}

}  // namespace redline
