#include "agent/model/histogram.h"

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

// The slot of ns as bpf/common.bpf.h rl_hist2_slot computes it.
int KernelFineSlot(uint64_t ns) {
  if (ns < 2) return 0;
  const int k = 63 - __builtin_clzll(ns);
  const int s = 2 * k + static_cast<int>((ns >> (k - 1)) & 1);
  return s < kFineSlots ? s : kFineSlots - 1;
}

TEST(FineHistogram, BoundsAreTheKernelsSlotEdges) {
  for (int i = 2; i < kFineSlots - 1; ++i) {  // 0 and 1 ns: slot 0
    const auto edge =
        static_cast<uint64_t>(std::llround(FineSlotUpperBoundSeconds(i) * 1e9));
    EXPECT_EQ(KernelFineSlot(edge - 1), i) << "slot " << i;
    EXPECT_EQ(KernelFineSlot(edge), i + 1) << "slot " << i;
  }
  EXPECT_DOUBLE_EQ(FineSlotUpperBoundSeconds(40), 1.5 * 1048576e-9);
  EXPECT_DOUBLE_EQ(FineSlotUpperBoundSeconds(41), 2097152e-9);
}

TEST(FineHistogram, BucketsCoverSloThresholdsFromOneMsToTenS) {
  FineHist s{};
  auto h = ToPromHistogram(s, 0);
  ASSERT_EQ(h.bucket.size(), 45u);  // 44 slot edges and +Inf
  EXPECT_LT(h.bucket.front().upper_bound, 1e-3);
  EXPECT_GT(h.bucket[h.bucket.size() - 2].upper_bound, 10.0);
  // Neighbouring bounds are at most 1.5x apart: a threshold between 1 ms
  // and 10 s falls within 50% of a bucket edge.
  for (size_t i = 1; i + 1 < h.bucket.size(); ++i) {
    EXPECT_LE(h.bucket[i].upper_bound / h.bucket[i - 1].upper_bound,
              1.5 + 1e-9);
  }
}

TEST(FineHistogram, CumulativeCountsAndQuantiles) {
  FineHist s{};
  s[3] = 1;    // below the first exported bucket: folded into it
  s[43] = 98;  // [3 ms, 4.2 ms)
  s[59] = 1;   // [805 ms, 1.07 s)
  s[79] = 2;   // beyond 17 s: +Inf only
  auto h = ToPromHistogram(s, 2'000'000'000);
  EXPECT_EQ(h.bucket.front().cumulative_count, 1u);
  EXPECT_EQ(h.bucket[43 - kFirstFineExportedSlot].cumulative_count, 99u);
  EXPECT_EQ(h.bucket[h.bucket.size() - 2].cumulative_count, 100u);
  EXPECT_EQ(h.bucket.back().cumulative_count, 102u);
  EXPECT_EQ(h.sample_count, 102u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 2.0);
  EXPECT_DOUBLE_EQ(HistQuantileUpperBound(s, 0.5),
                   FineSlotUpperBoundSeconds(43));
  EXPECT_DOUBLE_EQ(HistQuantileUpperBound(s, 0.98),
                   FineSlotUpperBoundSeconds(59));
  EXPECT_EQ(HistQuantileUpperBound(FineHist{}, 0.5), 0.0);
}

}  // namespace
}  // namespace redline
