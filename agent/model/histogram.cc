#include "agent/model/histogram.h"

#include <cmath>
#include <limits>

#include "exporters/native_buckets.h"

namespace redline {
namespace {

// Prometheus computes a native bound as ldexp(frac, exp) with frac from a
// table per schema; schema 1's second fraction is this literal (one ulp
// below the double nearest sqrt(0.5)). The same double makes `le` and the
// native bound one number.
constexpr double kSqrtHalf = 0.7071067811865475;

// The bound of native bucket `index` at schema 0 or 1, as Prometheus's
// getBound computes it.
double NativeBound(int index, int schema) {
  if (schema == 0) return std::ldexp(1.0, index);
  const int frac = index & 1;
  const int exp = (index >> 1) + 1;  // arithmetic shift: floor division
  return std::ldexp(frac ? kSqrtHalf : 0.5, exp);
}

template <size_t N>
prom::ClientMetric::Histogram Convert(const std::array<uint64_t, N>& slots,
                                      uint64_t sum_ns, int first, int last,
                                      double (*bound)(int), int schema,
                                      int offset) {
  prom::ClientMetric::Histogram h;
  uint64_t cum = 0;
  int i = 0;
  for (; i < first; ++i) cum += slots[i];
  h.bucket.reserve(last - first + 2);
  for (; i <= last; ++i) {
    cum += slots[i];
    h.bucket.push_back({cum, bound(i)});
  }
  for (; i < static_cast<int>(N); ++i) cum += slots[i];
  h.bucket.push_back({cum, std::numeric_limits<double>::infinity()});
  h.sample_count = cum;
  h.sample_sum = static_cast<double>(sum_ns) * 1e-9;
  h.native = true;
  h.schema = schema;
  h.zero_threshold = kZeroThresholdSeconds;
  h.zero_count = slots[0];
  prom::EncodeNativeBuckets(slots.data() + 1, N - 1, 1 - offset,
                            h.positive_span, h.positive_delta);
  return h;
}

template <size_t N>
double Quantile(const std::array<uint64_t, N>& slots, double q,
                double (*bound)(int)) {
  uint64_t total = 0;
  for (uint64_t c : slots) total += c;
  if (total == 0) return 0.0;
  const double rank = q * static_cast<double>(total);
  uint64_t cum = 0;
  for (size_t i = 0; i < N; ++i) {
    cum += slots[i];
    if (static_cast<double>(cum) >= rank) return bound(i);
  }
  return bound(N - 1);
}

}  // namespace

double SlotUpperBoundSeconds(int slot) {
  return slot == 0 ? 0.0 : NativeBound(slot - RL_HIST_OFFSET, 0);
}

double FineSlotUpperBoundSeconds(int slot) {
  return slot == 0 ? 0.0 : NativeBound(slot - RL_FINE_OFFSET, 1);
}

prom::ClientMetric::Histogram ToPromHistogram(const Log2Hist& slots,
                                              uint64_t sum_ns) {
  return Convert(slots, sum_ns, kFirstExportedSlot, kLastExportedSlot,
                 SlotUpperBoundSeconds, 0, RL_HIST_OFFSET);
}

prom::ClientMetric::Histogram ToPromHistogram(const FineHist& slots,
                                              uint64_t sum_ns) {
  return Convert(slots, sum_ns, kFirstFineExportedSlot, kLastFineExportedSlot,
                 FineSlotUpperBoundSeconds, 1, RL_FINE_OFFSET);
}

double HistQuantileUpperBound(const Log2Hist& slots, double q) {
  return Quantile(slots, q, SlotUpperBoundSeconds);
}

double HistQuantileUpperBound(const FineHist& slots, double q) {
  return Quantile(slots, q, FineSlotUpperBoundSeconds);
}

}  // namespace redline
