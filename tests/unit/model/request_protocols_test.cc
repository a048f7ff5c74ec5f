#include "agent/model/request_protocols.h"

#include <linux/types.h>

#include <string>
#include <vector>

#include "bpf/l7.h"
#include "bpf/l7_memcached.h"
#include "bpf/l7_mysql.h"
#include "bpf/l7_pg.h"
#include "bpf/l7_redis.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

std::vector<std::string> RedisCommands() {
  return {
#define NAME(name) #name,
      RL_REDIS_COMMANDS(NAME)
#undef NAME
  };
}

std::vector<std::string> RedisErrors() {
  return {
#define NAME(name) #name,
      RL_REDIS_ERRORS(NAME)
#undef NAME
  };
}

// The classifier finds names by binary search over the lists' order.
TEST(RequestProtocolsTest, RedisListsAreStrictlySortedAndFitTheirCodes) {
  for (const auto& list : {RedisCommands(), RedisErrors()}) {
    for (size_t i = 1; i < list.size(); ++i) {
      EXPECT_LT(list[i - 1], list[i]) << "out of order at " << list[i];
    }
    for (const std::string& name : list) {
      EXPECT_LE(name.size(), 16u) << name << ": longer than two words";
    }
  }
  static_assert(RL_REDIS_CMD_COUNT <= 256, "op is a __u8");
  static_assert(RL_REDIS_OUT_COUNT < 0xff, "below RL_L7_INTERIM");
}

TEST(RequestProtocolsTest, PgCodesNameTheListEntries) {
  static_assert(RL_PG_CMD_COUNT <= 64, "kept in 6 bits of a group state");
  static_assert(RL_PG_OUT_COUNT < 0x80, "kept beside RL_PG_LOST");
  EXPECT_STREQ(PgCommandName(RL_PG_CMD_UNKNOWN), "unknown");
  EXPECT_STREQ(PgCommandName(RL_PG_CMD_OTHER), "other");
  EXPECT_STREQ(PgCommandName(RL_PG_CMD_PARSE), "parse");
  EXPECT_STREQ(PgCommandName(RL_PG_CMD_alter), "alter");
  EXPECT_STREQ(PgCommandName(RL_PG_CMD_select), "select");
  EXPECT_STREQ(PgCommandName(RL_PG_CMD_with), "with");
  EXPECT_STREQ(PgCommandName(RL_PG_CMD_COUNT), "unknown");
  EXPECT_STREQ(PgOutcomeName(RL_PG_OUT_OK), "ok");
  EXPECT_STREQ(PgOutcomeName(RL_PG_OUT_ERROR), "error");
  EXPECT_STREQ(PgOutcomeName(RL_PG_OUT_c03), "03");
  EXPECT_STREQ(PgOutcomeName(RL_PG_OUT_c23), "23");
  EXPECT_STREQ(PgOutcomeName(RL_PG_OUT_c0a), "0A");
  EXPECT_STREQ(PgOutcomeName(RL_PG_OUT_cxx), "XX");
  EXPECT_STREQ(PgOutcomeName(RL_PG_OUT_COUNT), "unknown");
  const RequestProtocol* pg = FindRequestProtocol("postgresql");
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pg, RequestProtocolByKernelId(RL_L7_PROTO_PG));
  EXPECT_TRUE(pg->is_error("23"));
  EXPECT_FALSE(pg->is_error("ok"));
}

TEST(RequestProtocolsTest, MemcachedCodesNameTheListEntries) {
  static_assert(RL_MC_CMD_COUNT < 0xff, "below RL_L7_INTERIM");
  EXPECT_STREQ(MemcachedCommandName(RL_MC_CMD_UNKNOWN), "unknown");
  EXPECT_STREQ(MemcachedCommandName(RL_MC_CMD_add), "add");
  EXPECT_STREQ(MemcachedCommandName(RL_MC_CMD_flush_all), "flush_all");
  EXPECT_STREQ(MemcachedCommandName(RL_MC_CMD_version), "version");
  EXPECT_STREQ(MemcachedCommandName(RL_MC_CMD_COUNT), "unknown");
  EXPECT_STREQ(MemcachedOutcomeName(RL_MC_OUT_ok), "ok");
  EXPECT_STREQ(MemcachedOutcomeName(RL_MC_OUT_miss), "miss");
  EXPECT_STREQ(MemcachedOutcomeName(RL_MC_OUT_server_error), "server_error");
  EXPECT_STREQ(MemcachedOutcomeName(RL_MC_OUT_COUNT), "unknown");
  const RequestProtocol* mc = FindRequestProtocol("memcached");
  ASSERT_NE(mc, nullptr);
  EXPECT_EQ(mc, RequestProtocolByKernelId(RL_L7_PROTO_MEMCACHED));
  EXPECT_TRUE(mc->is_error("server_error"));
  EXPECT_FALSE(mc->is_error("miss"));
  EXPECT_FALSE(mc->is_error("not_stored"));
}

