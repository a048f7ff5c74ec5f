// Native histogram buckets as the protobuf exposition carries them (spans
// of populated bucket indexes, each count as a delta from the previous
// one), and the arithmetic on them that folding series needs.
#ifndef REDLINE_EXPORTERS_NATIVE_BUCKETS_H_
#define REDLINE_EXPORTERS_NATIVE_BUCKETS_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "exporters/metric_family.h"

namespace redline::prom {

// Spans and deltas of `counts` (n consecutive buckets, the first of index
// `first_index`). Runs of up to two empty buckets stay inside a span as
// zeros (two deltas cost less than a new span); longer gaps start a new
// span. Appends to `spans` and `deltas`.
void EncodeNativeBuckets(const uint64_t* counts, int n, int first_index,
                         std::vector<ClientMetric::BucketSpan>& spans,
                         std::vector<int64_t>& deltas);

// (index, count) of every bucket the spans cover, in order; empty when the
// deltas do not match the spans or a count would go negative.
std::vector<std::pair<int32_t, uint64_t>> DecodeNativeBuckets(
    const std::vector<ClientMetric::BucketSpan>& spans,
    const std::vector<int64_t>& deltas);

// a += b (add) or a -= b clamped at zero per bucket (b an earlier value of
// the same series), for the native part of two histograms of one schema.
// A non-native `a` takes b's schema and zero threshold.
void AddNative(ClientMetric::Histogram* a, const ClientMetric::Histogram& b);
void SubNative(ClientMetric::Histogram* a, const ClientMetric::Histogram& b);

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_NATIVE_BUCKETS_H_
