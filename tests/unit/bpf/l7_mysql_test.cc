// The MySQL/MariaDB classifier the kernel runs (bpf/l7_mysql.bpf.h),
// reached through the protocol table as bpf/l7_conn.bpf.h does and
// compiled here unchanged: which command packets are requests and with
// what command, which packets end a response and with what outcome, and
// the state (and the bytes to skip) carried from one read or write to the
// next. Packets are built here from the protocol's description (MariaDB's
// client/server protocol pages), as libmariadb and MariaDB send them.
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/fuzz/l7_classifier_shim.h"

namespace redline {
namespace {

using Runs = std::vector<std::pair<int, int>>;  // (op or outcome, count)

std::string Packet(int seq, const std::string& body) {
  const size_t n = body.size();
  return std::string{static_cast<char>(n), static_cast<char>(n >> 8),
                     static_cast<char>(n >> 16), static_cast<char>(seq)} +
         body;
}
std::string Le32(uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8),
          static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
}
std::string Query(const std::string& sql) { return Packet(0, "\x03" + sql); }
std::string Prepare(const std::string& sql) { return Packet(0, "\x16" + sql); }
std::string Execute(uint32_t id) {
  return Packet(0, "\x17" + Le32(id) + std::string(5, '\0'));
}
std::string Close(uint32_t id) { return Packet(0, "\x19" + Le32(id)); }
// OK: header, affected rows, insert id, status, warnings.
std::string Ok(int seq, int status = 2, char header = 0) {
  return Packet(seq,
                std::string{header, 0, 0, static_cast<char>(status), 0, 0, 0});
}
std::string Eof(int seq, int status = 2) {
  return Packet(seq, std::string{'\xfe', 0, 0, static_cast<char>(status), 0});
}
std::string Err(int seq, const std::string& state) {
  return Packet(seq, "\xff\x26\x04#" + state + "Duplicate entry");
}
// HandshakeResponse41's fixed part: capabilities (protocol 4.1, secure
// connection, plugin auth, and flag), max packet, charset, 23 zeros.
std::string Login(uint32_t flag) {
  return Le32(0x0008a201 | flag) + Le32(1 << 24) + std::string(1, '\x21') +
         std::string(23, '\0');
}
std::string Greeting() {
  return Packet(0,
                "\x0a"
                "5.5.5-10.11.6-MariaDB" +
                    std::string(1, '\0') + std::string(40, 'x'));
}
// A result set of cols columns and rows rows (text protocol), classic
// (EOF after the definitions and the rows) or with CLIENT_DEPRECATE_EOF
// (an OK with an 0xfe header after the rows).
std::string ResultSet(int cols, int rows, bool deprecate_eof, int status = 2,
                      int row_len = 20) {
  int seq = 1;
  std::string out = Packet(seq++, std::string(1, static_cast<char>(cols)));
  for (int i = 0; i < cols; ++i) {
    out += Packet(seq++,
                  "\x03"
                  "def" +
                      std::string(30, 'c'));
  }
  if (!deprecate_eof) out += Eof(seq++);
  for (int i = 0; i < rows; ++i) {
    out += Packet(seq++ & 0xff, std::string(1, static_cast<char>(row_len - 1)) +
                                    std::string(row_len - 1, 'r'));
  }
  return out + (deprecate_eof ? Ok(seq & 0xff, status, '\xfe')
                              : Eof(seq & 0xff, status));
}
std::string PrepareOk(uint32_t id, int cols, int params) {
  std::string out =
      Packet(1, std::string(1, '\0') + Le32(id) +
                    std::string{static_cast<char>(cols), 0,
                                static_cast<char>(params), 0, 0, 0, 0});
  int seq = 2;
  for (int i = 0; i < params + cols; ++i) {
    out += Packet(seq++,
                  "\x03"
                  "def" +
                      std::string(20, 'p'));
  }
  return out;
}

struct Walked {
  int first = 0;  // requests: the first one's command (255: none)
  Runs runs;
};

// One direction's view of a connection, as l7_conn.bpf.h keeps it: the
// protocol, its state and the bytes to skip, carried between data.
class Conn {
 public:
  explicit Conn(__u8 proto = RL_L7_PROTO_MYSQL) : proto_(proto) {}

