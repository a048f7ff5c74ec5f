// Prometheus text exposition format 0.0.4.
#ifndef REDLINE_EXPORTERS_TEXT_SERIALIZER_H_
#define REDLINE_EXPORTERS_TEXT_SERIALIZER_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "exporters/metric_family.h"

namespace redline::prom {

inline constexpr absl::string_view kTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Appends the exposition of `families` to `out`. Families with no metrics
// are skipped (a HELP/TYPE without samples is noise). Label values are
// escaped; invalid UTF-8 (a comm can hold any byte) is replaced by U+FFFD so
// every line is valid for the parser.
void SerializeText(const std::vector<MetricFamily>& families, std::string& out);

// Escapes a label value: backslash, double quote and newline.
std::string EscapeLabelValue(absl::string_view v);
// Escapes HELP text: backslash and newline.
std::string EscapeHelp(absl::string_view v);
// Appends `v` with each byte that is not part of valid UTF-8 replaced by
// U+FFFD, unescaped (for formats that carry strings as they are).
void AppendValidUtf8(absl::string_view v, std::string& out);
// Formats a sample value the way Prometheus parses it (+Inf, -Inf, NaN).
std::string FormatValue(double v);

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_TEXT_SERIALIZER_H_
