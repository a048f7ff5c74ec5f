#include "agent/model/histogram.h"

#include <cmath>
#include <limits>

namespace redline {

double SlotUpperBoundSeconds(int slot) {
  return std::ldexp(1.0, slot + 1) * 1e-9;
}

prom::ClientMetric::Histogram ToPromHistogram(const Log2Hist& slots,
                                              uint64_t sum_ns) {
  prom::ClientMetric::Histogram h;
  uint64_t cum = 0;
  int i = 0;
  for (; i < kFirstExportedSlot; ++i) cum += slots[i];
  h.bucket.reserve(kLastExportedSlot - kFirstExportedSlot + 2);
  for (; i <= kLastExportedSlot; ++i) {
    cum += slots[i];
    h.bucket.push_back({cum, SlotUpperBoundSeconds(i)});
  }
  for (; i < RL_HIST_SLOTS; ++i) cum += slots[i];
  h.bucket.push_back({cum, std::numeric_limits<double>::infinity()});
  h.sample_count = cum;
  h.sample_sum = static_cast<double>(sum_ns) * 1e-9;
  return h;
}

double HistQuantileUpperBound(const Log2Hist& slots, double q) {
  uint64_t total = 0;
  for (uint64_t c : slots) total += c;
  if (total == 0) return 0.0;
  const double rank = q * static_cast<double>(total);
  uint64_t cum = 0;
  for (int i = 0; i < RL_HIST_SLOTS; ++i) {
    cum += slots[i];
    if (static_cast<double>(cum) >= rank) return SlotUpperBoundSeconds(i);
  }
  return SlotUpperBoundSeconds(RL_HIST_SLOTS - 1);
}

double FineSlotUpperBoundSeconds(int slot) {
  const int k = slot / 2;
  return (slot % 2 == 0 ? 1.5 * std::ldexp(1.0, k) : std::ldexp(1.0, k + 1)) *
         1e-9;
}

prom::ClientMetric::Histogram ToPromHistogram(const FineHist& slots,
                                              uint64_t sum_ns) {
  prom::ClientMetric::Histogram h;
  uint64_t cum = 0;
  int i = 0;
  for (; i < kFirstFineExportedSlot; ++i) cum += slots[i];
  h.bucket.reserve(kLastFineExportedSlot - kFirstFineExportedSlot + 2);
  for (; i <= kLastFineExportedSlot; ++i) {
    cum += slots[i];
    h.bucket.push_back({cum, FineSlotUpperBoundSeconds(i)});
  }
  for (; i < kFineSlots; ++i) cum += slots[i];
  h.bucket.push_back({cum, std::numeric_limits<double>::infinity()});
  h.sample_count = cum;
  h.sample_sum = static_cast<double>(sum_ns) * 1e-9;
  return h;
}

double HistQuantileUpperBound(const FineHist& slots, double q) {
  uint64_t total = 0;
  for (uint64_t c : slots) total += c;
  if (total == 0) return 0.0;
  const double rank = q * static_cast<double>(total);
  uint64_t cum = 0;
  for (int i = 0; i < kFineSlots; ++i) {
    cum += slots[i];
    if (static_cast<double>(cum) >= rank) return FineSlotUpperBoundSeconds(i);
  }
  return FineSlotUpperBoundSeconds(kFineSlots - 1);
}

}  // namespace redline