  Walked Feed(std::string data, bool requests) {
    const int d = requests ? 0 : 1;
    Walked out;
    if (skip_[d]) {
      const size_t k = std::min<size_t>(skip_[d], data.size());
      skip_[d] -= k;
      data.erase(0, k);
      if (data.empty()) return out;
    }
    data_ = data;  // user memory the walk reads
    alignas(8) static rl_l7_window win;
    std::memset(&win, 0, sizeof(win));
    const __u32 n = std::min<size_t>(data_.size(), RL_L7_WINDOW);
    std::memcpy(win.b, data_.data(), n);
    rl_l7_scan s = {};
    s.ubuf = reinterpret_cast<__u64>(data_.data());
    s.r.ubuf = s.ubuf;
    s.len = data_.size();
    s.n = n;
    s.r.conn = 7;
    s.r.state = state_[d];
    __u8 proto = proto_;
    if (requests) {
      __u8 op = rl_l7_request(&proto, win.b, n);
      if (!op && proto && rl_l7_every(proto)) op = RL_L7_INTERIM;
      if (!op) return out;
      proto_ = proto;
      rl_l7_next_requests(proto, &win, &s);
      out.first = s.r.first ? s.r.first : op;
    } else {
      __u8 outcome = rl_l7_response(&proto, win.b, n);
      if (!outcome && proto && rl_l7_every(proto)) outcome = RL_L7_INTERIM;
      if (!outcome) return out;
      proto_ = proto;
      rl_l7_next_responses(proto, &win, &s);
    }
    for (__u32 i = 0; i < s.r.found; ++i) {
      out.runs.emplace_back(s.r.op[i], s.r.cnt[i]);
    }
    if (s.r.end > s.len) skip_[d] = s.r.end - s.len;
    state_[d] = s.r.state;
    return out;
  }
  __u8 proto() const { return proto_; }

 private:
  __u8 proto_;
  __u8 state_[2] = {};
  __u32 skip_[2] = {};
  std::string data_;
};

class MysqlTest : public ::testing::Test {
 protected:
  void SetUp() override { PgStatements().clear(); }
};

TEST_F(MysqlTest, QueryCommandIsItsFirstKeyword) {
  const std::pair<const char*, int> cases[] = {
      {"select 1", RL_PG_CMD_select},
      {"/* app */ INSERT INTO t VALUES (1)", RL_PG_CMD_insert},
      {"START TRANSACTION", RL_PG_CMD_begin},
      {"replace into t values (1)", RL_PG_CMD_OTHER},
  };
  for (const auto& [sql, cmd] : cases) {
    Conn c(0);
    EXPECT_EQ(c.Feed(Query(sql), true).first, cmd) << sql;
    EXPECT_EQ(c.proto(), RL_L7_PROTO_MYSQL) << sql;
  }
}

TEST_F(MysqlTest, OtherProtocolsFirstBytesAreNoCommand) {
  const std::string others[] = {
      "GET / HTTP/1.1\r\n\r\n",
      "*1\r\n$4\r\nPING\r\n",
      std::string("Q\0\0\0\x0dSELECT 1\0", 14),
      "get foo\r\n",
      std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11),
      std::string("\x40\x00\x00\x00\x03", 5) /* a header alone: no body */};
  for (const std::string& b : others) {
    alignas(8) static rl_l7_window win;
    std::memset(&win, 0, sizeof(win));
    std::memcpy(win.b, b.data(), b.size());
    EXPECT_EQ(my_request_at(win.b, 0, b.size()), 0) << b;
    EXPECT_EQ(my_response(win.b, b.size()), 0) << b;
  }
}

