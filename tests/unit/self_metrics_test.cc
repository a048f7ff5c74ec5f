#include "agent/self_metrics.h"

#include "gtest/gtest.h"

namespace redline {
namespace {

TEST(SelfMetrics, ParsesStatWithSpacesAndParensInComm) {
  const std::string stat =
      "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 1 0 "
      "1000 12345678 300 18446744073709551615";
  ProcSelfStat st;
  ASSERT_TRUE(ParseProcStat(stat, 100, 4096, 1000.0, &st));
  EXPECT_DOUBLE_EQ(st.cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(st.rss_bytes, 300.0 * 4096);
  EXPECT_DOUBLE_EQ(st.start_time_seconds, 1010.0);
  EXPECT_FALSE(ParseProcStat("garbage", 100, 4096, 0, &st));
}

}  // namespace
}  // namespace redline
