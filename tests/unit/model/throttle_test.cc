#include "agent/model/throttle.h"

#include "gtest/gtest.h"

namespace redline {
namespace {

TEST(Throttle, ParsesCgroupV2CpuStat) {
  auto t = ParseCpuStat(
      "usage_usec 8000\nuser_usec 7000\nsystem_usec 1000\nnr_periods 31\n"
      "nr_throttled 30\nthrottled_usec 2177400\nnr_bursts 0\n"
      "burst_usec 0\n");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->periods, 31u);
  EXPECT_EQ(t->throttled_periods, 30u);
  EXPECT_EQ(t->throttled_ns, 2177400000u);
}

TEST(Throttle, ParsesCgroupV1CpuStatInNanoseconds) {
  auto t = ParseCpuStat("nr_periods 5\nnr_throttled 2\nthrottled_time 123\n");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->throttled_ns, 123u);
}

TEST(Throttle, NoPeriodsMeansNoCpuController) {
  EXPECT_FALSE(ParseCpuStat("usage_usec 1\nuser_usec 1\n").has_value());
  EXPECT_FALSE(ParseCpuStat("").has_value());
  EXPECT_FALSE(ParseCpuStat("nr_periods x\n").has_value());
}

TEST(Throttle, QuotaFiles) {
  EXPECT_TRUE(HasCpuQuota("20000 100000\n"));
  EXPECT_FALSE(HasCpuQuota("max 100000\n"));
  EXPECT_TRUE(HasCpuQuota("20000\n"));  // v1
  EXPECT_FALSE(HasCpuQuota("-1\n"));
  EXPECT_FALSE(HasCpuQuota(""));
  EXPECT_FALSE(HasCpuQuota("junk"));
}

TEST(Throttle, V1CpuCgroupOfAProcess) {
  EXPECT_EQ(CpuCgroupV1Path("9:name=systemd:/\n2:cpuacct:/\n"
                            "1:cpu,cpuacct:/rl/x\n0::/\n"),
            "/rl/x");
  EXPECT_EQ(CpuCgroupV1Path("1:cpu:/a:b\n"), "/a:b");  // ':' in a name
  EXPECT_FALSE(CpuCgroupV1Path("0::/user.slice\n").has_value());
  EXPECT_FALSE(CpuCgroupV1Path("2:cpuacct:/\n").has_value());
}

TEST(Throttle, FindsTheV1CpuHierarchy) {
  const char* hybrid =
      "30 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
      "31 25 0:27 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n"
      "32 25 0:28 / /sys/fs/cgroup/cpu rw shared:9 - cgroup cgroup rw,cpu\n";
  EXPECT_EQ(FindCpuV1Mount(hybrid), "/sys/fs/cgroup/cpu");
  EXPECT_FALSE(FindCpuV1Mount("30 25 0:26 / /sys/fs/cgroup rw - cgroup2 "
                              "cgroup2 rw\n")
                   .has_value());
  EXPECT_FALSE(FindCpuV1Mount("garbage\n - \n").has_value());
}

}  // namespace
}  // namespace redline
