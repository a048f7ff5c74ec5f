// The MySQL/MariaDB classifier the kernel runs (bpf/l7_mysql.bpf.h),
// reached through the protocol table as bpf/l7_conn.bpf.h does, compiled
// here unchanged, on two kinds of input:
// - responses the fuzzer describes (OK, ERR with a SQLSTATE, result sets
//   with or without CLIENT_DEPRECATE_EOF, more results), built from the
//   protocol's description and cut into reads where the fuzzer says: the
//   outcomes must be the responses', in order ("unknown" only where the
//   walk had to find its place again, never a response more or less:
//   the last may wait for the next to be found);
// - any bytes, as requests and as responses, cut anywhere: no read past
//   the data (ASan), no more requests than command packets could hold.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tests/fuzz/l7_classifier_shim.h"

namespace {

struct Input {
  const uint8_t* p;
  size_t n;
  uint8_t Byte() {
    if (!n) return 0;
    --n;
    return *p++;
  }
};

std::string Packet(int seq, const std::string& body) {
  const size_t n = body.size();
  return std::string{static_cast<char>(n), static_cast<char>(n >> 8),
                     static_cast<char>(n >> 16), static_cast<char>(seq)} +
         body;
}

// One direction of a connection as the engine keeps it (state, skip).
struct Conn {
  __u8 state = 0;
  __u32 skip = 0;
  std::vector<int> outcomes;
  int requests = 0;

