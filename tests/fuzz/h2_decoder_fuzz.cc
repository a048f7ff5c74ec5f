// The HTTP/2 connection decoder (agent/h2) on any sequence of frame events
// of one connection, and its invariants: a completed request belongs to a
// stream the client opened with HEADERS (or the h2c upgrade's stream 1),
// completes at most once, has ordered times (a response before its end, a
// duration within request-to-end); a desynced connection holds no stream
// and emits nothing more; streams and early responses stay in budget.
//
// Input: a byte choosing the h2c upgrade start, then events, each
//   byte 0: bit 0 direction (1: server), bit 1 truncated, bits 2-4 kind
//           (0 DATA, 1 HEADERS, 2 CONTINUATION, 3 PUSH_PROMISE,
//           4 RST_STREAM, 5 SETTINGS, 6 PING, 7 lost events)
//   byte 1: flags; byte 2: stream id; byte 3: payload length n;
//   n payload bytes (fewer at the end of the input).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "agent/h2/connection.h"
#include "agent/h2/grpc_operations.h"

namespace {

using redline::h2::CompletedRequest;
using redline::h2::Connection;
using redline::h2::Direction;
using redline::h2::FrameEvent;

constexpr uint8_t kTypes[] = {0x0, 0x1, 0x9, 0x5, 0x3, 0x4, 0x6};

void Check(bool ok) {
  if (!ok) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  absl::flat_hash_set<uint32_t> opened;
  bool upgraded = data[0] & 1;
  // A small budget so that dropping streams is reached too.
  size_t max_streams = 1 + (data[0] >> 1) % 8;
  Connection conn(max_streams);
  if (upgraded) {
    redline::h2::H2cUpgrade up;
    up.method = "GET";
    up.path = "/";
    up.start_ns = 1;
    if (data[0] & 2) up.client_header_table_size = data[0] >> 2;
    conn = Connection::Upgraded(up, max_streams);
    opened.insert(1);
  }
  absl::flat_hash_set<uint32_t> completed;
  std::vector<CompletedRequest> out;
  uint64_t now = 10;
  size_t i = 1;
  while (i + 4 <= size) {
    uint8_t head = data[i], flags = data[i + 1];
    uint32_t stream = data[i + 2];
    size_t n = data[i + 3];
    i += 4;
    size_t have = n < size - i ? n : size - i;
    std::string payload(reinterpret_cast<const char*>(data + i), have);
    i += have;
    bool was_desynced = conn.desynced();
    size_t before = out.size();
    uint8_t kind = (head >> 2) & 7;
    if (kind == 7) {
      conn.OnLoss();
    } else {
      FrameEvent f;
      f.direction =
          (head & 1) ? Direction::kServerToClient : Direction::kClientToServer;
      f.timestamp_ns = now += 1 + (flags & 3);
      f.type = kTypes[kind];
      f.flags = flags;
      f.stream_id = stream;
      f.truncated = (head & 2) != 0 || have < n;
      f.length = f.truncated ? static_cast<uint32_t>(n + 7) : have;
      f.payload = payload;
      if (f.type == 0x1 && f.direction == Direction::kClientToServer) {
        opened.insert(stream);  // a request may start here
      }
      conn.OnFrame(f, &out);
    }
    if (was_desynced) Check(out.size() == before);
    if (conn.desynced()) {
      Check(conn.open_streams() == 0);
      Check(!conn.desync_reason().empty());
    }
    Check(conn.open_streams() <= max_streams);
    Check(conn.early_responses() <= max_streams);
    if (conn.desynced()) Check(conn.early_responses() == 0);
    for (size_t k = before; k < out.size(); ++k) {
      const CompletedRequest& r = out[k];
      Check(opened.contains(r.stream_id));
      Check(completed.insert(r.stream_id).second);
      // A response seen before its request (events from two CPUs) may
      // precede the request's start, and end before it: duration 0.
      Check(r.response_ns == 0 || r.response_ns <= r.end_ns);
      Check(r.DurationNs() <=
            (r.end_ns > r.start_ns ? r.end_ns - r.start_ns : 0));
      Check(r.path.size() <= redline::h2::kMaxHeaderValue);
      Check(r.grpc_service.size() <= redline::h2::kMaxGrpcNamePart);
    }
  }
  return 0;
}
