// Label values, names and HELP text come from the host (a comm can hold any
// byte). Whatever they hold, the protobuf exposition must parse as one
// delimited MetricFamily (read back with the code protoc generated from
// exporters/proto/metrics.proto), carry valid UTF-8 in every string (a
// proto string must be, and Prometheus rejects the scrape otherwise), and
// carry valid UTF-8 input unchanged.
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "exporters/metric_family.h"
#include "exporters/proto/metrics.pb.h"
#include "exporters/protobuf_serializer.h"
#include "exporters/text_serializer.h"

namespace {

namespace pb = ::io::prometheus::client;

// The input with invalid UTF-8 replaced, by the serializer's own rule;
// checked independently below by IsValidUtf8.
std::string Valid(const std::string& s) {
  std::string out;
  redline::prom::AppendValidUtf8(s, out);
  return out;
}

bool IsValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const int len = c < 0x80         ? 1
                    : (c >> 5) == 6  ? 2
                    : (c >> 4) == 14 ? 3
                    : (c >> 3) == 30 ? 4
                                     : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0xff >> (len + 1));
    for (int k = 1; k < len; ++k) {
      const unsigned char d = s[i + k];
      if ((d >> 6) != 2) return false;
      cp = cp << 6 | (d & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string value(reinterpret_cast<const char*>(data), size);
  redline::prom::MetricFamily f{
      "rl_fuzz_seconds", value, redline::prom::MetricType::kHistogram, {}};
  redline::prom::ClientMetric m;
  m.label = {{"comm", value}, {"syscall", "read"}};
  m.histogram.sample_count = size;
  m.histogram.bucket = {{size / 2, 0.5}};
  m.histogram.native = true;
  m.histogram.positive_span = {{static_cast<int32_t>(size) - 64, 1}};
  m.histogram.positive_delta = {static_cast<int64_t>(size)};
  f.metric.push_back(m);
  std::string out;
  redline::prom::SerializeProtobuf({f}, true, out);

  google::protobuf::io::ArrayInputStream in(out.data(), out.size());
  pb::MetricFamily got;
  bool eof = false;
  if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&got, &in,
                                                                &eof)) {
    __builtin_trap();
  }
  if (in.ByteCount() != static_cast<int64_t>(out.size())) __builtin_trap();
  if (got.metric_size() != 1 || got.metric(0).label_size() != 2) {
    __builtin_trap();
  }
  const std::string& label = got.metric(0).label(0).value();
  if (!IsValidUtf8(label) || !IsValidUtf8(got.help())) __builtin_trap();
  if (label != Valid(value) || got.help() != Valid(value)) __builtin_trap();
  if (IsValidUtf8(value) && label != value) __builtin_trap();
  const pb::Histogram& h = got.metric(0).histogram();
  if (h.sample_count() != size || h.positive_delta(0) != int64_t(size) ||
      h.positive_span(0).offset() != int32_t(size) - 64) {
    __builtin_trap();
  }
  return 0;
}
