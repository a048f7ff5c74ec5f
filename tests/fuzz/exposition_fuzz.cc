// Label values and HELP text come from the host (a comm can hold any byte):
// the exposition must stay one valid line per sample, and escaping must
// round-trip exactly for valid UTF-8 (invalid bytes become U+FFFD).
#include <cstddef>
#include <cstdint>
#include <string>

#include "exporters/metric_family.h"
#include "exporters/text_serializer.h"

namespace {

bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    int len = c < 0x80         ? 1
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

// The text format's unescaping of a label value, as Prometheus parses it.
std::string Unescape(const std::string& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      const char e = v[++i];
      out += e == 'n' ? '\n' : e;
    } else {
      out += v[i];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string value(reinterpret_cast<const char*>(data), size);
  redline::prom::MetricFamily f{
      "rl_fuzz_total", value, redline::prom::MetricType::kCounter, {}};
  redline::prom::ClientMetric m;
  m.label = {{"comm", value}};
  m.counter.value = 1;
  f.metric.push_back(m);
  std::string text;
  redline::prom::SerializeText({f}, text);
  if (!ValidUtf8(text)) __builtin_trap();
  // Three lines: HELP, TYPE, the sample.
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  if (lines != 3 || text.back() != '\n') __builtin_trap();
  const std::string sample = text.substr(text.find("\nrl_fuzz_total{") + 1);
  const std::string prefix = "rl_fuzz_total{comm=\"";
  const size_t end = sample.rfind("\"} 1\n");
  if (sample.rfind(prefix, 0) != 0 || end == std::string::npos)
    __builtin_trap();
  const std::string escaped = sample.substr(prefix.size(), end - prefix.size());
  // An unescaped quote would end the value early.
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '\\') {
      ++i;
    } else if (escaped[i] == '"') {
      __builtin_trap();
    }
  }
  if (ValidUtf8(value) && Unescape(escaped) != value) __builtin_trap();
  return 0;
}
