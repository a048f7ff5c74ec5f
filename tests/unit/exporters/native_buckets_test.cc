// Native buckets: spans and deltas byte for byte, decoding, and the sums
// and differences the cardinality governor folds series with.
#include "exporters/native_buckets.h"

#include <cmath>
#include <vector>

#include "exporters/cardinality_governor.h"
#include "gtest/gtest.h"

namespace redline::prom {
namespace {

using Span = ClientMetric::BucketSpan;
using Buckets = std::vector<std::pair<int32_t, uint64_t>>;

TEST(NativeBuckets, SpansDeltasGapsAndOffsets) {
  std::vector<Span> spans;
  std::vector<int64_t> deltas;
  //                 idx: -3 -2 -1  0  1  2  3  4  5  6  7  8  9
  const uint64_t c[] = {0, 5, 0, 0, 7, 7, 0, 0, 0, 2, 0, 0, 0};
  EncodeNativeBuckets(c, 13, -3, spans, deltas);
  // -2..2 (a gap of two zeros kept inside), then a gap of three: new span.
  EXPECT_EQ(spans, (std::vector<Span>{{-2, 5}, {3, 1}}));
  // Deltas run on across spans: bucket 6's 2 follows bucket 2's 7.
  EXPECT_EQ(deltas, (std::vector<int64_t>{5, -5, 0, 7, 0, -5}));
  EXPECT_EQ(DecodeNativeBuckets(spans, deltas),
            (Buckets{{-2, 5}, {1, 7}, {2, 7}, {6, 2}}));

  spans.clear(), deltas.clear();
  const uint64_t empty[4] = {};
  EncodeNativeBuckets(empty, 4, -59, spans, deltas);
  EXPECT_TRUE(spans.empty());
  EXPECT_TRUE(deltas.empty());

  spans.clear(), deltas.clear();
  const uint64_t one[] = {0, 0, 0, 9};
  EncodeNativeBuckets(one, 4, 10, spans, deltas);
  EXPECT_EQ(spans, (std::vector<Span>{{13, 1}}));
  EXPECT_EQ(deltas, (std::vector<int64_t>{9}));
}

TEST(NativeBuckets, DecodeRejectsMismatchedDeltas) {
  EXPECT_TRUE(DecodeNativeBuckets({{0, 2}}, {1}).empty());
  EXPECT_TRUE(DecodeNativeBuckets({{0, 1}}, {1, 1}).empty());
  EXPECT_TRUE(DecodeNativeBuckets({{0, 2}}, {1, -2}).empty());
}

ClientMetric::Histogram Native(std::vector<uint64_t> counts, int first,
                               uint64_t zero) {
  ClientMetric::Histogram h;
  h.native = true;
  h.schema = 1;
  h.zero_threshold = std::ldexp(1.0, -30);
  h.zero_count = zero;
  h.sample_count = zero;
  for (uint64_t c : counts) h.sample_count += c;
  EncodeNativeBuckets(counts.data(), counts.size(), first, h.positive_span,
                      h.positive_delta);
  return h;
}

TEST(NativeBuckets, AddAndSub) {
  ClientMetric::Histogram a;  // empty, not yet native: takes b's schema
  AddNative(&a, Native({1, 0, 2}, -5, 1));
  AddNative(&a, Native({0, 0, 0, 0, 0, 0, 0, 4}, -5, 2));
  EXPECT_TRUE(a.native);
  EXPECT_EQ(a.schema, 1);
  EXPECT_EQ(a.zero_count, 3u);
  EXPECT_EQ(DecodeNativeBuckets(a.positive_span, a.positive_delta),
            (Buckets{{-5, 1}, {-3, 2}, {2, 4}}));
  SubNative(&a, Native({1, 0, 5}, -5, 1));  // -3 clamps at zero
  EXPECT_EQ(a.zero_count, 2u);
  EXPECT_EQ(DecodeNativeBuckets(a.positive_span, a.positive_delta),
            (Buckets{{2, 4}}));
}

// The governor's [other] series is a consistent native histogram: its
// count is the zero bucket plus its native buckets, and the native
// buckets are the sum of the folded series'.
TEST(NativeBuckets, FoldedOtherIsConsistent) {
  CardinalityGovernor gov(1);
  MetricFamily f{"h_seconds", "", MetricType::kHistogram, {}};
  for (int i = 0; i < 4; ++i) {
    ClientMetric m;
    m.label = {{"comm", std::string(1, static_cast<char>('a' + i))}};
    std::vector<uint64_t> counts(6, 0);
    counts[i] = 10 - i;  // a is the largest: kept
    m.histogram = Native(counts, 0, 1);
    f.metric.push_back(m);
  }
  gov.Apply(&f);
  ASSERT_EQ(f.metric.size(), 2u);
  const auto& other = f.metric.back();
  EXPECT_EQ(other.label[0].value, "[other]");
  const auto& h = other.histogram;
  EXPECT_EQ(h.zero_count, 3u);
  EXPECT_EQ(h.sample_count, 3u + 9 + 8 + 7);
  const Buckets b = DecodeNativeBuckets(h.positive_span, h.positive_delta);
  EXPECT_EQ(b, (Buckets{{1, 9}, {2, 8}, {3, 7}}));
  uint64_t sum = h.zero_count;
  for (const auto& [i, c] : b) sum += c;
  EXPECT_EQ(sum, h.sample_count);
}

}  // namespace
}  // namespace redline::prom
