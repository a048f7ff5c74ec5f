// The memcached classifier the kernel runs (bpf/l7_memcached.bpf.h),
// reached through the protocol table as bpf/l7.bpf.c does and compiled here
// unchanged: which requests a write holds (noreply ones are not), data
// blocks stepped over by their length, and the outcome of each answer in a
// read. Lines are the text protocol's (protocol.txt of memcached 1.6).
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/fuzz/l7_classifier_shim.h"

namespace redline {
namespace {

using Runs = std::vector<std::pair<int, int>>;  // (op or outcome, count)

struct Walked {
  int first = 0;
  Runs runs;
  uint32_t end = 0;
  int state = 0;
};

// The walk of scan s (its data and state set), window filled, as the
// engine does it: the start first, then the walk.
Walked WalkScan(rl_l7_window& win, rl_l7_scan& s, bool requests) {
  const __u32 n = s.n;
  __u8 proto = RL_L7_PROTO_MEMCACHED;
  Walked out;
  if (requests) {
    if (!rl_l7_request(&proto, win.b, n)) return out;
    rl_l7_next_requests(RL_L7_PROTO_MEMCACHED, &win, &s);
    out.first = s.r.first;
  } else {
    if (rl_l7_response(&proto, win.b, n) != RL_L7_INTERIM) return out;
    rl_l7_next_responses(RL_L7_PROTO_MEMCACHED, &win, &s);
  }
  for (__u32 i = 0; i < s.r.found; ++i) {
    out.runs.emplace_back(s.r.op[i], s.r.cnt[i]);
  }
  out.end = s.r.end;
  out.state = s.r.state;
  return out;
}

// One read or write of one buffer.
Walked Walk(const std::string& data, bool requests, int state = 0) {
  alignas(8) static rl_l7_window win;
  std::memset(&win, 0, sizeof(win));
  rl_l7_scan s = {};
  s.n = std::min<size_t>(data.size(), RL_L7_SMALL_PEEK);
  std::memcpy(win.b, data.data(), s.n);
  s.ubuf = reinterpret_cast<__u64>(data.data());
  s.r.ubuf = s.ubuf;
  s.len = data.size();
  s.r.state = state;
  return WalkScan(win, s, requests);
}

// One sendmsg/writev/readv of several segments (skip: bytes of them that
// end an earlier message), the window gathered as the engine's peek does.
Walked WalkIov(const std::vector<std::string>& segs, bool requests,
               uint32_t skip = 0) {
  static std::vector<rl_l7_iovec> iov;
  iov.clear();
  size_t total = 0;
  for (const std::string& seg : segs) {
    iov.push_back({reinterpret_cast<__u64>(seg.data()), seg.size()});
    total += seg.size();
  }
  alignas(8) static rl_l7_window win;
  std::memset(&win, 0, sizeof(win));
  rl_l7_scan s = {};
  s.len = total - skip;
  s.r.iov = reinterpret_cast<__u64>(iov.data());
  s.r.iovcnt = iov.size();
  s.r.base = skip;
  s.n = rl_l7_gather(&win, 0, 0,
                     std::min<size_t>(s.len, RL_L7_SMALL_PEEK), &s.r);
  return WalkScan(win, s, requests);
}

TEST(MemcachedTest, CommandsAreTheirFirstWord) {
  EXPECT_EQ(Walk("get foo\r\n", true).first, RL_MC_CMD_get);
  EXPECT_EQ(Walk("gets a b c\r\n", true).first, RL_MC_CMD_gets);
  EXPECT_EQ(Walk("delete foo\r\n", true).first, RL_MC_CMD_delete);
  EXPECT_EQ(Walk("incr n 5\r\n", true).first, RL_MC_CMD_incr);
  EXPECT_EQ(Walk("flush_all\r\n", true).first, RL_MC_CMD_flush_all);
  EXPECT_EQ(Walk("set foo 0 0 3\r\nbar\r\n", true).first, RL_MC_CMD_set);
  const Walked w = Walk("set foo 0 0 3\r\nbar\r\n", true);
  EXPECT_TRUE(w.runs.empty());
  EXPECT_EQ(w.end, 0u);
}

TEST(MemcachedTest, PipelinedCommandsStepOverDataBlocks) {
  // A value holding command-like lines is data, not commands.
  const std::string value = "get x\r\nget y\r\n";
  const Walked w =
      Walk("set k 0 0 " + std::to_string(value.size()) + "\r\n" + value +
               "\r\nget k\r\nget k\r\ndelete k\r\n",
           true);
  EXPECT_EQ(w.first, RL_MC_CMD_set);
  EXPECT_EQ(w.runs, (Runs{{RL_MC_CMD_get, 2}, {RL_MC_CMD_delete, 1}}));
}

TEST(MemcachedTest, NoreplyIsNoRequest) {
  const Walked w =
      Walk("set a 0 0 1 noreply\r\nx\r\ndelete b noreply\r\nget a\r\n", true);
  EXPECT_EQ(w.first, RL_MC_CMD_get);
  EXPECT_TRUE(w.runs.empty());
  EXPECT_EQ(Walk("set a 0 0 1 noreply\r\nx\r\n", true).first, RL_L7_INTERIM);
}

TEST(MemcachedTest, LargeValueCarriesItsEnd) {
  const std::string head = "set big 0 0 100000\r\n";
  const Walked w = Walk(head + std::string(1000, 'v'), true);
  EXPECT_EQ(w.first, RL_MC_CMD_set);
  EXPECT_EQ(w.end, head.size() + 100000 + 2);
}

TEST(MemcachedTest, AnswersAndTheirOutcomes) {
  EXPECT_EQ(Walk("VALUE foo 0 3\r\nbar\r\nEND\r\n", false).runs,
            (Runs{{RL_MC_OUT_ok, 1}}));
  EXPECT_EQ(Walk("END\r\n", false).runs, (Runs{{RL_MC_OUT_miss, 1}}));
  EXPECT_EQ(Walk("VALUE a 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\nEND\r\n", false).runs,
            (Runs{{RL_MC_OUT_ok, 1}}));
  EXPECT_EQ(Walk("STORED\r\nSTORED\r\nNOT_STORED\r\nEXISTS\r\n", false).runs,
            (Runs{{RL_MC_OUT_ok, 2},
                  {RL_MC_OUT_not_stored, 1},
                  {RL_MC_OUT_exists, 1}}));
  EXPECT_EQ(Walk("DELETED\r\nNOT_FOUND\r\n42\r\nTOUCHED\r\n", false).runs,
            (Runs{{RL_MC_OUT_ok, 1}, {RL_MC_OUT_miss, 1}, {RL_MC_OUT_ok, 2}}));
  EXPECT_EQ(Walk("ERROR\r\nCLIENT_ERROR bad data chunk\r\n"
                 "SERVER_ERROR out of memory\r\n",
                 false)
                .runs,
            (Runs{{RL_MC_OUT_error, 1},
                  {RL_MC_OUT_client_error, 1},
                  {RL_MC_OUT_server_error, 1}}));
  EXPECT_EQ(Walk("STAT pid 1\r\nSTAT uptime 2\r\nEND\r\n", false).runs,
            (Runs{{RL_MC_OUT_ok, 1}}));
  // A value that looks like answers is data.
  EXPECT_EQ(Walk("VALUE k 0 8\r\nEND\r\nEND\r\nEND\r\n", false).runs,
            (Runs{{RL_MC_OUT_ok, 1}}));
}

TEST(MemcachedTest, HitCarriedToTheEndInALaterRead) {
  const std::string head = "VALUE big 0 5000\r\n";
  const Walked a = Walk(head + std::string(1000, 'v'), false);
  EXPECT_TRUE(a.runs.empty());
  EXPECT_EQ(a.end, head.size() + 5002);
  EXPECT_EQ(a.state, RL_MC_HIT);
  EXPECT_EQ(Walk("END\r\n", false, a.state).runs, (Runs{{RL_MC_OUT_ok, 1}}));
}

TEST(MemcachedTest, OtherProtocolsAndMetaAreNoRequest) {
  for (const std::string m :
       {"GET / HTTP/1.1\r\n", "getx foo\r\n", "mg foo v\r\n", "mn\r\n",
        " get foo\r\n", "get", "*1\r\n$4\r\nPING\r\n"}) {
    alignas(8) static rl_l7_window win;
    std::memset(&win, 0, sizeof(win));
    std::memcpy(win.b, m.data(), m.size());
    __u8 proto = RL_L7_PROTO_MEMCACHED;
    EXPECT_EQ(rl_l7_request(&proto, win.b, m.size()), 0) << m;
  }
  // Meta lines between classic ones are stepped over, not counted.
  const Walked w = Walk("get a\r\nms k 2 T0\r\nhi\r\nmn\r\nget b\r\n", true);
  EXPECT_EQ(w.first, RL_MC_CMD_get);
  EXPECT_EQ(w.runs, (Runs{{RL_MC_CMD_get, 1}}));
  EXPECT_EQ(Walk("HD\r\nVA 2 f1\r\nhi\r\nEN\r\nMN\r\nSTORED\r\n", false).runs,
            (Runs{{RL_MC_OUT_ok, 1}}));
}

// memcached answers a get with sendmsg of one segment per line and value;
// libmemcached writes a set's line and value as segments too.
TEST(MemcachedTest, SegmentsAreWalkedAsOneBuffer) {
  EXPECT_EQ(WalkIov({"VALUE a 0 5\r\n", "hello\r\n", "END\r\n"}, false).runs,
            (Runs{{RL_MC_OUT_ok, 1}}));
  EXPECT_EQ(WalkIov({"VAL", "UE a 0 5\r", "\nhel", "lo\r\nEND\r\nSTORED\r\n"},
                    false)
                .runs,
            (Runs{{RL_MC_OUT_ok, 2}}));
  const Walked set = WalkIov({"set k 0 0 5\r\n", "hello", "\r\n",
                              "get k\r\n"},
                             true);
  EXPECT_EQ(set.first, RL_MC_CMD_set);
  EXPECT_EQ(set.runs, (Runs{{RL_MC_CMD_get, 1}}));
  EXPECT_EQ(set.end, 0u);
  // The first 7 bytes end an earlier value ("...tail\r\n").
  EXPECT_EQ(WalkIov({"tail\r", "\nSTORED\r\n"}, false, 6).runs,
            (Runs{{RL_MC_OUT_ok, 1}}));
}

TEST(MemcachedTest, ListsAreSortedAsTheKernelSearchesThem) {
  const char* commands[] = {
#define NAME(name) #name,
      RL_MC_COMMANDS(NAME)
#undef NAME
  };
  auto folded = [](std::string s) {
    for (char& c : s) c = static_cast<char>(c | 0x20);
    return s;
  };
  for (size_t i = 1; i < std::size(commands); ++i) {
    EXPECT_LT(folded(commands[i - 1]), folded(commands[i])) << commands[i];
  }
  for (size_t i = 1; i < RL_L7_N(mc_words); ++i) {
    const auto& a = mc_words[i - 1];
    const auto& b = mc_words[i];
    EXPECT_TRUE(a.w0 < b.w0 || (a.w0 == b.w0 && a.w1 < b.w1)) << i;
  }
}

}  // namespace
}  // namespace redline
