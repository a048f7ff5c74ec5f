// Kernel latency histograms to Prometheus histograms: classic buckets and
// native (sparse) buckets from the same slots.
#ifndef REDLINE_AGENT_MODEL_HISTOGRAM_H_
#define REDLINE_AGENT_MODEL_HISTOGRAM_H_

#include <linux/types.h>  // __u32/__u64 for the BPF ABI header

#include <array>
#include <cstdint>

#include "bpf/hist_edges.h"
#include "bpf/syscalls.h"
#include "exporters/metric_family.h"

namespace redline {

static_assert(RL_HIST_SLOTS == RL_NATIVE_HIST_SLOTS);

// Kernel slots (bpf/hist_edges.h) are native histogram buckets: slot 0
// holds zero durations, slot s of a Log2Hist is bucket s - 30 of schema 0,
// (2^(s-31), 2^(s-30)] seconds, and the last slot also holds everything
// longer. Exported classic buckets are the slots' upper bounds for slots
// kFirstExportedSlot..kLastExportedSlot (2^-20 s = 954 ns .. 16 s); slots
// below fold into the first bucket, slots above only into +Inf.
using Log2Hist = std::array<uint64_t, RL_HIST_SLOTS>;
inline constexpr int kFirstExportedSlot = 10;
inline constexpr int kLastExportedSlot = 34;

// Upper bound in seconds of slot i, as Prometheus computes the bound of
// its native bucket (0 for the zero slot).
double SlotUpperBoundSeconds(int slot);

// Cumulative classic buckets, the native buckets (schema 0) and the exact
// sum in ns.
prom::ClientMetric::Histogram ToPromHistogram(const Log2Hist& slots,
                                              uint64_t sum_ns);

// Quantile estimate (0 < q <= 1) in seconds: the upper bound of the slot that
// holds the q-th observation. 0 when empty.
double HistQuantileUpperBound(const Log2Hist& slots, double q);

// Request durations (bpf/l7.h): slot s is bucket s - 60 of schema 1,
// (2^((s-61)/2), 2^((s-60)/2)] seconds. Exported classic buckets are the
// slots' upper bounds from kFirstFineExportedSlot (2^-17.5 s = 5.4 us) to
// kLastFineExportedSlot (16 s): 44 buckets, sqrt(2) apart, every one an
// exact slot edge, so a cumulative count at any le is exact.
inline constexpr int kFineSlots = RL_NATIVE_FINE_SLOTS;
inline constexpr int kFirstFineExportedSlot = 25;
inline constexpr int kLastFineExportedSlot = 68;
using FineHist = std::array<uint64_t, kFineSlots>;

// Upper bound in seconds of fine slot i.
double FineSlotUpperBoundSeconds(int slot);

prom::ClientMetric::Histogram ToPromHistogram(const FineHist& slots,
                                              uint64_t sum_ns);

// As HistQuantileUpperBound, for fine slots.
double HistQuantileUpperBound(const FineHist& slots, double q);

// The zero bucket's threshold: 2^-30 s, the lower bound of slot 1, so it
// holds exactly the zero durations (the kernel counts whole ns).
inline constexpr double kZeroThresholdSeconds = 1.0 / (1 << 30);

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_HISTOGRAM_H_
