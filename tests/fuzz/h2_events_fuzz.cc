// The HTTP/2 event stream (agent/h2/event_stream) on any sequence of ring
// buffer records, as a kernel of another build or a bug could send them:
// every kind (h2c upgrades included), short records, lengths that lie,
// several connections and both roles. Invariants: no crash; the table
// stays in budget; every request counted is HTTP/2 or gRPC with a known
// outcome code; malformed records are counted, never trusted.
//
// Input: records, each
//   byte 0: kind (mod 7: 0, 1 and 2 are no kinds); byte 1: bit 0
//           direction (written), bit 1 role (client), bits 2-3
//           connection, bit 4 a record cut short, bit 5 a len that lies;
//   FRAMES: byte 2: items (mod 4, + 1), each
//           byte 0: item kind (mod 3: 0 is none), byte 1: frame type,
//           byte 2: flags, byte 3: stream id, byte 4: payload length n
//           (the frame header declares it; DATA frames carry none), n
//           data bytes (fewer at the end of the input);
//   other kinds: byte 2: n, n data bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agent/h2/event_stream.h"
#include "bpf/l7.h"
#include "bpf/l7_h2.h"

namespace {

void Check(bool ok) {
  if (!ok) abort();
}

constexpr size_t kMaxConnections = 3;

// A FRAMES record's items from the input at *i, as many as byte `count`
// says (fewer at its end).
std::string Items(const uint8_t* data, size_t size, size_t* i, uint8_t count) {
  std::string out;
  for (int k = 0; k < count % 4 + 1 && *i + 5 <= size; ++k) {
    const uint8_t* h = data + *i;
    *i += 5;
    const size_t n = h[4] < size - *i ? h[4] : size - *i;
    rl_h2_item item{};
    item.kind = h[0] % 3;
    item.header[2] = h[4];  // length
    item.header[3] = h[1];  // type
    item.header[4] = h[2];  // flags
    item.header[8] = h[3];  // stream id
    item.len = static_cast<uint16_t>(n);
    out.append(reinterpret_cast<const char*>(&item), sizeof(item));
    out.append(reinterpret_cast<const char*>(data + *i), n);
    *i += n;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  redline::h2::EventStream stream(kMaxConnections, 4);
  std::vector<redline::h2::Counted> out;
  uint64_t now = 1000, malformed = 0;
  size_t i = 0;
  while (i + 3 <= size) {
    const uint8_t* h = data + i;
    i += 3;
    rl_h2_event ev{};
    ev.kind = h[0] % 7;
    ev.dir = (h[1] & 1) ? RL_L7_OUT : RL_L7_IN;
    ev.key.role = (h[1] & 2) ? RL_L7_CLIENT : RL_L7_SERVER;
    ev.gen = 1 + ((h[1] >> 2) & 3);
    ev.ts_ns = now += 1 + h[2] % 7;
    std::string body;
    if (ev.kind == RL_H2_EV_FRAMES) {
      body = Items(data, size, &i, h[2]);
    } else {
      const size_t n = h[2] < size - i ? h[2] : size - i;
      body.assign(reinterpret_cast<const char*>(data + i), n);
      i += n;
    }
    body.resize(std::min(body.size(), sizeof(ev.data)));
    std::memcpy(ev.data, body.data(), body.size());
    ev.len = static_cast<uint16_t>(body.size());
    size_t record = RL_H2_EVENT_HEAD + body.size();
    // A record cut short, and one whose len says more than it holds.
    if (h[1] & 0x10) record = h[2] % record;
    if (h[1] & 0x20) ev.len = static_cast<uint16_t>(body.size() + 1 + h[2]);
    const bool bad =
        record < RL_H2_EVENT_HEAD ||
        RL_H2_EVENT_HEAD + size_t{ev.len} > record ||
        (ev.kind != RL_H2_EV_FRAMES && ev.kind != RL_H2_EV_LOST &&
         ev.kind != RL_H2_EV_CLOSED && ev.kind != RL_H2_EV_UPGRADE) ||
        (ev.kind == RL_H2_EV_UPGRADE && ev.len != sizeof(rl_h2_upgrade));
    const size_t before = out.size();
    // The record alone in a buffer of its size, as the ring buffer hands
    // it over: ASan sees any read past it (payloads are read in place).
    const auto* head = reinterpret_cast<const uint8_t*>(&ev);
    const std::vector<uint8_t> rec(head, head + record);
    stream.OnEvent(rec.data(), record, &out);
    const redline::h2::StreamCounts c = stream.counts();
    if (bad) {
      Check(c.malformed == malformed + 1);
      Check(out.size() == before);
    }
    malformed = c.malformed;
    Check(c.connections <= kMaxConnections);
    for (size_t k = before; k < out.size(); ++k) {
      const rl_l7_key& key = out[k].key;
      Check(key.proto == RL_L7_PROTO_H2 || key.proto == RL_L7_PROTO_GRPC);
      Check(key.proto != RL_L7_PROTO_H2 || key.outcome <= RL_H2_OUT_RESET);
      Check(key.proto != RL_L7_PROTO_GRPC || key.outcome < RL_GRPC_OUT_COUNT);
      Check(key.proto != RL_L7_PROTO_H2 || key.op < RL_HTTP_METHOD_COUNT);
    }
  }
  return 0;
}
