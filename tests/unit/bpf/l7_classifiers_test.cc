// The kernel's request classifiers (bpf/l7_proto.bpf.h), compiled for user
// space, fed each protocol's byte streams: every classifier recognises its
// own, and none recognises another's (no false positives across
// protocols). The streams are what the real clients and servers send
// (redis-benchmark, nginx and curl, psql and pgbench, mysql, memcached,
// dig, TLS, SSH).
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/fuzz/l7_classifier_shim.h"

namespace redline {
namespace {

struct Stream {
  const char* what;
  std::string bytes;
  __u8 request_proto;   // the row whose request start it is, 0 if none
  __u8 response_proto;  // the row a response start names, 0 if none
};

// A literal with its NULs, its length from its type (no count to get wrong).
template <size_t N>
std::string B(const char (&s)[N]) {
  return std::string(s, N - 1);
}

std::vector<Stream> Streams() {
  return {
      {"HTTP request", "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
       RL_L7_PROTO_HTTP, 0},
      {"HTTP response", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0,
       RL_L7_PROTO_HTTP},
      {"Redis SET",
       "*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nxxx\r\n",
       RL_L7_PROTO_REDIS, 0},
      {"Redis replies", "+OK\r\n$3\r\nxxx\r\n:1\r\n", 0, 0},
      {"Redis error", "-WRONGTYPE Operation against a key\r\n", 0, 0},
      {"memcached get", "get foo bar\r\n", RL_L7_PROTO_MEMCACHED, 0},
      {"memcached set", "set foo 0 0 3\r\nbar\r\n", RL_L7_PROTO_MEMCACHED,
       0},
      {"memcached reply", "VALUE foo 0 3\r\nbar\r\nEND\r\n", 0, 0},
      {"PostgreSQL startup",
       B("\0\0\0\x29\0\3\0\0user\0postgres\0database\0db\0\0"), 0, 0},
      {"PostgreSQL SSLRequest", B("\0\0\0\x08\x04\xd2\x16\x2f"), 0, 0},
      {"PostgreSQL Query", B("Q\0\0\0\x0dSELECT 1\0"), RL_L7_PROTO_PG, 0},
      {"PostgreSQL Bind", B("B\0\0\0\x0e\0P0_1\0\0\0\0\0\0\0"),
       RL_L7_PROTO_PG, 0},
      {"PostgreSQL ReadyForQuery", B("Z\0\0\0\x05I"), 0, 0},
      {"MySQL COM_QUERY", B("\x09\0\0\0\x03SELECT 1"), RL_L7_PROTO_MYSQL,
       0},
      // 0x151 bytes: not PostgreSQL's 'Q' with a 16 MiB length.
      {"MySQL long COM_QUERY", B("\x51\x01\0\0\x03SELECT 1"),
       RL_L7_PROTO_MYSQL, 0},
      {"MySQL OK", B("\x07\0\0\x01\0\0\0\x02\0\0\0"), 0, 0},
      {"MariaDB greeting",
       B("\x5b\0\0\0\x0a" "5.5.5-10.11.6-MariaDB\0\x2a\0\0\0abcdefgh\0"
         "\xfe\xf7\x2d\x02\0\xff\x81\x15\0\0\0\0\0\0\x1d\0\0\0"),
       0, RL_L7_PROTO_MYSQL},
      {"TLS ClientHello", B("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
       0, 0},
      {"SSH banner", "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", 0, 0},
      {"DNS over TCP",
       B("\0\x1d\x12\x34\1\0\0\1\0\0\0\0\0\0\7example\3com\0"
         "\0\1\0\1"),
       RL_L7_PROTO_DNS, 0},
      // A server reads the length, then the message; an answer alone does
      // not name a connection.
      {"DNS query without its length",
       B("\x12\x34\1\0\0\1\0\0\0\0\0\0\7example\3com\0\0\1\0\1"),
       RL_L7_PROTO_DNS, 0},
      {"DNS response over TCP",
       B("\0\x1d\x12\x34\x81\x80\0\1\0\0\0\0\0\0\7example\3com\0"
         "\0\1\0\1"),
       0, 0},
  };
}

TEST(L7ClassifiersTest, EachRecognisesItsOwnAndNoneAnothers) {
  for (const Stream& s : Streams()) {
    alignas(8) static rl_l7_window win;
    std::memset(&win, 0, sizeof(win));
    const __u32 n = s.bytes.size();
    std::memcpy(win.b, s.bytes.data(), n);
    __u8 proto = 0;
    const __u8 op = rl_l7_request(&proto, win.b, n);
    EXPECT_EQ(proto, s.request_proto) << s.what << " as a request";
    EXPECT_EQ(op != 0, s.request_proto != 0) << s.what;
    proto = 0;
    const __u8 outcome = rl_l7_response(&proto, win.b, n);
    EXPECT_EQ(proto, s.response_proto) << s.what << " as a response";
    EXPECT_EQ(outcome != 0, s.response_proto != 0) << s.what;
  }
}

// On a connection already known, a row reads only its own protocol:
// Redis's replies are Redis outcomes there, and no other stream's first
// bytes are a Redis request.
TEST(L7ClassifiersTest, KnownRedisConnectionReadsRedisOnly) {
  for (const Stream& s : Streams()) {
    alignas(8) static rl_l7_window win;
    std::memset(&win, 0, sizeof(win));
    const __u32 n = s.bytes.size();
    std::memcpy(win.b, s.bytes.data(), n);
    __u8 proto = RL_L7_PROTO_REDIS;
    const bool redis_request = s.request_proto == RL_L7_PROTO_REDIS;
    EXPECT_EQ(rl_l7_request(&proto, win.b, n) != 0, redis_request) << s.what;
  }
  alignas(8) static rl_l7_window win;
  const std::string wrongtype = "-WRONGTYPE Operation\r\n";
  std::memcpy(win.b, wrongtype.data(), wrongtype.size());
  __u8 proto = RL_L7_PROTO_REDIS;
  EXPECT_EQ(rl_l7_response(&proto, win.b, wrongtype.size()),
            RL_REDIS_OUT_WRONGTYPE);
}

}  // namespace
}  // namespace redline