TEST_F(MysqlTest, GreetingNamesTheConnectionAndLoginIsNoRequest) {
  Conn server(0);
  EXPECT_TRUE(server.Feed(Greeting(), false).runs.empty());
  EXPECT_EQ(server.proto(), RL_L7_PROTO_MYSQL);
  // The handshake response (sequence 1), header and body read apart.
  const std::string login = Packet(1, Login(0) + std::string(40, 'h'));
  EXPECT_EQ(server.Feed(login.substr(0, 4), true).first, RL_L7_INTERIM);
  EXPECT_EQ(server.Feed(login.substr(4), true).first, RL_L7_INTERIM);
  EXPECT_TRUE(server.Feed(Ok(2), false).runs.empty());
  EXPECT_EQ(server.Feed(Query("select 1"), true).first, RL_PG_CMD_select);
  EXPECT_EQ(server.Feed(ResultSet(1, 1, true), false).runs,
            (Runs{{RL_MY_OUT_OK, 1}}));
  // A failed login is no response either.
  Conn refused(0);
  refused.Feed(Greeting(), false);
  EXPECT_TRUE(refused.Feed(Err(1, "08S01"), false).runs.empty());
}

// A login that asks for TLS (SSLRequest) or compression: what follows is
// not walked as packets, on either side.
TEST_F(MysqlTest, TlsOrCompressionTurnsTheWalkOff) {
  for (uint32_t flag : {RL_MY_CLIENT_SSL, RL_MY_CLIENT_COMPRESS}) {
    Conn server(0);
    server.Feed(Greeting(), false);
    const std::string login = Packet(1, Login(flag) + std::string(23, '\0'));
    EXPECT_EQ(server.Feed(login.substr(0, 4), true).first, RL_L7_INTERIM);
    EXPECT_EQ(server.Feed(login.substr(4), true).first, RL_L7_INTERIM);
    // A TLS record of 0x3a bytes, or a compressed packet: no request.
    EXPECT_EQ(server
                  .Feed(std::string("\x17\x03\x03\x00\x3a", 5) +
                            std::string(0x3a, 'x'),
                        true)
                  .first,
              RL_L7_INTERIM);
    EXPECT_EQ(server.Feed(Query("select 1"), true).first, RL_L7_INTERIM);
    EXPECT_TRUE(server.Feed(Ok(2), false).runs.empty());  // login's end
    EXPECT_TRUE(server.Feed(Ok(1), false).runs.empty()) << flag;
  }
}

// MariaDB's progress reports come before the answer proper; cursors'
// definitions end their answer; a column count may carry the
// metadata-follows byte.
TEST_F(MysqlTest, ProgressCursorsAndMetadata) {
  Conn c;
  const std::string progress = Packet(1, "\xff\xff\xff\x01\x01\x00\x10\x00");
  EXPECT_EQ(c.Feed(progress + Ok(2), false).runs, (Runs{{RL_MY_OUT_OK, 1}}));
  EXPECT_TRUE(c.Feed(progress, false).runs.empty());
  EXPECT_EQ(c.Feed(Err(2, "23000"), false).runs, (Runs{{RL_MY_OUT_c23, 1}}));
  std::string cursor = Packet(1, std::string(1, '\x01')) +
                       Packet(2,
                              "\x03"
                              "def" +
                                  std::string(30, 'c')) +
                       Eof(3, 2 | 0x40);
  EXPECT_EQ(c.Feed(cursor, false).runs, (Runs{{RL_MY_OUT_OK, 1}}));
  std::string meta = Packet(1, std::string("\x02\x01", 2)) +
                     Packet(2,
                            "\x03"
                            "def" +
                                std::string(30, 'c')) +
                     Packet(3,
                            "\x03"
                            "def" +
                                std::string(30, 'c')) +
                     Packet(4,
                            "\x02"
                            "ab\x01"
                            "c") +
                     Ok(5, 2, '\xfe');
  EXPECT_EQ(c.Feed(meta, false).runs, (Runs{{RL_MY_OUT_OK, 1}}));
  EXPECT_EQ(c.Feed(Ok(1), false).runs, (Runs{{RL_MY_OUT_OK, 1}}));
}

