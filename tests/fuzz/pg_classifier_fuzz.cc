// The PostgreSQL classifier the kernel runs (bpf/l7_pg.bpf.h), reached
// through the protocol table as bpf/l7.bpf.c does, compiled here unchanged
// and checked on any bytes against a plain reference written from the
// protocol's description: the requests a write ends (Query, Sync,
// FunctionCall) and each Query's first keyword; the ReadyForQuery messages
// a read holds. The data is the input itself, so ASan finds any read past
// it (the kernel would read stale user memory there instead).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/l7_classifier_shim.h"

namespace {

constexpr const char* kKeywords[][2] = {
#define KW(word, cmd) {#word, #cmd},
    RL_PG_KEYWORDS(KW)
#undef KW
};
constexpr const char* kCommands[] = {
#define NAME(name) #name,
    RL_PG_COMMANDS(NAME)
#undef NAME
};

uint32_t Be32(std::string_view d, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(d[at])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(d[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(d[at + 2])) << 8 |
         static_cast<uint8_t>(d[at + 3]);
}

bool Letter(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

__u8 CommandCode(std::string_view name) {
  for (size_t i = 0; i < std::size(kCommands); ++i) {
    if (name == kCommands[i]) return static_cast<__u8>(RL_PG_CMD_PARSE + 1 + i);
  }
  __builtin_trap();
}

// The command of statement text t (the body bytes the kernel reads: at
// most RL_PG_BODY): its first word past blanks, '(' and comments.
__u8 RefKeyword(std::string_view t) {
  size_t p = 0, skipped = 0;
  int mode = 0;
  for (; p < t.size() && skipped < RL_PG_SKIP_MAX; ++p, ++skipped) {
    const char c = t[p], d = p + 1 < t.size() ? t[p + 1] : 0;
    if (mode == 1) {
      if (c == '*' && d == '/') mode = 0, ++p;
    } else if (mode == 2) {
      if (c == '\n') mode = 0;
    } else if (c == '/' && d == '*') {
      mode = 1, ++p;
    } else if (c == '-' && d == '-') {
      mode = 2, ++p;
    } else if (Letter(c)) {
      break;
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '(') {
      return RL_PG_CMD_OTHER;
    }
  }
  if (p >= t.size() || skipped >= RL_PG_SKIP_MAX || !Letter(t[p])) {
    return RL_PG_CMD_OTHER;
  }
  std::string word;
  for (size_t q = p; q < t.size() && Letter(t[q]) && word.size() <= 16; ++q) {
    word += static_cast<char>(t[q] | 0x20);
  }
  for (const auto& kw : kKeywords) {
    if (word == kw[0]) return CommandCode(kw[1]);
  }
  return RL_PG_CMD_OTHER;
}

// The reference walk of a write: the requests it ends, in order, on a
// connection whose statements are those its own Parses name.
std::vector<__u8> RefRequests(std::string_view d) {
  std::vector<__u8> out;
  std::map<std::string, __u8> statements;
  size_t off = 0;
  int group = 0;  // like the kernel's state: cmd | parse | exec
  for (int hop = 0; hop < RL_PG_HOPS && off + 5 <= d.size(); ++hop) {
    const uint32_t len = Be32(d, off + 1);
    if (len < 4 || len >= RL_PG_MSG_MAX) break;
    const std::string_view body = d.substr(
        off + 5, std::min<size_t>({len - 4u, size_t{RL_PG_BODY}, d.size() - off - 5}));
    switch (d[off]) {
      case 'Q':
        out.push_back(body.empty() ? RL_PG_CMD_OTHER : RefKeyword(body));
        group = 0;
        break;
      case 'P': {
        const size_t nul = body.find('\0');
        __u8 cmd = RL_PG_CMD_OTHER;
        if (nul != std::string_view::npos && nul <= RL_PG_NAME_MAX) {
          cmd = RefKeyword(body.substr(nul + 1));
          statements[std::string(body.substr(0, nul))] = cmd;
        }
        group = (group & RL_PG_GROUP_EXEC) | RL_PG_GROUP_PARSE | cmd;
        break;
      }
      case 'B': {  // portal, statement: the statement's command
        const size_t a = body.find('\0');
        const size_t b =
            a == std::string_view::npos ? a : body.find('\0', a + 1);
        if (a <= RL_PG_NAME_MAX && b != std::string_view::npos &&
            b - a - 1 <= RL_PG_NAME_MAX) {
          const auto it =
              statements.find(std::string(body.substr(a + 1, b - a - 1)));
          group = (group & ~RL_PG_GROUP_CMD) |
                  (it == statements.end() ? RL_PG_CMD_OTHER : it->second);
        }
        break;
      }
      case 'E':
        group |= RL_PG_GROUP_EXEC;
        break;
      case 'S': {
        __u8 cmd = group & RL_PG_GROUP_CMD;
        if (!(group & RL_PG_GROUP_EXEC)) {
          cmd = group & RL_PG_GROUP_PARSE ? RL_PG_CMD_PARSE : RL_PG_CMD_OTHER;
        }
        out.push_back(cmd ? cmd : RL_PG_CMD_OTHER);
        group = 0;
        break;
      }
      case 'F':
        out.push_back(RL_PG_CMD_OTHER);
        break;
    }
    off += 1 + static_cast<size_t>(len);
    if (off >= d.size()) break;
  }
  return out;
}

bool EndsReady(std::string_view d);

// The ReadyForQuery messages of a read walked from its start; where the
// walk loses its place (or runs out of hops), one more if the read ends
// with one.
int RefReadies(std::string_view d) {
  size_t off = 0;
  int readies = 0;
  for (int hop = 0; hop < RL_PG_HOPS; ++hop) {
    if (off >= d.size()) return readies;
    if (off + 5 > d.size()) break;
    const uint32_t len = Be32(d, off + 1);
    if (len < 4 || len >= RL_PG_MSG_MAX ||
        !std::strchr("123ACcDdEGHINnSsTtVWZ", d[off]) || d[off] == 0) {
      break;
    }
    readies += d[off] == 'Z';
    off += 1 + static_cast<size_t>(len);
  }
  if (off >= d.size()) return readies;
  return readies + (EndsReady(d) ? 1 : 0);
}

bool EndsReady(std::string_view d) {
  return d.size() >= 6 &&
         d.substr(d.size() - 6, 5) == std::string_view("Z\0\0\0\x05", 5) &&
         std::strchr("IET", d.back()) && d.back();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 64 * 1024) return 0;
  // A copy of exactly size bytes: ASan flags any read past the data.
  std::vector<char> buf(data, data + size);
  const std::string_view d(buf.data(), size);
  alignas(8) static rl_l7_window win;
  std::memset(&win, 0, sizeof(win));
  const __u32 n = std::min<size_t>(size, RL_L7_SMALL_PEEK);
  std::memcpy(win.b, buf.data(), n);
  PgStatements().clear();

  // As a write of requests.
  __u8 proto = RL_L7_PROTO_PG;
  if (rl_l7_request(&proto, win.b, n)) {
    rl_l7_scan s = {};
    s.ubuf = reinterpret_cast<__u64>(buf.data());
    s.r.ubuf = s.ubuf;
    s.len = size;
    s.n = n;
    rl_l7_next_requests(RL_L7_PROTO_PG, &win, &s);
    std::vector<__u8> got;
    if (s.r.first != RL_L7_INTERIM) got.push_back(s.r.first);
    for (__u32 i = 0; i < s.r.found; ++i) {
      got.insert(got.end(), s.r.cnt[i], s.r.op[i]);
    }
    // Runs full: the rest is not reported (or joins the last run).
    if (s.r.found < RL_L7_SCAN_RUNS && got != RefRequests(d)) {
      __builtin_trap();
    }
    if (s.r.end && s.r.end <= size) __builtin_trap();
  }

  // As a read of responses, with the walk in place and lost.
  for (const __u8 state : {0, RL_PG_LOST}) {
    proto = RL_L7_PROTO_PG;
    if (rl_l7_response(&proto, win.b, n) != (size ? RL_L7_INTERIM : 0)) {
      __builtin_trap();
    }
    rl_l7_scan s = {};
    s.ubuf = reinterpret_cast<__u64>(buf.data());
    s.r.ubuf = s.ubuf;
    s.len = size;
    s.n = n;
    s.r.state = state;
    rl_l7_next_responses(RL_L7_PROTO_PG, &win, &s);
    int got = 0;
    for (__u32 i = 0; i < s.r.found; ++i) {
      if (s.r.op[i] == 0 || s.r.op[i] >= RL_PG_OUT_COUNT) __builtin_trap();
      got += s.r.cnt[i];
    }
    const int want = state ? (EndsReady(d) ? 1 : 0) : RefReadies(d);
    if (got != want && s.r.found < RL_L7_SCAN_RUNS) __builtin_trap();
  }
  return 0;
}
