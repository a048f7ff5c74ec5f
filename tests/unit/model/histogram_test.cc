// Kernel slots as native histogram buckets: the edges the kernel searches
// (bpf/hist_edges.h, the very functions the BPF programs run) against
// edges recomputed here with exact integer arithmetic, and the slot to
// classic/native bucket conversion.
#include "agent/model/histogram.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace redline {
namespace {

using Span = prom::ClientMetric::BucketSpan;
using u128 = unsigned __int128;

u128 Isqrt(u128 n) {
  u128 x = static_cast<u128>(std::sqrt(static_cast<long double>(n)));
  while (x * x > n) --x;
  while ((x + 1) * (x + 1) <= n) ++x;
  return x;
}

// floor(2^(j / 2^schema) s in ns), exactly: an independent derivation of
// the generator's table (scripts/gen-hist-edges.py).
uint64_t EdgeNs(int j, int schema) {
  const u128 ns = 1'000'000'000;
  if (schema == 0) {
    return j >= 0 ? static_cast<uint64_t>(ns << j)
                  : static_cast<uint64_t>(ns >> -j);
  }
  // sqrt(2^j * 1e18); for j < 0, sqrt(1e18 * 2^-j) / 2^-j.
  const u128 r = Isqrt(ns * ns << (j >= 0 ? j : -j));
  return static_cast<uint64_t>(j >= 0 ? r : r >> -j);
}

// The slot by definition: 0 for 0 ns, else the first slot whose upper edge
// holds d, else the last (open) slot.
uint64_t SlotByDefinition(uint64_t d, int slots, int offset, int schema) {
  if (d == 0) return 0;
  for (int s = 1; s < slots - 1; ++s) {
    if (d <= EdgeNs(s - offset, schema)) return s;
  }
  return slots - 1;
}

std::vector<uint64_t> Probes(int slots, int offset, int schema) {
  std::vector<uint64_t> v = {0, 1, 2,    3,
                             4, 5, 1000, std::numeric_limits<uint64_t>::max()};
  for (int s = 1; s < slots - 1; ++s) {
    const uint64_t e = EdgeNs(s - offset, schema);
    v.insert(v.end(), {e - 1, e, e + 1});
  }
  for (uint64_t k = 0; k < 64; ++k) {
    v.insert(v.end(), {uint64_t{1} << k, (uint64_t{1} << k) - 1});
  }
  std::mt19937_64 rng(23);
  for (int i = 0; i < 20000; ++i) v.push_back(rng() >> (rng() % 64));
  return v;
}

TEST(Histogram, KernelSlotsAreSchema0Buckets) {
  for (uint64_t d : Probes(RL_HIST_SLOTS, RL_HIST_OFFSET, 0)) {
    ASSERT_EQ(rl_hist_slot(d),
              SlotByDefinition(d, RL_HIST_SLOTS, RL_HIST_OFFSET, 0))
        << d << " ns";
  }
  EXPECT_EQ(rl_hist_slot(0), 0u);  // the zero bucket
  EXPECT_EQ(rl_hist_slot(1), 1u);  // (2^-30, 2^-29] s = (0.93, 1.86] ns
  EXPECT_EQ(rl_hist_slot(1'000'000'000), 30u);  // 1 s is bucket 0's edge
  EXPECT_EQ(rl_hist_slot(1'000'000'001), 31u);
  EXPECT_EQ(rl_hist_slot(500'000'000), 29u);
  EXPECT_EQ(rl_hist_slot(976'562), 20u);  // 2^-10 s = 976562.5 ns
  EXPECT_EQ(rl_hist_slot(976'563), 21u);
}

TEST(Histogram, KernelFineSlotsAreSchema1Buckets) {
  for (uint64_t d : Probes(kFineSlots, RL_FINE_OFFSET, 1)) {
    ASSERT_EQ(rl_fine_slot(d),
              SlotByDefinition(d, kFineSlots, RL_FINE_OFFSET, 1))
        << d << " ns";
  }
  EXPECT_EQ(rl_fine_slot(0), 0u);
  EXPECT_EQ(rl_fine_slot(1'414'213'562), 61u);  // sqrt(2) s, floored
  EXPECT_EQ(rl_fine_slot(1'414'213'563), 62u);
  EXPECT_EQ(rl_fine_slot(2'000'000'000), 62u);
  EXPECT_EQ(rl_fine_slot(std::numeric_limits<uint64_t>::max()), 79u);
}

TEST(Histogram, BoundsAreWhatPrometheusComputes) {
  EXPECT_EQ(SlotUpperBoundSeconds(0), 0.0);
  EXPECT_EQ(SlotUpperBoundSeconds(30), 1.0);
  EXPECT_EQ(SlotUpperBoundSeconds(kFirstExportedSlot), std::ldexp(1.0, -20));
  EXPECT_EQ(SlotUpperBoundSeconds(kLastExportedSlot), 16.0);
  EXPECT_EQ(FineSlotUpperBoundSeconds(60), 1.0);
  EXPECT_EQ(FineSlotUpperBoundSeconds(62), 2.0);
  // Prometheus: ldexp(0.7071067811865475, (j>>1)+1) for odd j.
  EXPECT_EQ(FineSlotUpperBoundSeconds(61), 1.414213562373095);
  EXPECT_EQ(FineSlotUpperBoundSeconds(59), 0.7071067811865475);
  for (int s = 1; s < kFineSlots - 1; ++s) {
    const long double exact = std::pow(2.0L, (s - 60) / 2.0L) * 1e9L;
    EXPECT_NEAR(FineSlotUpperBoundSeconds(s) * 1e9, exact, exact * 1e-15);
    EXPECT_EQ(EdgeNs(s - 60, 1), static_cast<uint64_t>(std::floor(exact))) << s;
  }
}

// Rebuilds per-bucket counts from spans and deltas, the way a reader does.
std::vector<std::pair<int, uint64_t>> Expand(
    const prom::ClientMetric::Histogram& h) {
  std::vector<std::pair<int, uint64_t>> out;
  int idx = 0;
  int64_t count = 0;
  size_t d = 0;
  for (size_t i = 0; i < h.positive_span.size(); ++i) {
    idx += h.positive_span[i].offset;
    for (uint32_t k = 0; k < h.positive_span[i].length; ++k, ++idx) {
      count += h.positive_delta.at(d++);
      if (count) out.push_back({idx, static_cast<uint64_t>(count)});
    }
  }
  EXPECT_EQ(d, h.positive_delta.size());
  return out;
}

TEST(Histogram, ClassicAndNativeFromTheSameSlots) {
  Log2Hist s{};
  s[0] = 1;   // 0 ns: the zero bucket, and below every classic bound
  s[9] = 2;   // (2^-22, 2^-21] s: folds into the first classic bucket
  s[20] = 3;  // (2^-11, 2^-10] s, ~1 ms
  s[39] = 4;  // > 256 s: only in +Inf
  auto h = ToPromHistogram(s, 5'000'000'000);
  ASSERT_EQ(h.bucket.size(), kLastExportedSlot - kFirstExportedSlot + 2);
  EXPECT_EQ(h.bucket.front().cumulative_count, 3u);
  EXPECT_EQ(h.bucket.front().upper_bound, std::ldexp(1.0, -20));
  EXPECT_EQ(h.bucket[20 - kFirstExportedSlot].cumulative_count, 6u);
  EXPECT_EQ(h.bucket[20 - kFirstExportedSlot].upper_bound,
            std::ldexp(1.0, -10));
  EXPECT_EQ(h.bucket[h.bucket.size() - 2].cumulative_count, 6u);
  EXPECT_TRUE(std::isinf(h.bucket.back().upper_bound));
  EXPECT_EQ(h.bucket.back().cumulative_count, 10u);
  EXPECT_EQ(h.sample_count, 10u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 5.0);
  for (size_t i = 1; i < h.bucket.size(); ++i) {
    EXPECT_GE(h.bucket[i].cumulative_count, h.bucket[i - 1].cumulative_count);
    if (i + 1 == h.bucket.size()) break;  // +Inf
    EXPECT_EQ(h.bucket[i].upper_bound, 2 * h.bucket[i - 1].upper_bound);
  }
  EXPECT_TRUE(h.native);
  EXPECT_EQ(h.schema, 0);
  EXPECT_EQ(h.zero_threshold, std::ldexp(1.0, -30));
  EXPECT_EQ(h.zero_count, 1u);
  const auto native = Expand(h);
  EXPECT_EQ(native, (std::vector<std::pair<int, uint64_t>>{
                        {9 - 30, 2}, {20 - 30, 3}, {39 - 30, 4}}));
  // Every classic bound is its native bucket's upper bound.
  for (const auto& [idx, count] : native) {
    if (idx + 30 >= kFirstExportedSlot && idx + 30 <= kLastExportedSlot) {
      EXPECT_EQ(h.bucket[idx + 30 - kFirstExportedSlot].upper_bound,
                std::ldexp(1.0, idx));
    }
  }
}

TEST(Histogram, QuantileUpperBound) {
  Log2Hist s{};
  EXPECT_EQ(HistQuantileUpperBound(s, 0.99), 0.0);
  s[10] = 99;
  s[24] = 1;  // one ~15 ms outlier
  EXPECT_EQ(HistQuantileUpperBound(s, 0.5), SlotUpperBoundSeconds(10));
  EXPECT_EQ(HistQuantileUpperBound(s, 1.0), SlotUpperBoundSeconds(24));
}

TEST(FineHistogram, BucketsCoverSloThresholdsFromOneMsToTenS) {
  FineHist s{};
  auto h = ToPromHistogram(s, 0);
  ASSERT_EQ(h.bucket.size(), 45u);  // 44 slot edges and +Inf
  EXPECT_LT(h.bucket.front().upper_bound, 1e-3);
  EXPECT_GT(h.bucket[h.bucket.size() - 2].upper_bound, 10.0);
  // Neighbouring bounds are sqrt(2) apart: a threshold between 1 ms and
  // 10 s falls within 42% of a bucket edge.
  for (size_t i = 1; i + 1 < h.bucket.size(); ++i) {
    EXPECT_NEAR(h.bucket[i].upper_bound / h.bucket[i - 1].upper_bound,
                std::sqrt(2.0), 1e-12);
  }
  EXPECT_TRUE(h.positive_span.empty());
  EXPECT_EQ(h.schema, 1);
}

TEST(FineHistogram, CumulativeCountsNativeBucketsAndQuantiles) {
  FineHist s{};
  s[3] = 1;    // below the first exported bucket: folded into it
  s[43] = 98;  // (2^-9, 2^-8.5] s: 1.95 .. 2.76 ms
  s[59] = 1;   // (2^-1, 2^-0.5] s
  s[79] = 2;   // beyond 512 s: +Inf only
  auto h = ToPromHistogram(s, 2'000'000'000);
  EXPECT_EQ(h.bucket.front().cumulative_count, 1u);
  EXPECT_EQ(h.bucket[43 - kFirstFineExportedSlot].cumulative_count, 99u);
  EXPECT_EQ(h.bucket[43 - kFirstFineExportedSlot].upper_bound,
            std::ldexp(0.7071067811865475, -8));  // Prometheus getBound
  EXPECT_EQ(h.bucket[h.bucket.size() - 2].cumulative_count, 100u);
  EXPECT_EQ(h.bucket.back().cumulative_count, 102u);
  EXPECT_EQ(h.sample_count, 102u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 2.0);
  EXPECT_EQ(h.zero_count, 0u);
  EXPECT_EQ(Expand(h),
            (std::vector<std::pair<int, uint64_t>>{
                {3 - 60, 1}, {43 - 60, 98}, {59 - 60, 1}, {79 - 60, 2}}));
  EXPECT_EQ(HistQuantileUpperBound(s, 0.5), FineSlotUpperBoundSeconds(43));
  EXPECT_EQ(HistQuantileUpperBound(s, 0.98), FineSlotUpperBoundSeconds(59));
  EXPECT_EQ(HistQuantileUpperBound(FineHist{}, 0.5), 0.0);
}

}  // namespace
}  // namespace redline
