// The PostgreSQL classifier the kernel runs (bpf/l7_pg.bpf.h), reached
// through the protocol table as bpf/l7.bpf.c does and compiled here
// unchanged: which requests a write ends and with what command, which
// responses a read completes and with what outcome, and the state carried
// from one read or write to the next. Messages are built here from the
// protocol's description (frontend/backend protocol v3), as libpq and
// pgbench send them.
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/fuzz/l7_classifier_shim.h"

namespace redline {
namespace {

using Runs = std::vector<std::pair<int, int>>;  // (op or outcome, count)

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
          static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string Msg(char type, const std::string& body) {
  return std::string(1, type) + Be32(body.size() + 4) + body;
}

std::string Z(const std::string& s) { return s + std::string(1, '\0'); }

std::string Query(const std::string& sql) { return Msg('Q', Z(sql)); }
std::string Parse(const std::string& name, const std::string& sql) {
  return Msg('P', Z(name) + Z(sql) + std::string(2, '\0'));
}
std::string Bind(const std::string& name) {
  return Msg('B', Z("") + Z(name) + std::string(6, '\0'));
}
std::string Describe() { return Msg('D', Z("P")); }
std::string Execute() { return Msg('E', Z("") + std::string(4, '\0')); }
std::string Sync() { return Msg('S', ""); }
std::string Ready() { return Msg('Z', "I"); }
std::string Complete(const std::string& tag) { return Msg('C', Z(tag)); }
std::string Rows(int n) {
  std::string out = Msg('T', std::string(2, '\0'));
  for (int i = 0; i < n; ++i) out += Msg('D', std::string(2, '\0'));
  return out;
}
std::string Error(const std::string& code) {
  return Msg('E', Z("SERROR") + Z("VERROR") + Z("C" + code) +
                      Z("Mduplicate key value") + std::string(1, '\0'));
}

struct Walked {
  int first = 0;  // requests: the first one's command (255: none)
  Runs runs;
  uint32_t end = 0;
  int state = 0;
};

class PgTest : public ::testing::Test {
 protected:
  void SetUp() override { PgStatements().clear(); }

