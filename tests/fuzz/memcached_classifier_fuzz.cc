// The memcached classifier the kernel runs (bpf/l7_memcached.bpf.h),
// reached through the protocol table as bpf/l7.bpf.c does, compiled here
// unchanged and checked on any bytes, as one buffer and cut into iovec
// segments, against a plain reference written from the text protocol's
// description: the commands a write holds and the outcomes of the answers
// a read holds. ASan finds any read past the data.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/l7_classifier_shim.h"

namespace {

constexpr const char* kCommands[] = {
#define NAME(name) #name,
    RL_MC_COMMANDS(NAME)
#undef NAME
};

struct Line {
  std::vector<std::string> tokens;
  size_t next = 0;  // past the '\n'
};

// The line at off if it ends (a '\n') within RL_MC_LINE_MAX bytes.
bool ReadLine(std::string_view d, size_t off, Line* line) {
  const size_t max = std::min(d.size(), off + RL_MC_LINE_MAX);
  const size_t nl = d.substr(0, max).find('\n', off);
  if (nl == std::string_view::npos) return false;
  line->tokens.clear();
  std::string cur;
  for (size_t i = off; i < nl; ++i) {
    if (d[i] == ' ' || d[i] == '\r') {
      if (!cur.empty()) line->tokens.push_back(cur), cur.clear();
    } else {
      cur += d[i];
    }
  }
  if (!cur.empty()) line->tokens.push_back(cur);
  line->next = nl + 1;
  return true;
}

std::string Fold(std::string s) {
  for (char& c : s) c = static_cast<char>(c | 0x20);
  return s;
}

// A decimal number as the kernel takes one (no sign, at most 2^30).
bool Number(const std::string& t, uint32_t* v) {
  if (t.empty()) return false;
  uint64_t x = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
    if (x > RL_MC_DATA_MAX / 10) return false;
    x = x * 10 + (c - '0');
  }
  *v = static_cast<uint32_t>(x);
  return true;
}

__u8 Command(const std::string& w) {
  if (w.empty() || w[0] < 'a' || w[0] > 'z' || w.size() > 16) return 0;
  for (size_t i = 0; i < std::size(kCommands); ++i) {
    if (Fold(w) == Fold(kCommands[i])) return static_cast<__u8>(1 + i);
  }
  return 0;
}

// Words compared as the kernel does: every byte OR 0x20 on both sides.
bool Is(const std::string& folded, const char* word) {
  return folded == Fold(word);
}

// Meta protocol lines the kernel steps over (either direction).
bool Meta(const std::string& w) {
  for (const char* m :
       {"en", "ex", "hd", "nf", "ns", "ma", "md", "me", "mg", "mn"}) {
    if (Is(w, m)) return true;
  }
  return false;
}

std::vector<__u8> RefRequests(std::string_view d) {
  std::vector<__u8> out;
  size_t off = 0;
  Line l;
  for (int n = 0; n < RL_MC_LINES && off < d.size(); ++n) {
    if (!ReadLine(d, off, &l) || l.tokens.empty() || d[off] == ' ' ||
        d[off] == '\r') {
      break;
    }
    const std::string w = Fold(l.tokens[0]);
    const __u8 cmd = Command(l.tokens[0]);
    size_t k = SIZE_MAX;
    if (!cmd) {
      if (Is(w, "ms")) {
        k = 2;
      } else if (!Meta(w)) {
        break;
      }
    }
    static const char* kStorage[] = {"set",    "add",     "replace",
                                     "append", "prepend", "cas"};
    for (const char* st : kStorage) {
      if (cmd && std::strcmp(kCommands[cmd - 1], st) == 0) k = 4;
    }
    if (cmd && !(Is(Fold(l.tokens.back()), "noreply") &&
                 l.tokens.back().size() == 7)) {
      out.push_back(cmd);
    }
    size_t next = l.next;
    if (k != SIZE_MAX) {
      uint32_t v;
      if (l.tokens.size() <= k || !Number(l.tokens[k], &v)) break;
      next += v + 2;
    }
    off = next;
  }
  return out;
}

