// The HTTP/1.x classifier the kernel runs (bpf/l7_http.bpf.h), compiled
// here unchanged and checked against a plain reference on any bytes: the
// method found at each offset and the status code of a status line.
#include <linux/types.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#define __always_inline inline __attribute__((always_inline))
extern "C" {
#include "bpf/l7.h"
#include "bpf/l7_http.bpf.h"
}

namespace {

constexpr std::string_view kMethods[] = {
    "",       "GET",     "HEAD",    "POST",  "PUT",
    "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
static_assert(std::size(kMethods) == RL_HTTP_METHOD_COUNT);

bool TargetStart(char t) {
  return t == '/' || t == '*' || t == '[' || (t >= 'a' && t <= 'z') ||
         (t >= 'A' && t <= 'Z') || (t >= '0' && t <= '9');
}

__u8 RefMethod(std::string_view w) {
  for (__u8 m = 1; m < RL_HTTP_METHOD_COUNT; ++m) {
    const std::string_view name = kMethods[m];
    if (w.size() >= name.size() + 2 && w.substr(0, name.size()) == name &&
        w[name.size()] == ' ' && TargetStart(w[name.size() + 1])) {
      return m;
    }
  }
  return 0;
}

__u32 RefStatus(std::string_view w) {
  if (w.size() < 12 ||
      (w.substr(0, 9) != "HTTP/1.0 " && w.substr(0, 9) != "HTTP/1.1 ")) {
    return 0;
  }
  for (int i = 9; i < 12; ++i) {
    if (w[i] < '0' || w[i] > '9') return 0;
  }
  if (w.size() > 12 && w[12] != ' ' && w[12] != '\r') return 0;
  const __u32 code = (w[9] - '0') * 100 + (w[10] - '0') * 10 + (w[11] - '0');
  return code >= 100 && code <= 599 ? code : 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  char b[RL_L7_PEEK] = {};
  const __u32 n = size < RL_L7_PEEK ? size : RL_L7_PEEK;
  std::memcpy(b, data, n);
  const std::string_view w(b, n);
  for (__u32 off = 0; off < n; ++off) {
    if (http_method_at(b, off, n) != RefMethod(w.substr(off))) __builtin_trap();
  }
  if (http_status(b, n) != RefStatus(w)) __builtin_trap();
  return 0;
}