  // One read or write of data on connection conn, with the state the
  // previous one left; as the engine does: the start first, then the walk.
  Walked Walk(const std::string& data, bool requests, int state = 0,
              __u64 conn = 7) {
    alignas(8) static rl_l7_window win;
    std::memset(&win, 0, sizeof(win));
    const __u32 n = std::min<size_t>(data.size(), RL_L7_SMALL_PEEK);
    std::memcpy(win.b, data.data(), n);
    rl_l7_scan s = {};
    s.ubuf = reinterpret_cast<__u64>(data.data());
    s.r.ubuf = s.ubuf;
    s.len = data.size();
    s.n = n;
    s.r.conn = conn;
    s.r.state = state;
    __u8 proto = RL_L7_PROTO_PG;
    Walked out;
    if (requests) {
      if (!rl_l7_request(&proto, win.b, n)) return out;
      rl_l7_next_requests(RL_L7_PROTO_PG, &win, &s);
      out.first = s.r.first;
    } else {
      if (rl_l7_response(&proto, win.b, n) != RL_L7_INTERIM) return out;
      rl_l7_next_responses(RL_L7_PROTO_PG, &win, &s);
    }
    for (__u32 i = 0; i < s.r.found; ++i) {
      out.runs.emplace_back(s.r.op[i], s.r.cnt[i]);
    }
    out.end = s.r.end;
    out.state = s.r.state;
    return out;
  }
};

TEST_F(PgTest, QueryCommandIsItsFirstKeyword) {
  const std::pair<const char*, int> cases[] = {
      {"SELECT 1", RL_PG_CMD_select},
      {"select abalance from pgbench_accounts", RL_PG_CMD_select},
      {"  /* app:web */ (SELECT 1) UNION (SELECT 2)", RL_PG_CMD_select},
      {"-- a comment\nINSERT INTO t VALUES (1)", RL_PG_CMD_insert},
      {"END;", RL_PG_CMD_commit},
      {"start transaction", RL_PG_CMD_begin},
      {"ABORT", RL_PG_CMD_rollback},
      {"WITH x AS (SELECT 1) DELETE FROM t", RL_PG_CMD_with},
      {"vacuumx", RL_PG_CMD_OTHER},
      {"savepointsavepointsavepoint", RL_PG_CMD_OTHER},
      {"", RL_PG_CMD_OTHER},
      {"/* never closed", RL_PG_CMD_OTHER},
  };
  for (const auto& [sql, cmd] : cases) {
    const Walked w = Walk(Query(sql), true);
    EXPECT_EQ(w.first, cmd) << sql;
    EXPECT_TRUE(w.runs.empty()) << sql;
    EXPECT_EQ(w.end, 0u) << sql;
  }
}

TEST_F(PgTest, PipelinedQueriesAreRunsBehindTheFirst) {
  const Walked w = Walk(Query("BEGIN") + Query("UPDATE a") + Query("UPDATE b") +
                            Query("SELECT 1"),
                        true);
  EXPECT_EQ(w.first, RL_PG_CMD_begin);
  EXPECT_EQ(w.runs, (Runs{{RL_PG_CMD_update, 2}, {RL_PG_CMD_select, 1}}));
}

// pgbench -M prepared: Parse + Sync once per statement and connection,
// then Bind, Describe, Execute, Sync naming it.
TEST_F(PgTest, PreparedStatementsAreNamedByTheirParse) {
  EXPECT_EQ(
      Walk(Parse("P0_1", "UPDATE pgbench_accounts SET x = $1") + Sync(), true)
          .first,
      RL_PG_CMD_PARSE);
  EXPECT_EQ(Walk(Parse("P0_2", "SELECT abalance") + Sync(), true).first,
            RL_PG_CMD_PARSE);
  const std::string exec1 = Bind("P0_1") + Describe() + Execute() + Sync();
  const std::string exec2 = Bind("P0_2") + Describe() + Execute() + Sync();
  EXPECT_EQ(Walk(exec1, true).first, RL_PG_CMD_update);
  EXPECT_EQ(Walk(exec2, true).first, RL_PG_CMD_select);
  // Pipelined: the second group is a run.
  const Walked both = Walk(exec1 + exec2 + exec2, true);
  EXPECT_EQ(both.first, RL_PG_CMD_update);
  EXPECT_EQ(both.runs, (Runs{{RL_PG_CMD_select, 2}}));
  // Another connection's statement of the same name is not this one.
  EXPECT_EQ(Walk(exec1, true, 0, /*conn=*/8).first, RL_PG_CMD_OTHER);
}

TEST_F(PgTest, UnnamedStatementInOneGroup) {
  const Walked w = Walk(Parse("", "DELETE FROM t WHERE id = $1") + Bind("") +
                            Describe() + Execute() + Sync(),
                        true);
  EXPECT_EQ(w.first, RL_PG_CMD_delete);
}

// A group whose Sync comes in a later write: no request ends in the
// first; the group so far is carried in the state.
TEST_F(PgTest, GroupSplitAcrossWrites) {
  const Walked a =
      Walk(Parse("", "INSERT INTO t VALUES ($1)") + Bind(""), true);
  EXPECT_EQ(a.first, RL_L7_INTERIM);
  EXPECT_TRUE(a.runs.empty());
  EXPECT_NE(a.state, 0);
  const Walked b = Walk(Execute() + Sync(), true, a.state);
  EXPECT_EQ(b.first, RL_PG_CMD_insert);
  EXPECT_EQ(b.state, 0);
}

TEST_F(PgTest, LargeMessageCarriesItsEnd) {
  const std::string big = Query("SELECT '" + std::string(5000, 'x') + "'");
  const std::string part = big.substr(0, 1500);
  const Walked w = Walk(part, true);
  EXPECT_EQ(w.end, big.size());
}

TEST_F(PgTest, ReadyForQueryCompletesWithTheErrorBeforeIt) {
  EXPECT_EQ(Walk(Rows(3) + Complete("SELECT 3") + Ready(), false).runs,
            (Runs{{RL_PG_OUT_OK, 1}}));
  EXPECT_EQ(Walk(Error("23505") + Ready(), false).runs,
            (Runs{{RL_PG_OUT_c23, 1}}));
  EXPECT_EQ(Walk(Error("40P01") + Ready(), false).runs,
            (Runs{{RL_PG_OUT_c40, 1}}));
  EXPECT_EQ(Walk(Error("0A000") + Ready(), false).runs,
            (Runs{{RL_PG_OUT_c0a, 1}}));
  EXPECT_EQ(Walk(Error("ZZ000") + Ready(), false).runs,
            (Runs{{RL_PG_OUT_ERROR, 1}}));
  // Extended protocol: ParseComplete, BindComplete... then ReadyForQuery.
  EXPECT_EQ(Walk(Msg('1', "") + Msg('2', "") + Rows(1) + Complete("SELECT 1") +
                     Ready(),
                 false)
                .runs,
            (Runs{{RL_PG_OUT_OK, 1}}));
  // Pipelined answers.
  EXPECT_EQ(Walk(Complete("UPDATE 1") + Ready() + Complete("UPDATE 1") +
                     Ready() + Error("23505") + Ready() + Ready(),
                 false)
                .runs,
            (Runs{{RL_PG_OUT_OK, 2}, {RL_PG_OUT_c23, 1}, {RL_PG_OUT_OK, 1}}));
}

TEST_F(PgTest, NothingCompletesBeforeReadyForQuery) {
  const Walked rows = Walk(Rows(10), false);
  EXPECT_TRUE(rows.runs.empty());
  EXPECT_EQ(rows.state, 0);
  // An error in one read, its ReadyForQuery in the next.
  const Walked err = Walk(Rows(2) + Error("57014"), false);
  EXPECT_TRUE(err.runs.empty());
  EXPECT_EQ(err.state, RL_PG_OUT_c57);
  EXPECT_EQ(Walk(Ready(), false, err.state).runs, (Runs{{RL_PG_OUT_c57, 1}}));
}

TEST_F(PgTest, RowSplitAcrossReadsCarriesItsEnd) {
  const std::string row = Msg('D', std::string(3000, 'r'));
  const Walked w = Walk(Rows(1) + row.substr(0, 100), false);
  EXPECT_EQ(w.end, Rows(1).size() + row.size());
  EXPECT_TRUE(w.runs.empty());
}

// A header split across reads loses the walk's place: it is found again
// where a read ends with ReadyForQuery.
TEST_F(PgTest, LostPlaceIsFoundAgainAtReadyForQuery) {
  const Walked a = Walk(Rows(1) + std::string("D\0\0", 3), false);
  EXPECT_EQ(a.state, RL_PG_LOST);
  const Walked b = Walk(std::string("\0\x06zz") + Rows(4), false, a.state);
  EXPECT_TRUE(b.runs.empty());
  EXPECT_EQ(b.state, RL_PG_LOST);
  const Walked c =
      Walk(Rows(4) + Complete("SELECT 4") + Ready(), false, b.state);
  EXPECT_EQ(c.runs, (Runs{{RL_PG_OUT_OK, 1}}));
  EXPECT_EQ(c.state, 0);
}

TEST_F(PgTest, LongReadOfRowsFindsItsEnd) {
  const Walked w =
      Walk(Rows(RL_PG_HOPS + 10) + Complete("SELECT") + Ready(), false);
  EXPECT_EQ(w.runs, (Runs{{RL_PG_OUT_OK, 1}}));
  EXPECT_EQ(w.state, 0);
}

TEST_F(PgTest, HandshakeIsNoRequest) {
  const std::string startup = Be32(41) + Be32(196608) + Z("user") +
                              Z("postgres") + Z("database") + Z("db") +
                              std::string(1, '\0');
  const std::string ssl_request = Be32(8) + Be32(80877103);
  const std::string password = Msg('p', Z("md5abcdef"));
  const std::string terminate = Msg('X', "");
  for (const std::string& m : {startup, ssl_request, password, terminate}) {
    alignas(8) static rl_l7_window win;
    std::memset(&win, 0, sizeof(win));
    std::memcpy(win.b, m.data(), m.size());
    __u8 proto = 0;
    EXPECT_EQ(rl_l7_request(&proto, win.b, m.size()), 0);
    EXPECT_EQ(proto, 0);
  }
}

TEST(PgLabelsTest, KeywordsAndClassesAreSorted) {
  const char* keywords[] = {
#define KW(word, cmd) #word,
      RL_PG_KEYWORDS(KW)
#undef KW
  };
  for (size_t i = 1; i < std::size(keywords); ++i) {
    EXPECT_LT(std::strcmp(keywords[i - 1], keywords[i]), 0) << keywords[i];
  }
  std::vector<std::string> classes = {
#define CL(name, code) code,
      RL_PG_CLASSES(CL)
#undef CL
  };
  for (std::string& c : classes) {
    for (char& ch : c) ch = static_cast<char>(ch | 0x20);
  }
  for (size_t i = 1; i < classes.size(); ++i) {
    EXPECT_LT(classes[i - 1], classes[i]);
  }
}

}  // namespace
}  // namespace redline
