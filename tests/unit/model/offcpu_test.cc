#include "agent/model/offcpu.h"

#include <sys/syscall.h>

#include "bpf/sched.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

TEST(OffCpu, ClassesBySyscallNumberOfThisArchitecture) {
  const std::vector<uint8_t> c = OffCpuSyscallClasses(RL_OFF_MAX_NR);
  ASSERT_EQ(c.size(), static_cast<size_t>(RL_OFF_MAX_NR));
  EXPECT_EQ(c[SYS_futex], RL_OFF_LOCK);
  EXPECT_EQ(c[SYS_recvfrom], RL_OFF_NETWORK);
  EXPECT_EQ(c[SYS_epoll_pwait], RL_OFF_NETWORK);
  EXPECT_EQ(c[SYS_fsync], RL_OFF_DISK);
  EXPECT_EQ(c[SYS_fdatasync], RL_OFF_DISK);
  EXPECT_EQ(c[SYS_nanosleep], RL_OFF_SLEEP);
  EXPECT_EQ(c[SYS_clock_nanosleep], RL_OFF_SLEEP);
  EXPECT_EQ(c[SYS_read], RL_OFF_BY_FD);
  EXPECT_EQ(c[SYS_pwrite64], RL_OFF_BY_FD);
  EXPECT_EQ(c[SYS_wait4], RL_OFF_OTHER);
  EXPECT_EQ(c[SYS_getppid], RL_OFF_OTHER);
}

TEST(OffCpu, ReasonNamesFollowTheKernelEnum) {
  EXPECT_EQ(kOffCpuReasonNames[RL_OFF_OTHER], "other");
  EXPECT_EQ(kOffCpuReasonNames[RL_OFF_LOCK], "lock");
  EXPECT_EQ(kOffCpuReasonNames[RL_OFF_NETWORK], "network");
  EXPECT_EQ(kOffCpuReasonNames[RL_OFF_DISK], "disk");
  EXPECT_EQ(kOffCpuReasonNames[RL_OFF_SLEEP], "sleep");
  EXPECT_EQ(kOffCpuReasonNames[RL_OFF_MEMORY], "memory");
}

}  // namespace
}  // namespace redline
