#include "agent/model/names.h"

#include <sys/syscall.h>

#include <cerrno>

#include "gtest/gtest.h"

namespace redline {
namespace {

TEST(Names, SyscallTableMatchesLibcHeaders) {
  EXPECT_EQ(SyscallName(SYS_getppid), "getppid");
  EXPECT_EQ(SyscallName(SYS_openat), "openat");
  EXPECT_EQ(SyscallName(SYS_read), "read");
  EXPECT_EQ(SyscallNumber("exit_group"), SYS_exit_group);
  EXPECT_EQ(SyscallNumber("no_such_call"), -1);
}

TEST(Names, UnknownSyscallGetsNumberedName) {
  EXPECT_EQ(SyscallName(99999), "sys_99999");
}

TEST(Names, ErrnoSymbolicNames) {
  EXPECT_EQ(ErrnoName(ENOENT), "ENOENT");
  EXPECT_EQ(ErrnoName(ECONNREFUSED), "ECONNREFUSED");
  EXPECT_EQ(ErrnoName(EAGAIN), "EAGAIN");
  EXPECT_EQ(ErrnoName(4000), "E4000");
}

}  // namespace
}  // namespace redline
