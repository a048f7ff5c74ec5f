// The request protocols redline classifies in the kernel (bpf/l7.h), one
// row each: how its kernel codes become label values, the label names its
// operation and outcome are exported under, and which outcomes are errors.
// Metrics, JSON, SLOs and top read requests through this table only, so a
// protocol is one row here (plus its classifier header in bpf/).
#ifndef REDLINE_AGENT_MODEL_REQUEST_PROTOCOLS_H_
#define REDLINE_AGENT_MODEL_REQUEST_PROTOCOLS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace redline {

struct RequestProtocol {
  const char* name;   // "http": families redline_<name>_{server,client}_*
  const char* title;  // "HTTP/1.x": in the families' HELP
  uint8_t kernel_id;  // RL_L7_PROTO_* in bpf/l7.h
  const char* operation_label;  // "method"
  const char* outcome_label;    // "status_class"
  // rl_l7_key's op and outcome codes to label values (bounded sets).
  const char* (*operation_name)(uint32_t op);
  const char* (*outcome_name)(uint32_t outcome);
  // The outcomes an availability SLI and top's error column count as bad.
  bool (*is_error)(absl::string_view outcome);
  // Operation labels given at run time (gRPC's "service/method", within a
  // label budget), not a fixed table: an SLI may name any, and matches
  // requests whose label is exactly that.
  bool operations_learned = false;
};

const std::vector<RequestProtocol>& RequestProtocols();
// nullptr when unknown.
const RequestProtocol* FindRequestProtocol(absl::string_view name);
const RequestProtocol* RequestProtocolByKernelId(uint32_t kernel_id);

// bpf/l7.h's HTTP method index; "unknown" out of range.
const char* HttpMethodName(uint32_t method);
// bpf/l7.h's HTTP status class (1..5 for 1xx..5xx); "unknown" otherwise.
const char* HttpStatusClass(uint32_t status_class);
// bpf/l7_redis.h's command ("get", "other"; "unknown": start not seen) and
// outcome ("ok", "ERR", "WRONGTYPE"..., "error": another prefix).
const char* RedisCommandName(uint32_t op);
const char* RedisOutcomeName(uint32_t outcome);
// bpf/l7_pg.h's command ("select", "commit", "parse", "other"; "unknown":
// start not seen) and outcome ("ok", a SQLSTATE class such as "23", "error":
// a class not listed).
const char* PgCommandName(uint32_t op);
const char* PgOutcomeName(uint32_t outcome);
// bpf/l7_memcached.h's command ("get", "set"...; "unknown": start not seen)
// and outcome ("ok", "miss", "not_stored", "exists", "error",
// "client_error", "server_error").
const char* MemcachedCommandName(uint32_t op);
const char* MemcachedOutcomeName(uint32_t outcome);
// bpf/l7_mysql.h's command (a SQL keyword as PostgreSQL's, "prepare",
// "execute", "ping"...) and outcome ("ok", a SQLSTATE class such as "23" or
// "HY", "error": a class not listed, "unknown": a response not followed).
const char* MysqlCommandName(uint32_t op);
const char* MysqlOutcomeName(uint32_t outcome);
// bpf/l7_dns.h's question type ("A", "AAAA"..., "other"; "unknown": the
// query was not seen) and RCODE ("NOERROR", "NXDOMAIN"..., "other",
// "timeout": no answer within RL_DNS_TIMEOUT_NS).
const char* DnsQtypeName(uint32_t op);
// HTTP/2's outcome: HttpStatusClass's, or "reset" (bpf/l7_h2.h); gRPC's:
// the grpc-status code's name ("OK", "NOT_FOUND"...), "reset", "unknown".
const char* Http2Outcome(uint32_t outcome);
const char* GrpcStatusName(uint32_t outcome);
const char* DnsRcodeName(uint32_t outcome);

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_REQUEST_PROTOCOLS_H_
