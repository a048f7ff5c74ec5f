// Kernel log2 latency histograms to Prometheus buckets.
#ifndef REDLINE_AGENT_MODEL_HISTOGRAM_H_
#define REDLINE_AGENT_MODEL_HISTOGRAM_H_

#include <linux/types.h>  // __u32/__u64 for the BPF ABI header

#include <array>
#include <cstdint>

#include "bpf/syscalls.h"
#include "exporters/metric_family.h"

namespace redline {

using Log2Hist = std::array<uint64_t, RL_HIST_SLOTS>;

// Kernel slot i counts durations d with 2^i <= d < 2^(i+1) ns (slot 0 also
// holds d == 0). Exported buckets are le = 2^(i+1) ns for slots
// kFirstExportedSlot..kLastExportedSlot (1.024 us .. 17.18 s); slots below
// fold into the first bucket, slots above only into +Inf.
inline constexpr int kFirstExportedSlot = 9;
inline constexpr int kLastExportedSlot = 33;

// Upper bound in seconds of kernel slot i: 2^(i+1) ns.
double SlotUpperBoundSeconds(int slot);

// Cumulative Prometheus histogram from kernel slots and the exact sum in ns.
prom::ClientMetric::Histogram ToPromHistogram(const Log2Hist& slots,
                                              uint64_t sum_ns);

// Quantile estimate (0 < q <= 1) in seconds: the upper bound of the slot that
// holds the q-th observation. 0 when empty.
double HistQuantileUpperBound(const Log2Hist& slots, double q);

// Request durations (bpf/l7.h): two slots per power of two of ns. Slot 2k
// counts [2^k, 1.5 * 2^k), slot 2k+1 counts [1.5 * 2^k, 2^(k+1)). Exported
// buckets are the slots' upper bounds from kFirstFineExportedSlot (6.1 us)
// to kLastFineExportedSlot (17.18 s): 44 buckets, every one an exact slot
// edge, so a cumulative count at any le is exact, not interpolated.
inline constexpr int kFineSlots = 80;
inline constexpr int kFirstFineExportedSlot = 24;
inline constexpr int kLastFineExportedSlot = 67;
using FineHist = std::array<uint64_t, kFineSlots>;

// Upper bound in seconds of fine slot i.
double FineSlotUpperBoundSeconds(int slot);

prom::ClientMetric::Histogram ToPromHistogram(const FineHist& slots,
                                              uint64_t sum_ns);

// As HistQuantileUpperBound, for fine slots.
double HistQuantileUpperBound(const FineHist& slots, double q);

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_HISTOGRAM_H_