std::vector<__u8> RefAnswers(std::string_view d) {
  std::vector<__u8> out;
  size_t off = 0;
  bool hit = false;
  Line l;
  for (int n = 0; n < RL_MC_LINES && off < d.size(); ++n) {
    if (!ReadLine(d, off, &l) || l.tokens.empty() || d[off] == ' ' ||
        d[off] == '\r') {
      break;
    }
    const std::string w = Fold(l.tokens[0]);
    size_t k = SIZE_MAX;
    __u8 o = 0;
    if (Is(w, "value"))
      hit = true, k = 3;
    else if (Is(w, "va"))
      k = 1;
    else if (Is(w, "end"))
      o = hit ? RL_MC_OUT_ok : RL_MC_OUT_miss;
    else if (Is(w, "stat"))
      hit = true;
    else if (Is(w, "stored") || Is(w, "deleted") || Is(w, "touched") ||
             Is(w, "ok") || Is(w, "version") || Is(w, "reset"))
      o = RL_MC_OUT_ok;
    else if (Is(w, "not_stored"))
      o = RL_MC_OUT_not_stored;
    else if (Is(w, "exists"))
      o = RL_MC_OUT_exists;
    else if (Is(w, "not_found"))
      o = RL_MC_OUT_miss;
    else if (Is(w, "error"))
      o = RL_MC_OUT_error;
    else if (Is(w, "client_error"))
      o = RL_MC_OUT_client_error;
    else if (Is(w, "server_error"))
      o = RL_MC_OUT_server_error;
    else if (Meta(w)) {
    } else if (d[off] >= '0' && d[off] <= '9') {
      o = RL_MC_OUT_ok;
    } else {
      break;
    }
    if (o) out.push_back(o), hit = false;
    size_t next = l.next;
    if (k != SIZE_MAX) {
      uint32_t v;
      if (l.tokens.size() <= k || !Number(l.tokens[k], &v)) break;
      next += v + 2;
    }
    off = next;
  }
  return out;
}

std::vector<__u8> Flatten(const rl_l7_scan& s, bool requests) {
  std::vector<__u8> got;
  if (requests && s.r.first != RL_L7_INTERIM) got.push_back(s.r.first);
  for (__u32 i = 0; i < s.r.found; ++i)
    got.insert(got.end(), s.r.cnt[i], s.r.op[i]);
  return got;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 16 * 1024) return 0;
  // The first byte says where to cut the rest into two segments.
  const size_t cut = 1 + data[0] % (size - 1);
  std::vector<char> buf(data + 1, data + size);
  const std::string_view d(buf.data(), buf.size());
  std::vector<char> a(buf.begin(), buf.begin() + (cut - 1));
  std::vector<char> b(buf.begin() + (cut - 1), buf.end());
  rl_l7_iovec iov[2] = {{reinterpret_cast<__u64>(a.data()), a.size()},
                        {reinterpret_cast<__u64>(b.data()), b.size()}};
  for (const bool requests : {true, false}) {
    for (const bool segmented : {false, true}) {
      alignas(8) static rl_l7_window win;
      std::memset(&win, 0, sizeof(win));
      rl_l7_scan s = {};
      s.len = d.size();
      if (segmented) {
        s.r.iov = reinterpret_cast<__u64>(iov);
        s.r.iovcnt = 2;
        s.n = rl_l7_gather(&win, 0, 0,
                           std::min<size_t>(d.size(), RL_L7_SMALL_PEEK), &s.r);
      } else {
        s.ubuf = s.r.ubuf = reinterpret_cast<__u64>(buf.data());
        s.n = std::min<size_t>(d.size(), RL_L7_SMALL_PEEK);
        std::memcpy(win.b, buf.data(), s.n);
      }
      if (std::memcmp(win.b, buf.data(), s.n)) __builtin_trap();
      __u8 proto = RL_L7_PROTO_MEMCACHED;
      if (requests) {
        if (!rl_l7_request(&proto, win.b, s.n)) continue;
        rl_l7_next_requests(RL_L7_PROTO_MEMCACHED, &win, &s);
        if (s.r.found < RL_L7_SCAN_RUNS && Flatten(s, true) != RefRequests(d))
          __builtin_trap();
      } else {
        if (rl_l7_response(&proto, win.b, s.n) != RL_L7_INTERIM)
          __builtin_trap();
        rl_l7_next_responses(RL_L7_PROTO_MEMCACHED, &win, &s);
        if (s.r.found < RL_L7_SCAN_RUNS && Flatten(s, false) != RefAnswers(d))
          __builtin_trap();
      }
    }
  }
  return 0;
}
