#include "exporters/text_serializer.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace redline::prom {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SeqLen(absl::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t min;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2, min = 0x80, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, min = 0x800, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, min = 0x10000, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void AppendEscaped(absl::string_view v, bool quote, std::string& out) {
  for (size_t i = 0; i < v.size();) {
    const char c = v[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      const size_t n = Utf8SeqLen(v, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD
        ++i;
        continue;
      }
      out.append(v.data() + i, n);
      i += n;
      continue;
    }
    ++i;
  }
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kUntyped:
      break;
  }
  return "untyped";
}

// The escaped `a="b",c="d"` body of a label set, without braces.
std::string LabelBody(const std::vector<Label>& labels) {
  std::string out;
  for (const Label& l : labels) {
    if (!out.empty()) out += ',';
    out += l.name;
    out += "=\"";
    AppendEscaped(l.value, true, out);
    out += '"';
  }
  return out;
}

// name+suffix{body[,le="..."]} — the label body is escaped once per series
// and reused for every line of a histogram.
void AppendSeries(absl::string_view name, absl::string_view suffix,
                  absl::string_view body, absl::string_view le,
                  std::string& out) {
  out.append(name.data(), name.size());
  out.append(suffix.data(), suffix.size());
  if (body.empty() && le.empty()) {
    out += ' ';
    return;
  }
  out += '{';
  out.append(body.data(), body.size());
  if (!le.empty()) {
    if (!body.empty()) out += ',';
    out += "le=\"";
    out.append(le.data(), le.size());
    out += '"';
  }
  out += "} ";
}

}  // namespace

void AppendValidUtf8(absl::string_view v, std::string& out) {
  for (size_t i = 0; i < v.size();) {
    const size_t n = Utf8SeqLen(v, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    out.append(v.data() + i, n);
    i += n;
  }
}

std::string EscapeLabelValue(absl::string_view v) {
  std::string out;
  out.reserve(v.size());
  AppendEscaped(v, true, out);
  return out;
}

std::string EscapeHelp(absl::string_view v) {
  std::string out;
  out.reserve(v.size());
  AppendEscaped(v, false, out);
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Integers print exactly (counters are integral most of the time).
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  // Shortest of %.15g/%.17g that reads back as the same double.
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  if (std::strtod(buf, nullptr) != v) {
    std::snprintf(buf, sizeof(buf), "%.17g", v);
  }
  return buf;
}

void SerializeText(const std::vector<MetricFamily>& families, std::string& out) {
  // Formatted bucket bounds, reused while consecutive series share them.
  std::vector<double> bounds;
  std::vector<std::string> les;
  for (const MetricFamily& f : families) {
    if (f.metric.empty()) continue;
    absl::StrAppend(&out, "# HELP ", f.name, " ", EscapeHelp(f.help), "\n");
    absl::StrAppend(&out, "# TYPE ", f.name, " ", TypeName(f.type), "\n");
    for (const ClientMetric& m : f.metric) {
      const std::string body = LabelBody(m.label);
      switch (f.type) {
        case MetricType::kCounter:
          AppendSeries(f.name, "", body, "", out);
          absl::StrAppend(&out, FormatValue(m.counter.value), "\n");
          break;
        case MetricType::kGauge:
        case MetricType::kUntyped:
          AppendSeries(f.name, "", body, "", out);
          absl::StrAppend(&out, FormatValue(m.gauge.value), "\n");
          break;
        case MetricType::kHistogram: {
          const auto& h = m.histogram;
          bool wrote_inf = false;
          for (size_t i = 0; i < h.bucket.size(); ++i) {
            const auto& b = h.bucket[i];
            if (i >= bounds.size()) {
              bounds.push_back(b.upper_bound);
              les.push_back(FormatValue(b.upper_bound));
            } else if (bounds[i] != b.upper_bound) {
              bounds[i] = b.upper_bound;
              les[i] = FormatValue(b.upper_bound);
            }
            wrote_inf = wrote_inf || std::isinf(b.upper_bound);
            AppendSeries(f.name, "_bucket", body, les[i], out);
            absl::StrAppend(&out, b.cumulative_count, "\n");
          }
          if (!wrote_inf) {
            AppendSeries(f.name, "_bucket", body, "+Inf", out);
            absl::StrAppend(&out, h.sample_count, "\n");
          }
          AppendSeries(f.name, "_sum", body, "", out);
          absl::StrAppend(&out, FormatValue(h.sample_sum), "\n");
          AppendSeries(f.name, "_count", body, "", out);
          absl::StrAppend(&out, h.sample_count, "\n");
          break;
        }
      }
    }
  }
}

}  // namespace redline::prom
