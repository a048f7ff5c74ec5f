// Error text that echoes outside input (a YAML key, a flag value) must stay
// one line: control characters are written as \xNN.
#ifndef REDLINE_EXPORTERS_ONE_LINE_H_
#define REDLINE_EXPORTERS_ONE_LINE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace redline::prom {

inline std::string OneLine(absl::string_view msg) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(msg.size());
  for (const char c : msg) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_ONE_LINE_H_
