// The HTTP/1.x classifier the kernel runs (bpf/l7_http.bpf.h), reached
// through the protocol table (bpf/l7_proto.bpf.h) as bpf/l7.bpf.c does,
// compiled here unchanged and checked against a plain reference on any
// bytes: the method found at each offset, the status code of a status line
// and the outcome it records, and where pipelined requests may start. Bytes
// past the n valid ones are input too: in the kernel they are stale.
#include <linux/types.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#define __always_inline inline __attribute__((always_inline))
#include "tests/fuzz/l7_classifier_shim.h"

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

__u8 RefOutcome(__u32 status) {
  if (status == 0) return 0;
  if (status < 200 && status != 101) return RL_L7_INTERIM;
  return status / 100;
}

// Offsets just past each "\r\n\r\n" with bytes after it, the first
// RL_L7_FIFO - 1; none in a message too short to hold two requests.
std::vector<__u32> RefNext(std::string_view w) {
  std::vector<__u32> at;
  if (w.size() <= RL_L7_SMALL_PEEK) return at;
  for (size_t p = 1; p + 4 < w.size() && at.size() < RL_L7_FIFO - 1; ++p) {
    if (w.substr(p, 4) == "\r\n\r\n") at.push_back(p + 4);
  }
  return at;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  alignas(8) rl_l7_window win = {};  // the kernel's per-CPU window
  char* b = win.b;
  const __u32 n = size < RL_L7_PEEK ? size : RL_L7_PEEK;
  std::memcpy(b, data, size < RL_L7_PEEK * 2 ? size : RL_L7_PEEK * 2);
  const std::string_view w(b, n);
  for (__u32 off = 0; off < n; ++off) {
    const __u8 m = RefMethod(w.substr(off));
    if (http_method_at(b, off, n) != m) __builtin_trap();
  }
  if (http_status(b, n) != RefStatus(w)) __builtin_trap();

  // A connection not yet classified takes HTTP from a request or response
  // start; a request start that is not HTTP may be another row's (Redis:
  // redis_classifier_fuzz checks that one), never HTTP's.
  __u8 proto = 0;
  const __u8 m = RefMethod(w);
  const __u8 op = rl_l7_request(&proto, b, n);
  if (m ? (op != m || proto != RL_L7_PROTO_HTTP)
        : (proto == RL_L7_PROTO_HTTP || (op != 0) != (proto != 0))) {
    __builtin_trap();
  }
  // A response start names HTTP; else only MySQL's greeting (the other
  // row whose replies name a connection: l7_mysql_test checks it) may.
  proto = 0;
  const __u8 outcome = RefOutcome(RefStatus(w));
  const __u8 got = rl_l7_response(&proto, b, n);
  if (outcome ? got != outcome || proto != RL_L7_PROTO_HTTP
              : got != my_response(b, n) ||
                    proto != (got ? RL_L7_PROTO_MYSQL : 0)) {
    __builtin_trap();
  }

  http_scan hs = {};
  hs.w = &win;
  hs.n = n;
  http_block_ends(&hs);
  const std::vector<__u32> at = RefNext(w);
  if (hs.found != at.size()) __builtin_trap();
  for (__u32 j = 0; j < hs.found; ++j) {
    if (hs.at[j] != at[j]) __builtin_trap();
  }
  // The requests behind the first, as runs of one method: those of the
  // block ends where a request line starts.
  rl_l7_scan s = {};
  s.n = n;
  rl_l7_next_requests(RL_L7_PROTO_HTTP, &win, &s);
  std::vector<std::pair<__u8, __u16>> runs;
  for (__u32 off : at) {
    const __u8 mm = RefMethod(w.substr(off));
    if (mm == 0) continue;
    if (!runs.empty() && runs.back().first == mm) {
      ++runs.back().second;
    } else {
      runs.push_back({mm, 1});
    }
  }
  if (s.r.found != runs.size() || s.r.end != 0) __builtin_trap();
  for (__u32 j = 0; j < s.r.found; ++j) {
    if (s.r.op[j] != runs[j].first || s.r.cnt[j] != runs[j].second) {
      __builtin_trap();
    }
  }
  return 0;
}
