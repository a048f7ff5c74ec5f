#include "exporters/native_buckets.h"

#include <algorithm>

namespace redline::prom {
namespace {

using Buckets = std::vector<std::pair<int32_t, uint64_t>>;

// Re-encodes sorted (index, count) pairs into h's spans and deltas.
void Encode(const Buckets& b, ClientMetric::Histogram* h) {
  h->positive_span.clear();
  h->positive_delta.clear();
  if (b.empty()) return;
  const int32_t first = b.front().first;
  std::vector<uint64_t> dense(b.back().first - first + 1, 0);
  for (const auto& [i, c] : b) dense[i - first] = c;
  EncodeNativeBuckets(dense.data(), static_cast<int>(dense.size()), first,
                      h->positive_span, h->positive_delta);
}

// Merges b into a (sorted by index), adding or subtracting (clamped).
Buckets Merge(const Buckets& a, const Buckets& b, bool add) {
  Buckets out;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].first < b[j].first)) {
      out.push_back(a[i++]);
    } else if (i == a.size() || b[j].first < a[i].first) {
      if (add) out.push_back(b[j]);
      ++j;
    } else {
      const uint64_t x = a[i].second, y = b[j].second;
      out.push_back({a[i].first, add ? x + y : x - std::min(x, y)});
      ++i, ++j;
    }
  }
  return out;
}

}  // namespace

void EncodeNativeBuckets(const uint64_t* counts, int n, int first_index,
                         std::vector<ClientMetric::BucketSpan>& spans,
                         std::vector<int64_t>& deltas) {
  constexpr int kMaxZerosInSpan = 2;
  int next = 0;       // bucket right after the last span (relative)
  bool open = false;  // a span has been started
  uint64_t prev = 0;  // the last count written
  for (int i = 0; i < n; ++i) {
    if (counts[i] == 0) continue;
    const int gap = i - next;
    if (open && gap <= kMaxZerosInSpan) {
      // Carry the empty buckets as zeros inside the span.
      for (int z = 0; z < gap; ++z) {
        deltas.push_back(-static_cast<int64_t>(prev));
        prev = 0;
      }
      spans.back().length += gap + 1;
    } else {
      // The first span's offset is its index; later ones count from the
      // end of the previous span.
      spans.push_back({open ? gap : first_index + i, 1});
      open = true;
    }
    deltas.push_back(static_cast<int64_t>(counts[i] - prev));
    prev = counts[i];
    next = i + 1;
  }
}

std::vector<std::pair<int32_t, uint64_t>> DecodeNativeBuckets(
    const std::vector<ClientMetric::BucketSpan>& spans,
    const std::vector<int64_t>& deltas) {
  Buckets out;
  int64_t idx = 0, count = 0;
  size_t d = 0;
  for (const auto& s : spans) {
    idx += s.offset;
    for (uint32_t k = 0; k < s.length; ++k, ++idx) {
      if (d == deltas.size()) return {};
      count += deltas[d++];
      if (count < 0) return {};
      if (count > 0) out.push_back({static_cast<int32_t>(idx), count});
    }
  }
  if (d != deltas.size()) return {};
  return out;
}

void AddNative(ClientMetric::Histogram* a, const ClientMetric::Histogram& b) {
  if (!b.native) return;
  if (!a->native) {
    a->native = true;
    a->schema = b.schema;
    a->zero_threshold = b.zero_threshold;
  }
  a->zero_count += b.zero_count;
  Encode(Merge(DecodeNativeBuckets(a->positive_span, a->positive_delta),
               DecodeNativeBuckets(b.positive_span, b.positive_delta), true),
         a);
}

void SubNative(ClientMetric::Histogram* a, const ClientMetric::Histogram& b) {
  if (!a->native || !b.native) return;
  a->zero_count -= std::min(a->zero_count, b.zero_count);
  Encode(Merge(DecodeNativeBuckets(a->positive_span, a->positive_delta),
               DecodeNativeBuckets(b.positive_span, b.positive_delta), false),
         a);
}

}  // namespace redline::prom
