#include "agent/histogram.h"

#include <cmath>

#include "gtest/gtest.h"

namespace redline {
namespace {

TEST(Histogram, SlotBoundsArePowersOfTwoNanoseconds) {
  EXPECT_DOUBLE_EQ(SlotUpperBoundSeconds(0), 2e-9);
  EXPECT_DOUBLE_EQ(SlotUpperBoundSeconds(9), 1024e-9);
  EXPECT_DOUBLE_EQ(SlotUpperBoundSeconds(33), std::ldexp(1.0, 34) * 1e-9);
}

TEST(Histogram, CumulativeBucketsFoldLowAndHighSlots) {
  Log2Hist s{};
  s[0] = 1;   // 0-1 ns: folds into the first exported bucket
  s[9] = 2;   // [512, 1024) ns
  s[20] = 3;  // ~1 ms
  s[39] = 4;  // > 17 s: only in +Inf
  auto h = ToPromHistogram(s, 5'000'000'000);
  ASSERT_EQ(h.bucket.size(), kLastExportedSlot - kFirstExportedSlot + 2);
  EXPECT_EQ(h.bucket.front().cumulative_count, 3u);
  EXPECT_DOUBLE_EQ(h.bucket.front().upper_bound, 1024e-9);
  EXPECT_EQ(h.bucket[20 - kFirstExportedSlot].cumulative_count, 6u);
  EXPECT_EQ(h.bucket[h.bucket.size() - 2].cumulative_count, 6u);
  EXPECT_TRUE(std::isinf(h.bucket.back().upper_bound));
  EXPECT_EQ(h.bucket.back().cumulative_count, 10u);
  EXPECT_EQ(h.sample_count, 10u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 5.0);
  for (size_t i = 1; i < h.bucket.size(); ++i) {
    EXPECT_GE(h.bucket[i].cumulative_count, h.bucket[i - 1].cumulative_count);
    EXPECT_GT(h.bucket[i].upper_bound, h.bucket[i - 1].upper_bound);
  }
}

TEST(Histogram, QuantileUpperBound) {
  Log2Hist s{};
  EXPECT_EQ(HistQuantileUpperBound(s, 0.99), 0.0);
  s[10] = 99;
  s[24] = 1;  // one ~16 ms outlier
  EXPECT_DOUBLE_EQ(HistQuantileUpperBound(s, 0.5), SlotUpperBoundSeconds(10));
  EXPECT_DOUBLE_EQ(HistQuantileUpperBound(s, 1.0), SlotUpperBoundSeconds(24));
}

}  // namespace
}  // namespace redline
