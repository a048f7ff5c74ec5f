#include "agent/top/top_why.h"

#include "bpf/sched.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

constexpr uint64_t kMs = 1'000'000;

// Two threads of "api" over 2 s: 0.8 s on a CPU, 0.2 s on one without
// running (steal), 0.6 s in the run queue
// (0.4 behind "batch", 0.1 behind "cron", 0.05 behind "x", 0.05 other),
// 1.5 s locked, 0.9 s on the network; its cgroup throttled 0.2 s.
Snapshot At(int64_t t_ns, uint64_t k) {
  Snapshot s;
  s.taken_unix_ns = t_ns;
  WorkloadStats& w = s.workloads[WorkloadId{.comm = "api"}];
  w.has_sched = true;
  w.sched.cpu_ns = k * 800 * kMs;
  w.sched.steal_ns = k * 200 * kMs;
  w.sched.rq_sum_ns = k * 600 * kMs;
  w.sched.off_ns[RL_OFF_LOCK] = k * 1500 * kMs;
  w.sched.off_ns[RL_OFF_NETWORK] = k * 900 * kMs;
  w.rq_culprits["batch"] = k * 400 * kMs;
  w.rq_culprits["cron"] = k * 100 * kMs;
  w.rq_culprits["x"] = k * 50 * kMs;
  w.rq_culprits["[other]"] = k * 50 * kMs;
  w.has_throttle = true;
  w.throttle.throttled_ns = k * 200 * kMs;
  s.workloads[WorkloadId{.comm = "batch"}].sched.cpu_ns = k * 2000 * kMs;
  return s;
}

TEST(TopWhy, RatesOfEachPartOverTheInterval) {
  const WhyView v = BuildWhyView(At(0, 1), At(2'000'000'000, 2),
                                 TopGrouping::kProcess, "api");
  ASSERT_TRUE(v.found);
  EXPECT_DOUBLE_EQ(v.interval_s, 2);
  EXPECT_DOUBLE_EQ(v.cpu, 0.4);
  EXPECT_DOUBLE_EQ(v.steal, 0.1);
  EXPECT_DOUBLE_EQ(v.runqueue, 0.3);
  EXPECT_DOUBLE_EQ(v.total, 2.0);  // two threads, all of the time
  ASSERT_GE(v.offcpu.size(), 2u);
  EXPECT_EQ(v.offcpu[0].first, "lock");
  EXPECT_DOUBLE_EQ(v.offcpu[0].second, 0.75);
  EXPECT_EQ(v.offcpu[1].first, "network");
  ASSERT_EQ(v.culprits.size(), 4u);  // three, then the rest
  EXPECT_EQ(v.culprits[0].first, "batch");
  EXPECT_DOUBLE_EQ(v.culprits[0].second, 0.2);
  EXPECT_EQ(v.culprits[3].first, "[rest]");
  EXPECT_DOUBLE_EQ(v.culprits[3].second, 0.025);
  EXPECT_DOUBLE_EQ(v.throttled, 0.1);
}

TEST(TopWhy, TextBarFillsTheWidthInProportion) {
  const WhyView v = BuildWhyView(At(0, 1), At(2'000'000'000, 2),
                                 TopGrouping::kProcess, "api");
  const std::string t = FormatWhyText(v, 40);
  // cpu 20%, steal 5%, run queue 15%, lock 37.5%, network 22.5% of 40.
  EXPECT_NE(t.find("[" + std::string(8, 'C') + std::string(2, 'H') +
                   std::string(6, 'Q') +
                   std::string(15, 'L') + std::string(9, 'N') + "]"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("behind batch"), std::string::npos) << t;
  EXPECT_NE(t.find("throttled by quota 0.100s/s"), std::string::npos) << t;
}

TEST(TopWhy, JsonAndAMissingRow) {
  const std::string j = FormatWhyJson(BuildWhyView(
      At(0, 1), At(2'000'000'000, 2), TopGrouping::kProcess, "api"));
  EXPECT_NE(j.find("\"lock\":0.75"), std::string::npos) << j;
  EXPECT_NE(j.find("\"steal\":0.1"), std::string::npos) << j;
  EXPECT_NE(j.find("\"batch\":0.2"), std::string::npos) << j;
  const WhyView none = BuildWhyView(At(0, 1), At(2'000'000'000, 2),
                                    TopGrouping::kProcess, "nope");
  EXPECT_FALSE(none.found);
  EXPECT_EQ(FormatWhyText(none, 40), "why nope: no such row\n");
}

}  // namespace
}  // namespace redline