TEST_F(MysqlTest, HeaderThenBodyIsOneRequest) {
  Conn server;
  const std::string q = Query("UPDATE t SET x = 1");
  EXPECT_EQ(server.Feed(q.substr(0, 4), true).first, RL_L7_INTERIM);
  EXPECT_EQ(server.Feed(q.substr(4), true).first, RL_PG_CMD_update);
  EXPECT_EQ(server.Feed(Query("commit"), true).first, RL_PG_CMD_commit);
  // A long statement's body read in pieces: the rest is no packet.
  const std::string big =
      Query("INSERT INTO t VALUES " + std::string(3000, '1') + "-- " +
            Query("select 1") + Query("select 2"));
  EXPECT_EQ(server.Feed(big.substr(0, 4), true).first, RL_L7_INTERIM);
  EXPECT_EQ(server.Feed(big.substr(4, 1000), true).first, RL_PG_CMD_insert);
  EXPECT_EQ(server.Feed(big.substr(1004, 1500), true).first, 0);
  EXPECT_EQ(server.Feed(big.substr(2504), true).first, 0);
  EXPECT_EQ(server.Feed(Query("delete from t"), true).first, RL_PG_CMD_delete);
}

TEST_F(MysqlTest, OutcomesAreOkOrTheSqlstateClass) {
  Conn c;
  EXPECT_EQ(c.Feed(Ok(1), false).runs, (Runs{{RL_MY_OUT_OK, 1}}));
  EXPECT_EQ(c.Feed(Err(1, "23000"), false).runs, (Runs{{RL_MY_OUT_c23, 1}}));
  EXPECT_EQ(c.Feed(Err(1, "HY000"), false).runs, (Runs{{RL_MY_OUT_chy, 1}}));
  EXPECT_EQ(c.Feed(Err(1, "45000"), false).runs, (Runs{{RL_MY_OUT_ERROR, 1}}));
  // An error part way through a result set ends it.
  std::string partial = ResultSet(2, 3, true);
  partial.resize(partial.size() - 11);
  EXPECT_EQ(c.Feed(partial + Err(7, "70100"), false).runs,
            (Runs{{RL_MY_OUT_c70, 1}}));
}

TEST_F(MysqlTest, ResultSetsEndAtTheirLastPacket) {
  for (bool deprecate : {false, true}) {
    for (int rows : {0, 1, 300}) {
      Conn c;
      EXPECT_EQ(c.Feed(ResultSet(3, rows, deprecate), false).runs,
                (Runs{{RL_MY_OUT_OK, 1}}))
          << deprecate << " " << rows;
    }
  }
  // More results (a multi-statement query, a CALL): one response.
  Conn c;
  EXPECT_EQ(c.Feed(ResultSet(1, 2, true, 2 | 8) + Ok(5, 2), false).runs,
            (Runs{{RL_MY_OUT_OK, 1}}));
  EXPECT_EQ(c.Feed(ResultSet(1, 2, false, 2 | 8) + Ok(6, 2), false).runs,
            (Runs{{RL_MY_OUT_OK, 1}}));
}

// However a response is cut into reads (headers split too), it completes
// once, in the read that ends it, and the next one is counted alone.
TEST_F(MysqlTest, AResponseInPiecesCompletesOnce) {
  for (bool deprecate : {false, true}) {
    const std::string r = ResultSet(2, 40, deprecate);
    for (size_t piece = 1; piece <= 64; piece += 3) {
      Conn c;
      int done = 0;
      for (size_t at = 0; at < r.size(); at += piece) {
        for (const auto& [op, n] : c.Feed(r.substr(at, piece), false).runs) {
          done += n;
          EXPECT_TRUE(op == RL_MY_OUT_OK || op == RL_MY_OUT_UNKNOWN);
        }
      }
      EXPECT_EQ(done, 1) << deprecate << " piece " << piece;
      EXPECT_EQ(c.Feed(Ok(1), false).runs, (Runs{{RL_MY_OUT_OK, 1}}))
          << deprecate << " piece " << piece;
    }
  }
}

