// The gRPC method labels the agent has given an id (rl_l7_key.op of
// RL_L7_PROTO_GRPC requests: a byte, so at most 255), so that a request's
// kernel-map key names its method and the request protocol table
// (request_protocols.h) turns it back into a label. Host-wide and
// thread-safe: the HTTP/2 decoder interns, the metrics and top read.
#ifndef REDLINE_AGENT_MODEL_GRPC_METHODS_H_
#define REDLINE_AGENT_MODEL_GRPC_METHODS_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace redline {

// Ids 1..255; 0 is "unknown" (the request's method was not seen).
inline constexpr uint32_t kMaxGrpcMethodIds = 255;

// The id of label (already bounded by h2::GrpcOperations), given on first
// use; 0 when all ids are taken (the caller labels it "other" first, so
// this does not happen with a label budget below kMaxGrpcMethodIds).
uint8_t GrpcMethodId(absl::string_view label);

// The label of id; "unknown" for 0 or an id never given.
const char* GrpcMethodName(uint32_t id);

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_GRPC_METHODS_H_
