// The Redis classifier the kernel runs (bpf/l7_redis.bpf.h), reached
// through the protocol table as bpf/l7.bpf.c does, compiled here unchanged
// and checked on any bytes against a plain RESP reference written from the
// protocol's description: the command of a request start, the outcome of a
// reply, and the runs of commands (outcomes) the walk reports behind the
// first message. Bytes past the n valid ones are input too: in the kernel
// they are stale.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/fuzz/l7_classifier_shim.h"

namespace {

constexpr const char* kCommands[] = {
#define NAME(name) #name,
    RL_REDIS_COMMANDS(NAME)
#undef NAME
};
constexpr const char* kErrors[] = {
#define NAME(name) #name,
    RL_REDIS_ERRORS(NAME)
#undef NAME
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
  }
  return out;
}

__u8 RefCommand(std::string_view name) {
  const std::string l = Lower(name);
  for (size_t i = 0; i < std::size(kCommands); ++i) {
    if (l == kCommands[i]) return static_cast<__u8>(RL_REDIS_CMD_OTHER + 1 + i);
  }
  return RL_REDIS_CMD_OTHER;
}

// A header line at w[off]: type byte, optional '-', 1..10 digits, CRLF.
std::optional<std::pair<int64_t, size_t>> RefNumber(std::string_view w,
                                                    size_t off) {
  size_t p = off + 1;
  bool neg = p < w.size() && w[p] == '-';
  if (neg) ++p;
  size_t digits = 0;
  int64_t v = 0;
  while (p < w.size() && w[p] >= '0' && w[p] <= '9') {
    if (++digits > 10) return std::nullopt;
    v = v * 10 + (w[p] - '0');
    ++p;
  }
  if (digits == 0 || p + 1 >= w.size() || w[p] != '\r' || w[p + 1] != '\n') {
    return std::nullopt;
  }
  return std::make_pair(neg ? -v : v, p + 2);
}

// The end of a line at w[off]: its CRLF within 128 bytes of off + 1.
std::optional<size_t> RefLine(std::string_view w, size_t off) {
  for (size_t p = off + 1; p < off + 1 + 128 && p + 1 < w.size(); ++p) {
    if (w[p] == '\r' && w[p + 1] == '\n') return p + 2;
  }
  return std::nullopt;
}

__u8 RefError(std::string_view w, size_t off) {
  for (size_t i = 0; i <= 16 && off + i < w.size(); ++i) {
    if (w[off + i] == ' ' || w[off + i] == '\r') {
      const std::string word = Lower(w.substr(off, i));
      for (size_t k = 0; k < std::size(kErrors); ++k) {
        if (word == Lower(kErrors[k])) {
          return static_cast<__u8>(RL_REDIS_OUT_ERROR + 1 + k);
        }
      }
      return RL_REDIS_OUT_ERROR;
    }
  }
  return RL_REDIS_OUT_ERROR;
}

bool ReplyType(char t) {
  return std::string_view("+-:$*_,#!=(%~|").find(t) != std::string_view::npos;
}

__u8 RefOutcome(std::string_view w, size_t off) {
  if (w[off] == '-') return RefError(w, off + 1);
  if (w[off] != '!') return RL_REDIS_OUT_OK;
  auto num = RefNumber(w, off);
  return num ? RefError(w, num->second) : RL_REDIS_OUT_ERROR;
}

__u8 RefRequestAt(std::string_view w, size_t off) {
  if (off >= w.size() || w[off] != '*') return 0;
  auto count = RefNumber(w, off);
  if (!count || count->first < 1 || count->first > (1 << 20)) return 0;
  const size_t p = count->second;
  if (p >= w.size() || w[p] != '$') return 0;
  auto len = RefNumber(w, p);
  if (!len || len->first < 1 || len->first > 64 ||
      len->second + len->first > w.size()) {
    return 0;
  }
  const size_t q = len->second, l = static_cast<size_t>(len->first);
  return l > 16 ? RL_REDIS_CMD_OTHER : RefCommand(w.substr(q, l));
}

struct Runs {
  std::vector<std::pair<__u8, __u16>> runs;
  uint32_t end = 0;
};

