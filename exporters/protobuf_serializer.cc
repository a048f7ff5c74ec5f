#include "exporters/protobuf_serializer.h"

#include <cmath>
#include <cstring>

#include "exporters/text_serializer.h"

namespace redline::prom {
namespace wire {

void AppendVarint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

}  // namespace wire

namespace {

using wire::AppendVarint;
using wire::ZigZag;

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2 };

void Tag(uint32_t field, WireType t, std::string& out) {
  AppendVarint((field << 3) | t, out);
}

void Double(uint32_t field, double v, std::string& out) {
  Tag(field, kFixed64, out);
  uint64_t bits;
  static_assert(sizeof(bits) == sizeof(v));
  std::memcpy(&bits, &v, sizeof(bits));
  for (int i = 0; i < 8; ++i) out += static_cast<char>(bits >> (8 * i));
}

void Uint(uint32_t field, uint64_t v, std::string& out) {
  Tag(field, kVarint, out);
  AppendVarint(v, out);
}

void String(uint32_t field, absl::string_view v, std::string& out) {
  Tag(field, kLen, out);
  std::string valid;
  valid.reserve(v.size());
  AppendValidUtf8(v, valid);
  AppendVarint(valid.size(), out);
  out += valid;
}

// A length-delimited field whose body is written by the caller: Open()
// remembers where the body starts, Close() inserts its length before it.
// The length is only known afterwards, and a minimal varint (what a
// byte-exact reader expects) cannot be reserved in advance; moving the body
// by 1-3 bytes is cheaper than sizing every message twice.
size_t Open(uint32_t field, std::string& out) {
  Tag(field, kLen, out);
  return out.size();
}

void Close(size_t start, std::string& out) {
  char len[10];
  size_t n = 0;
  for (uint64_t v = out.size() - start;; v >>= 7) {
    len[n++] = static_cast<char>((v & 0x7F) | (v >= 0x80 ? 0x80 : 0));
    if (v < 0x80) break;
  }
  out.insert(start, len, n);
}

// Metric.histogram (field 7).
void AppendHistogram(const ClientMetric::Histogram& h, bool classic,
                     std::string& out) {
  const size_t start = Open(7, out);
  Uint(1, h.sample_count, out);
  Double(2, h.sample_sum, out);
  if (classic || !h.native) {
    for (const auto& b : h.bucket) {
      // Prometheus adds the +Inf bucket from sample_count.
      if (std::isinf(b.upper_bound)) continue;
      const size_t bs = Open(3, out);
      Uint(1, b.cumulative_count, out);
      Double(2, b.upper_bound, out);
      Close(bs, out);
    }
  }
  if (h.native) {
    Tag(5, kVarint, out);
    AppendVarint(ZigZag(h.schema), out);
    Double(6, h.zero_threshold, out);
    Uint(7, h.zero_count, out);
    for (const auto& s : h.positive_span) {
      const size_t ss = Open(12, out);
      Tag(1, kVarint, out);
      AppendVarint(ZigZag(s.offset), out);
      Uint(2, s.length, out);
      Close(ss, out);
    }
    if (!h.positive_delta.empty()) {
      const size_t ds = Open(13, out);  // packed
      for (int64_t d : h.positive_delta) AppendVarint(ZigZag(d), out);
      Close(ds, out);
    }
  }
  Close(start, out);
}

void AppendMetric(const MetricFamily& f, const ClientMetric& m, bool classic,
                  std::string& out) {
  const size_t start = Open(4, out);
  for (const Label& l : m.label) {
    const size_t ls = Open(1, out);
    String(1, l.name, out);
    String(2, l.value, out);
    Close(ls, out);
  }
  switch (f.type) {
    case MetricType::kCounter: {
      const size_t cs = Open(3, out);
      Double(1, m.counter.value, out);
      Close(cs, out);
      break;
    }
    case MetricType::kGauge: {
      const size_t gs = Open(2, out);
      Double(1, m.gauge.value, out);
      Close(gs, out);
      break;
    }
    case MetricType::kUntyped: {
      const size_t us = Open(5, out);
      Double(1, m.gauge.value, out);
      Close(us, out);
      break;
    }
    case MetricType::kHistogram:
      AppendHistogram(m.histogram, classic, out);
      break;
  }
  Close(start, out);
}

// The wire numbers of io.prometheus.client.MetricType.
uint64_t TypeNumber(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return 0;
    case MetricType::kGauge:
      return 1;
    case MetricType::kHistogram:
      return 4;
    case MetricType::kUntyped:
      break;
  }
  return 3;
}

}  // namespace

void SerializeProtobuf(const std::vector<MetricFamily>& families,
                       bool classic_histograms, std::string& out) {
  for (const MetricFamily& f : families) {
    if (f.metric.empty()) continue;
    // The delimiter is the family's length, like a field's (Close).
    const size_t start = out.size();
    String(1, f.name, out);
    if (!f.help.empty()) String(2, f.help, out);
    Uint(3, TypeNumber(f.type), out);
    for (const ClientMetric& m : f.metric) {
      AppendMetric(f, m, classic_histograms, out);
    }
    Close(start, out);
  }
}

}  // namespace redline::prom