TEST(RequestProtocolsTest, RedisCodesNameTheListEntries) {
  const std::vector<std::string> cmds = RedisCommands();
  EXPECT_STREQ(RedisCommandName(RL_REDIS_CMD_UNKNOWN), "unknown");
  EXPECT_STREQ(RedisCommandName(RL_REDIS_CMD_OTHER), "other");
  EXPECT_STREQ(RedisCommandName(RL_REDIS_CMD_get), "get");
  EXPECT_STREQ(RedisCommandName(RL_REDIS_CMD_zscore), "zscore");
  for (size_t i = 0; i < cmds.size(); ++i) {
    EXPECT_EQ(RedisCommandName(RL_REDIS_CMD_OTHER + 1 + i), cmds[i]);
  }
  EXPECT_STREQ(RedisCommandName(RL_REDIS_CMD_COUNT), "unknown");
  EXPECT_STREQ(RedisOutcomeName(RL_REDIS_OUT_OK), "ok");
  EXPECT_STREQ(RedisOutcomeName(RL_REDIS_OUT_ERROR), "error");
  EXPECT_STREQ(RedisOutcomeName(RL_REDIS_OUT_WRONGTYPE), "WRONGTYPE");
  EXPECT_STREQ(RedisOutcomeName(RL_REDIS_OUT_COUNT), "unknown");
}

TEST(RequestProtocolsTest, MysqlCodesNameTheListEntries) {
  static_assert(RL_MY_CMD_COUNT < 0xff, "an op is a byte, below RL_L7_INTERIM");
  EXPECT_STREQ(MysqlCommandName(RL_PG_CMD_UNKNOWN), "unknown");
  EXPECT_STREQ(MysqlCommandName(RL_PG_CMD_OTHER), "other");
  EXPECT_STREQ(MysqlCommandName(RL_PG_CMD_PARSE), "unknown");
  EXPECT_STREQ(MysqlCommandName(RL_PG_CMD_select), "select");
  EXPECT_STREQ(MysqlCommandName(RL_PG_CMD_prepare), "prepare");
  EXPECT_STREQ(MysqlCommandName(RL_MY_CMD_ping), "ping");
  EXPECT_STREQ(MysqlCommandName(RL_MY_CMD_reset_connection),
               "reset_connection");
  EXPECT_STREQ(MysqlCommandName(RL_MY_CMD_COUNT), "unknown");
  EXPECT_STREQ(MysqlOutcomeName(RL_MY_OUT_UNKNOWN), "unknown");
  EXPECT_STREQ(MysqlOutcomeName(RL_MY_OUT_OK), "ok");
  EXPECT_STREQ(MysqlOutcomeName(RL_MY_OUT_ERROR), "error");
  EXPECT_STREQ(MysqlOutcomeName(RL_MY_OUT_c23), "23");
  EXPECT_STREQ(MysqlOutcomeName(RL_MY_OUT_chy), "HY");
  EXPECT_STREQ(MysqlOutcomeName(RL_MY_OUT_COUNT), "unknown");
  // The classifier searches the classes by halves, case folded.
  const std::vector<std::string> classes = {
#define NAME(name, code) code,
      RL_MY_CLASSES(NAME)
#undef NAME
  };
  for (size_t i = 1; i < classes.size(); ++i) {
    std::string a = classes[i - 1], b = classes[i];
    for (char& c : a) c |= 0x20;
    for (char& c : b) c |= 0x20;
    EXPECT_LT(a, b) << classes[i];
  }
  const RequestProtocol* my = FindRequestProtocol("mysql");
  ASSERT_NE(my, nullptr);
  EXPECT_EQ(my, RequestProtocolByKernelId(RL_L7_PROTO_MYSQL));
  EXPECT_TRUE(my->is_error("40"));
  EXPECT_TRUE(my->is_error("error"));
  EXPECT_FALSE(my->is_error("ok"));
  EXPECT_FALSE(my->is_error("unknown"));
}

TEST(RequestProtocolsTest, TableRowsAndErrors) {
  const RequestProtocol* redis = FindRequestProtocol("redis");
  ASSERT_NE(redis, nullptr);
  EXPECT_EQ(redis, RequestProtocolByKernelId(RL_L7_PROTO_REDIS));
  EXPECT_STREQ(redis->operation_label, "command");
  EXPECT_STREQ(redis->outcome_label, "outcome");
  EXPECT_FALSE(redis->is_error("ok"));
  EXPECT_TRUE(redis->is_error("ERR"));
  EXPECT_TRUE(redis->is_error("error"));
  const RequestProtocol* http = FindRequestProtocol("http");
  ASSERT_NE(http, nullptr);
  EXPECT_TRUE(http->is_error("5xx"));
  EXPECT_FALSE(http->is_error("4xx"));
  EXPECT_EQ(RequestProtocolByKernelId(0), nullptr);
  EXPECT_EQ(RequestProtocolByKernelId(200), nullptr);
}

}  // namespace
}  // namespace redline