// The walk: values one by one (at most 256, one per bpf_loop step), each
// message's command (outcome) appended to the runs after the first.
Runs RefWalk(std::string_view w, bool requests) {
  Runs out;
  size_t pos = 0, need = 0;
  bool name = false, past_first = false;
  __u8 cur = 0;
  for (int step = 0; step < RL_L7_WINDOW / 4; ++step) {
    if (pos >= w.size() || need > (1u << 21)) break;
    const char t = w[pos];
    if (need == 0) {
      if (requests ? t != '*' : (!ReplyType(t) && t != '>')) break;
      need = 1;
      name = requests;
      cur = requests ? RL_REDIS_CMD_OTHER : t == '>' ? 0 : RefOutcome(w, pos);
    }
    size_t next;
    if (std::string_view("*~>%|").find(t) != std::string_view::npos) {
      auto num = RefNumber(w, pos);
      if (!num || num->first > (1 << 20)) break;
      if (num->first > 0) {
        need += (t == '%' || t == '|') ? 2 * num->first : num->first;
      }
      if (t == '|') ++need;
      next = num->second;
    } else if (t == '$' || t == '!' || t == '=') {
      auto num = RefNumber(w, pos);
      if (!num || num->first > (512 << 20)) break;
      next = num->second;
      if (num->first >= 0) {
        const size_t l = static_cast<size_t>(num->first);
        if (name) {
          cur = next + l <= w.size() && l >= 1 && l <= 16
                    ? RefCommand(w.substr(next, l))
                    : RL_REDIS_CMD_OTHER;
        }
        next += l + 2;
      }
      name = false;
    } else {
      auto end = RefLine(w, pos);
      if (!end) break;
      next = *end;
      name = false;
    }
    pos = next;
    if (--need) {
      if (pos >= w.size()) break;
      continue;
    }
    if (past_first && cur) {
      if (!out.runs.empty() && out.runs.back().first == cur) {
        ++out.runs.back().second;
      } else if (out.runs.size() < RL_L7_SCAN_RUNS) {
        out.runs.push_back({cur, 1});
      } else {
        break;
      }
    }
    past_first = true;
    if (pos > w.size()) out.end = static_cast<uint32_t>(pos);
    if (pos >= w.size()) break;
  }
  return out;
}

void CheckWalk(rl_l7_window* win, __u32 n, bool requests, std::string_view w) {
  rl_l7_scan s = {};
  s.n = n;
  if (requests) {
    rl_l7_next_requests(RL_L7_PROTO_REDIS, win, &s);
  } else {
    rl_l7_next_responses(RL_L7_PROTO_REDIS, win, &s);
  }
  const Runs ref = RefWalk(w, requests);
  if (s.r.found != ref.runs.size() || s.r.end != ref.end) __builtin_trap();
  for (__u32 j = 0; j < s.r.found; ++j) {
    if (s.r.op[j] != ref.runs[j].first || s.r.cnt[j] != ref.runs[j].second) {
      __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  alignas(8) static rl_l7_window win;
  std::memset(&win, 0xAA, sizeof(win));  // stale bytes past n
  const __u32 n = size < RL_L7_WINDOW ? size : RL_L7_WINDOW;
  std::memcpy(win.b, data, n);
  const std::string_view w(win.b, n);

  for (__u32 off = 0; off < n && off < 64; ++off) {
    if (redis_request_at(win.b, off, n) != RefRequestAt(w, off)) {
      __builtin_trap();
    }
  }
  // A reply alone never names a connection Redis (HTTP's status line or
  // MySQL's greeting may name one theirs); on a Redis one, any reply type
  // but a push is a response, with its outcome.
  __u8 proto = 0;
  if (n && rl_l7_response(&proto, win.b, n) != 0 && proto != RL_L7_PROTO_HTTP &&
      proto != RL_L7_PROTO_MYSQL) {
    __builtin_trap();
  }
  proto = RL_L7_PROTO_REDIS;
  const __u8 want =
      n >= 3 && ReplyType(w[0]) ? RefOutcome(w, 0) : static_cast<__u8>(0);
  if (rl_l7_response(&proto, win.b, n) != want) __builtin_trap();

  CheckWalk(&win, n, true, w);
  CheckWalk(&win, n, false, w);
  return 0;
}