// Rows past the walk's reach in one read: its place is found again at
// the result set's end, or else the next response's start counts the
// lost one as "unknown"; never a response more or less.
TEST_F(MysqlTest, RowsPastTheWalksReachLoseNoResponse) {
  for (bool deprecate : {false, true}) {
    Conn c;
    EXPECT_EQ(
        c.Feed(ResultSet(1, RL_MY_HOPS + 10, deprecate, 2, 5), false).runs,
        (Runs{{RL_MY_OUT_OK, 1}}))
        << deprecate;
    std::string cut = ResultSet(1, RL_MY_HOPS + 10, deprecate, 2, 5);
    const std::string tail = cut.substr(cut.size() - 6);
    cut.resize(cut.size() - 6);
    EXPECT_TRUE(c.Feed(cut, false).runs.empty()) << deprecate;
    EXPECT_TRUE(c.Feed(tail, false).runs.empty()) << deprecate;
    EXPECT_EQ(c.Feed(Ok(1), false).runs,
              (Runs{{RL_MY_OUT_UNKNOWN, 1}, {RL_MY_OUT_OK, 1}}))
        << deprecate;
  }
}

TEST_F(MysqlTest, PreparedStatementsRunAsTheirStatement) {
  Conn client;
  EXPECT_EQ(
      client.Feed(Prepare("SELECT c FROM sbtest1 WHERE id=?"), true).first,
      RL_PG_CMD_prepare);
  EXPECT_EQ(client.Feed(PrepareOk(42, 1, 1), false).runs,
            (Runs{{RL_MY_OUT_OK, 1}}));
  EXPECT_EQ(client.Feed(Execute(42), true).first, RL_PG_CMD_select);
  EXPECT_EQ(client.Feed(Execute(43), true).first, RL_PG_CMD_execute);
  // MariaDB's "the statement just prepared", pipelined behind its
  // prepare; the close gets no answer.
  const Walked w = client.Feed(
      Prepare("DELETE FROM t") + Execute(0xffffffff) + Close(0xffffffff), true);
  EXPECT_EQ(w.first, RL_PG_CMD_prepare);
  EXPECT_EQ(w.runs, (Runs{{RL_PG_CMD_delete, 1}}));
  EXPECT_EQ(client.Feed(PrepareOk(44, 0, 0) + Ok(1), false).runs,
            (Runs{{RL_MY_OUT_OK, 2}}));
  EXPECT_EQ(client.Feed(Close(42), true).first, RL_L7_INTERIM);
  EXPECT_EQ(client.Feed(Packet(0, "\x01"), true).first, RL_L7_INTERIM);
  EXPECT_EQ(client.Feed(Packet(0, "\x0e"), true).first, RL_MY_CMD_ping);
}

// COM_STATISTICS is answered by a bare string, COM_FIELD_LIST by column
// definitions and an EOF: one response each, and the next is its own.
TEST_F(MysqlTest, OnePacketAnswersAreOneResponse) {
  Conn c;
  EXPECT_EQ(c.Feed(Packet(0, "\x09"), true).first, RL_MY_CMD_statistics);
  EXPECT_EQ(
      c.Feed(Packet(1, "Uptime: 12  Threads: 1  Questions: 9"), false).runs,
      (Runs{{RL_MY_OUT_OK, 1}}));
  const std::string defs = Packet(1,
                                  "\x03"
                                  "def" +
                                      std::string(30, 'c')) +
                           Packet(2,
                                  "\x03"
                                  "def" +
                                      std::string(30, 'c')) +
                           Eof(3);
  EXPECT_EQ(c.Feed(defs, false).runs, (Runs{{RL_MY_OUT_OK, 1}}));
  EXPECT_EQ(c.Feed(Ok(1), false).runs, (Runs{{RL_MY_OUT_OK, 1}}));
}

}  // namespace
}  // namespace redline
