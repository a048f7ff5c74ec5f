#include "agent/model/offcpu.h"

#include <utility>

#include "agent/model/names.h"
#include "bpf/sched.h"

namespace redline {

static_assert(kOffCpuReasons == RL_OFF_REASONS);

std::vector<uint8_t> OffCpuSyscallClasses(size_t n) {
  // By name: each architecture numbers (and lacks) its own; poll, select
  // and epoll_wait are not on arm64, for one. Polling waits are counted as
  // network: what a server polls is almost always sockets, and telling
  // would need every descriptor of the set.
  static const std::pair<const char*, uint8_t> kClasses[] = {
      {"futex", RL_OFF_LOCK},           {"futex_waitv", RL_OFF_LOCK},
      {"flock", RL_OFF_LOCK},           {"semop", RL_OFF_LOCK},
      {"semtimedop", RL_OFF_LOCK},      {"accept", RL_OFF_NETWORK},
      {"accept4", RL_OFF_NETWORK},      {"connect", RL_OFF_NETWORK},
      {"recvfrom", RL_OFF_NETWORK},     {"recvmsg", RL_OFF_NETWORK},
      {"recvmmsg", RL_OFF_NETWORK},     {"sendto", RL_OFF_NETWORK},
      {"sendmsg", RL_OFF_NETWORK},      {"sendmmsg", RL_OFF_NETWORK},
      {"poll", RL_OFF_NETWORK},         {"ppoll", RL_OFF_NETWORK},
      {"select", RL_OFF_NETWORK},       {"pselect6", RL_OFF_NETWORK},
      {"epoll_wait", RL_OFF_NETWORK},   {"epoll_pwait", RL_OFF_NETWORK},
      {"epoll_pwait2", RL_OFF_NETWORK}, {"fsync", RL_OFF_DISK},
      {"fdatasync", RL_OFF_DISK},       {"sync", RL_OFF_DISK},
      {"syncfs", RL_OFF_DISK},          {"sync_file_range", RL_OFF_DISK},
      {"io_getevents", RL_OFF_DISK},    {"io_pgetevents", RL_OFF_DISK},
      {"nanosleep", RL_OFF_SLEEP},      {"clock_nanosleep", RL_OFF_SLEEP},
      {"read", RL_OFF_BY_FD},           {"write", RL_OFF_BY_FD},
      {"readv", RL_OFF_BY_FD},          {"writev", RL_OFF_BY_FD},
      {"pread64", RL_OFF_BY_FD},        {"pwrite64", RL_OFF_BY_FD},
      {"preadv", RL_OFF_BY_FD},         {"pwritev", RL_OFF_BY_FD},
      {"preadv2", RL_OFF_BY_FD},        {"pwritev2", RL_OFF_BY_FD},
      {"splice", RL_OFF_BY_FD},         {"sendfile", RL_OFF_BY_FD},
  };
  std::vector<uint8_t> out(n, RL_OFF_OTHER);
  for (const auto& [name, cls] : kClasses) {
    const int nr = SyscallNumber(name);
    if (nr >= 0 && static_cast<size_t>(nr) < n) out[nr] = cls;
  }
  return out;
}

}  // namespace redline