  void Feed(std::string data, bool requests_dir) {
    if (skip) {
      const size_t k = std::min<size_t>(skip, data.size());
      skip -= k;
      data.erase(0, k);
      if (data.empty()) return;
    }
    // Exactly the data, on the heap: ASan sees a read past it.
    std::vector<char> mem(data.begin(), data.end());
    alignas(8) static rl_l7_window win;
    std::memset(&win, 0, sizeof(win));
    const __u32 n = std::min<size_t>(mem.size(), RL_L7_WINDOW);
    std::memcpy(win.b, mem.data(), n);
    rl_l7_scan s = {};
    s.ubuf = reinterpret_cast<__u64>(mem.data());
    s.r.ubuf = s.ubuf;
    s.len = mem.size();
    s.n = n;
    s.r.conn = 1;
    s.r.state = state;
    __u8 proto = RL_L7_PROTO_MYSQL;
    if (requests_dir) {
      __u8 op = rl_l7_request(&proto, win.b, n);
      if (!op) op = RL_L7_INTERIM;  // the row's "every"
      rl_l7_next_requests(proto, &win, &s);
      if (s.r.first) op = s.r.first;
      if (op != RL_L7_INTERIM) ++requests;
      for (__u32 i = 0; i < s.r.found; ++i) requests += s.r.cnt[i];
    } else {
      rl_l7_next_responses(proto, &win, &s);
      for (__u32 i = 0; i < s.r.found; ++i) {
        for (int k = 0; k < s.r.cnt[i]; ++k) outcomes.push_back(s.r.op[i]);
      }
    }
    if (s.r.end > s.len) skip = s.r.end - s.len;
    state = s.r.state;
  }
};

// A response the fuzzer describes, and the outcome it must have.
std::string Response(Input* in, bool deprecate_eof, int* outcome) {
  static const char* kStates[] = {"23000", "42S02", "HY000", "40001",
                                  "45000", "08S01", "70100", "XAE04"};
  static const int kClasses[] = {RL_MY_OUT_c23, RL_MY_OUT_c42,   RL_MY_OUT_chy,
                                 RL_MY_OUT_c40, RL_MY_OUT_ERROR, RL_MY_OUT_c08,
                                 RL_MY_OUT_c70, RL_MY_OUT_cxa};
  int seq = 1;
  std::string out;
  *outcome = RL_MY_OUT_OK;
  for (int result = 0; result < 3; ++result) {
    const uint8_t kind = in->Byte();
    const bool more = result < 2 && (kind & 0x80);
    const int status = 2 | (more ? 8 : 0);
    if ((kind & 3) == 0) {  // OK, perhaps with an info string
      out += Packet(seq++ & 0xff,
                    std::string{0, 1, 0, static_cast<char>(status), 0, 0, 0} +
                        std::string(in->Byte() % 40, 'i'));
    } else if ((kind & 3) == 1) {  // ERR: ends the response
      const int e = in->Byte() % 8;
      out += Packet(seq++ & 0xff,
                    std::string("\xff\x26\x04#") + kStates[e] + "message");
      *outcome = kClasses[e];
      return out;
    } else {  // a result set
      const int cols = 1 + in->Byte() % 4, rows = in->Byte() * 2;
      out += Packet(seq++ & 0xff, std::string(1, static_cast<char>(cols)));
      for (int i = 0; i < cols; ++i) {
        out += Packet(seq++ & 0xff,
                      "\x03"
                      "def" +
                          std::string(10, 'c'));
      }
      if (!deprecate_eof) {
        out += Packet(seq++ & 0xff, std::string{'\xfe', 0, 0, 2, 0});
      }
      const int row_len = 1 + in->Byte() % 60;
      for (int i = 0; i < rows; ++i) {
        out += Packet(seq++ & 0xff,
                      std::string(1, static_cast<char>(row_len - 1)) +
                          std::string(row_len - 1, 'r'));
      }
      if ((kind & 0x0c) == 0x0c) {  // an error part way through
        out += Packet(seq++ & 0xff, "\xff\x26\x04#23000dup");
        *outcome = RL_MY_OUT_c23;
        return out;
      }
      out +=
          deprecate_eof
              ? Packet(seq++ & 0xff,
                       std::string{'\xfe', 0, 0, static_cast<char>(status), 0,
                                   0, 0})
              : Packet(seq++ & 0xff,
                       std::string{'\xfe', 0, 0, static_cast<char>(status), 0});
    }
    if (!more) break;
  }
  return out;
}

// A client reads one response before it sends the next request (the
// protocol has no pipelining but MariaDB's batches): each is cut into
// reads of its own. A last OK flushes a response the walk lost the end
// of (counted "unknown" when the next one starts).
void Described(Input in) {
  const bool deprecate_eof = in.Byte() & 1;
  std::vector<std::string> responses;
  std::vector<int> want;
  for (int i = 0; i < 8 && in.n; ++i) {
    int outcome;
    responses.push_back(Response(&in, deprecate_eof, &outcome));
    want.push_back(outcome);
  }
  responses.push_back(Packet(1, std::string{0, 0, 0, 2, 0, 0, 0}));
  want.push_back(RL_MY_OUT_OK);
  Conn c;
  for (const std::string& r : responses) {
    for (size_t at = 0; at < r.size();) {
      // Where the fuzzer says; once its bytes are used up, the rest whole
      // (a byte at a time made runs slow, not deeper).
      const size_t piece =
          in.n ? 1 + (in.Byte() | in.Byte() << 8) % 9000 : r.size() - at;
      c.Feed(r.substr(at, piece), false);
      at += piece;
    }
  }
  // The last response may still be waiting for its end to be found.
  if (c.outcomes.size() + 1 < want.size() || c.outcomes.size() > want.size()) {
    __builtin_trap();
  }
  for (size_t i = 0; i < c.outcomes.size(); ++i) {
    if (c.outcomes[i] != want[i] && c.outcomes[i] != RL_MY_OUT_UNKNOWN) {
      __builtin_trap();
    }
  }
}

void Raw(Input in) {
  std::string data(reinterpret_cast<const char*>(in.p), in.n);
  Conn req, resp;
  for (size_t at = 0, k = 0; at < data.size(); ++k) {
    const size_t piece = 1 + static_cast<uint8_t>(data[at]) * 3;
    req.Feed(data.substr(at, piece), true);
    resp.Feed(data.substr(at, piece), false);
    at += piece;
  }
  // A request is a packet of 5 bytes at least.
  if (req.requests > static_cast<int>(data.size() / 5) + 1) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!size) return 0;
  PgStatements().clear();
  Input in{data + 1, size - 1};
  if (data[0] & 1) {
    Described(in);
  } else {
    Raw(in);
  }
  return 0;
}
