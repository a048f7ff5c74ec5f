#include "agent/model/request_protocols.h"

#include <linux/types.h>

#include "bpf/l7.h"
#include "agent/model/grpc_methods.h"
#include "bpf/l7_dns.h"
#include "bpf/l7_h2.h"
#include "bpf/l7_memcached.h"
#include "bpf/l7_mysql.h"
#include "bpf/l7_pg.h"
#include "bpf/l7_redis.h"

namespace redline {

const char* HttpMethodName(uint32_t method) {
  static constexpr const char* kNames[RL_HTTP_METHOD_COUNT] = {
      "unknown", "GET",     "HEAD",    "POST",  "PUT",
      "DELETE",  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  return method < RL_HTTP_METHOD_COUNT ? kNames[method] : "unknown";
}

const char* HttpStatusClass(uint32_t status_class) {
  static constexpr const char* kClasses[] = {"unknown", "1xx", "2xx",
                                             "3xx",     "4xx", "5xx"};
  return status_class <= 5 ? kClasses[status_class] : "unknown";
}

const char* RedisCommandName(uint32_t op) {
  static constexpr const char* kNames[RL_REDIS_CMD_COUNT] = {
      "unknown", "other",
#define RL_REDIS_NAME(name) #name,
      RL_REDIS_COMMANDS(RL_REDIS_NAME)
#undef RL_REDIS_NAME
  };
  return op < RL_REDIS_CMD_COUNT ? kNames[op] : "unknown";
}

const char* RedisOutcomeName(uint32_t outcome) {
  static constexpr const char* kNames[RL_REDIS_OUT_COUNT] = {
      "unknown", "ok", "error",
#define RL_REDIS_NAME(name) #name,
      RL_REDIS_ERRORS(RL_REDIS_NAME)
#undef RL_REDIS_NAME
  };
  return outcome < RL_REDIS_OUT_COUNT ? kNames[outcome] : "unknown";
}

const char* PgCommandName(uint32_t op) {
  static constexpr const char* kNames[RL_PG_CMD_COUNT] = {
      "unknown", "other", "parse",
#define RL_PG_NAME(name) #name,
      RL_PG_COMMANDS(RL_PG_NAME)
#undef RL_PG_NAME
  };
  return op < RL_PG_CMD_COUNT ? kNames[op] : "unknown";
}

const char* PgOutcomeName(uint32_t outcome) {
  static constexpr const char* kNames[RL_PG_OUT_COUNT] = {
      "unknown", "ok", "error",
#define RL_PG_NAME(name, code) code,
      RL_PG_CLASSES(RL_PG_NAME)
#undef RL_PG_NAME
  };
  return outcome < RL_PG_OUT_COUNT ? kNames[outcome] : "unknown";
}

const char* MemcachedCommandName(uint32_t op) {
  static constexpr const char* kNames[RL_MC_CMD_COUNT] = {
      "unknown",
#define RL_MC_NAME(name) #name,
      RL_MC_COMMANDS(RL_MC_NAME)
#undef RL_MC_NAME
  };
  return op < RL_MC_CMD_COUNT ? kNames[op] : "unknown";
}

const char* MemcachedOutcomeName(uint32_t outcome) {
  static constexpr const char* kNames[RL_MC_OUT_COUNT] = {
      "unknown",
#define RL_MC_NAME(name) #name,
      RL_MC_OUTCOMES(RL_MC_NAME)
#undef RL_MC_NAME
  };
  return outcome < RL_MC_OUT_COUNT ? kNames[outcome] : "unknown";
}

const char* MysqlCommandName(uint32_t op) {
  static constexpr const char* kNames[] = {
#define RL_MY_NAME(name) #name,
      RL_MY_COMMANDS(RL_MY_NAME)
#undef RL_MY_NAME
  };
  if (op == RL_PG_CMD_PARSE) return "unknown";  // PostgreSQL's only
  if (op < RL_PG_CMD_COUNT) return PgCommandName(op);
  return op < RL_MY_CMD_COUNT ? kNames[op - RL_PG_CMD_COUNT] : "unknown";
}

const char* MysqlOutcomeName(uint32_t outcome) {
  static constexpr const char* kNames[RL_MY_OUT_COUNT] = {
      "unknown", "ok", "error",
#define RL_MY_NAME(name, code) code,
      RL_MY_CLASSES(RL_MY_NAME)
#undef RL_MY_NAME
  };
  return outcome < RL_MY_OUT_COUNT ? kNames[outcome] : "unknown";
}

const char* DnsQtypeName(uint32_t op) {
  static constexpr const char* kNames[RL_DNS_Q_COUNT] = {
      "unknown", "other",
#define RL_DNS_NAME(name, code) #name,
      RL_DNS_QTYPES(RL_DNS_NAME)
#undef RL_DNS_NAME
  };
  return op < RL_DNS_Q_COUNT ? kNames[op] : "unknown";
}

const char* DnsRcodeName(uint32_t outcome) {
  static constexpr const char* kNames[RL_DNS_R_COUNT] = {
      "unknown",
#define RL_DNS_NAME(name, code) #name,
      RL_DNS_RCODES(RL_DNS_NAME)
#undef RL_DNS_NAME
      "other", "timeout"};
  return outcome < RL_DNS_R_COUNT ? kNames[outcome] : "unknown";
}

const char* Http2Outcome(uint32_t outcome) {
  return outcome == RL_H2_OUT_RESET ? "reset" : HttpStatusClass(outcome);
}

const char* GrpcStatusName(uint32_t outcome) {
  static constexpr const char* kNames[RL_GRPC_OUT_COUNT] = {
      "unknown",
#define RL_GRPC_NAME(name, code) #name,
      RL_GRPC_CODES(RL_GRPC_NAME)
#undef RL_GRPC_NAME
      "reset"};
  return outcome < RL_GRPC_OUT_COUNT ? kNames[outcome] : "unknown";
}

const std::vector<RequestProtocol>& RequestProtocols() {
  static const std::vector<RequestProtocol> kProtocols = {
      {"http", "HTTP/1.x", RL_L7_PROTO_HTTP, "method", "status_class",
       HttpMethodName, HttpStatusClass,
       [](absl::string_view outcome) { return outcome == "5xx"; }},
      // Any error reply: ERR, WRONGTYPE, MOVED... ("error": another prefix).
      {"redis", "Redis", RL_L7_PROTO_REDIS, "command", "outcome",
       RedisCommandName, RedisOutcomeName,
       [](absl::string_view outcome) {
         return outcome != "ok" && outcome != "unknown";
       }},
      // Any SQLSTATE class: 23 (integrity), 40 (rollback), 57...
      {"postgresql", "PostgreSQL", RL_L7_PROTO_PG, "command", "outcome",
       PgCommandName, PgOutcomeName,
       [](absl::string_view outcome) {
         return outcome != "ok" && outcome != "unknown";
       }},
      // A miss, NOT_STORED or EXISTS is an answer, not a failure.
      {"memcached", "Memcached", RL_L7_PROTO_MEMCACHED, "command", "outcome",
       MemcachedCommandName, MemcachedOutcomeName,
       [](absl::string_view outcome) {
         return outcome == "error" || outcome == "client_error" ||
                outcome == "server_error";
       }},
      // Any SQLSTATE class: 23 (duplicate key), 40 (deadlock), HY (lock
      // wait timeout and most others)...; "unknown" is a response the walk
      // lost its place in, not a failure.
      {"mysql", "MySQL/MariaDB", RL_L7_PROTO_MYSQL, "command", "outcome",
       MysqlCommandName, MysqlOutcomeName,
       [](absl::string_view outcome) {
         return outcome != "ok" && outcome != "unknown";
       }},
      // The server failed or would not answer, or nothing came back. An
      // NXDOMAIN is an answer (the name does not exist), not a failure.
      {"dns", "DNS", RL_L7_PROTO_DNS, "qtype", "rcode", DnsQtypeName,
       DnsRcodeName,
       [](absl::string_view outcome) {
         return outcome == "SERVFAIL" || outcome == "REFUSED" ||
                outcome == "FORMERR" || outcome == "NOTIMP" ||
                outcome == "other" || outcome == "timeout";
       }},
      // Counted by the agent from the frames bpf/l7_h2.bpf.h forwards.
      {"http2", "HTTP/2", RL_L7_PROTO_H2, "method", "status_class",
       HttpMethodName, Http2Outcome,
       [](absl::string_view outcome) {
         return outcome == "5xx" || outcome == "reset";
       }},
      // The server-side failures (gRPC's own guidance for availability):
      // a client's NOT_FOUND or INVALID_ARGUMENT is an answer.
      {"grpc", "gRPC", RL_L7_PROTO_GRPC, "method", "grpc_status",
       GrpcMethodName, GrpcStatusName,
       [](absl::string_view outcome) {
         return outcome == "UNKNOWN" || outcome == "DEADLINE_EXCEEDED" ||
                outcome == "UNIMPLEMENTED" || outcome == "INTERNAL" ||
                outcome == "UNAVAILABLE" || outcome == "DATA_LOSS" ||
                outcome == "reset";
       },
       /*operations_learned=*/true},
  };
  return kProtocols;
}

const RequestProtocol* FindRequestProtocol(absl::string_view name) {
  for (const RequestProtocol& p : RequestProtocols()) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

const RequestProtocol* RequestProtocolByKernelId(uint32_t kernel_id) {
  for (const RequestProtocol& p : RequestProtocols()) {
    if (kernel_id == p.kernel_id) return &p;
  }
  return nullptr;
}

}  // namespace redline
