#include "agent/h2/event_stream.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "agent/model/grpc_methods.h"
#include "agent/model/request_protocols.h"
#include "bpf/l7.h"

namespace redline::h2 {
namespace {

static_assert(offsetof(rl_h2_event, data) == RL_H2_EVENT_HEAD);
static_assert(offsetof(rl_h2_event, key) == 24);
static_assert(offsetof(rl_h2_event, len) == 74);
static_assert(sizeof(rl_h2_event) == RL_H2_RECORD_MAX);
static_assert(sizeof(rl_h2_item) == RL_H2_ITEM_HEAD);
static_assert(offsetof(rl_h2_item, header) == 4);
// One item of the largest payload fits in a record.
static_assert(RL_H2_EVENT_HEAD + RL_H2_ITEM_HEAD + RL_H2_MAX_DATA <=
              RL_H2_RECORD_MAX);
static_assert(sizeof(rl_h2_state) == 36);
static_assert(sizeof(rl_h2_upgrade) == 16);

uint8_t MethodCode(absl::string_view method) {
  for (uint32_t m = 1; m < RL_HTTP_METHOD_COUNT; ++m) {
    if (method == HttpMethodName(m)) return static_cast<uint8_t>(m);
  }
  return RL_HTTP_UNKNOWN;
}

// gRPC's status codes, by name index + 1 (bpf/l7_h2.h's outcome codes).
constexpr uint8_t kGrpcUnknown = 2 + 1, kGrpcInternal = 13 + 1,
                  kGrpcUnimplemented = 12 + 1, kGrpcUnavailable = 14 + 1,
                  kGrpcUnauthenticated = 16 + 1, kGrpcPermissionDenied = 7 + 1;

// The call's outcome as a gRPC client would report it: grpc-status if the
// server sent one; else from the HTTP status as gRPC's "HTTP to gRPC
// status code mapping" says (a proxy's 502/503/504 is UNAVAILABLE); a
// 200 that ended with no grpc-status is INTERNAL; reset: the stream was
// reset with neither.
uint8_t GrpcOutcome(const CompletedRequest& r) {
  if (r.grpc_status >= 0) {
    return r.grpc_status <= 16 ? static_cast<uint8_t>(r.grpc_status + 1)
                               : kGrpcUnknown;
  }
  switch (r.status) {
    case 0:
      return r.reset ? RL_GRPC_OUT_RESET : 0;
    case 200:
      return r.reset ? RL_GRPC_OUT_RESET : kGrpcInternal;
    case 400:
      return kGrpcInternal;
    case 401:
      return kGrpcUnauthenticated;
    case 403:
      return kGrpcPermissionDenied;
    case 404:
      return kGrpcUnimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return kGrpcUnavailable;
    default:
      return kGrpcUnknown;
  }
}

uint32_t PayloadWanted(const uint8_t* h) {
  const uint32_t len = uint32_t{h[0]} << 16 | uint32_t{h[1]} << 8 | h[2];
  return h[3] == RL_H2_DATA ? 0 : std::min<uint32_t>(len, RL_H2_MAX_DATA);
}

}  // namespace

EventStream::EventStream(size_t max_connections, size_t max_grpc_operations)
    : max_connections_(max_connections), grpc_(max_grpc_operations) {}

// An evicted connection that speaks again starts afresh, which is safe:
// its HPACK decoders start empty, and a header block that refers to an
// entry added before then fails to decode (a desync), while the entries
// added since sit at the same indices as in the peer's table; responses
// to requests not seen are unpaired_responses, not requests.
EventStream::Conn& EventStream::ConnOf(uint64_t gen) {
  auto it = conns_.find(gen);
  if (it != conns_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return *it->second;
  }
  if (!lru_.empty() && conns_.size() >= max_connections_) {
    // Its open streams will not complete here: abandoned, as at a desync
    // (which already counted a desynced one's).
    const Connection& last = lru_.back().decoder;
    if (!last.desynced()) counts_.abandoned_streams += last.open_streams();
    ++counts_.evicted;
    Forget(std::prev(lru_.end()));
  }
  lru_.emplace_front(gen);
  conns_[gen] = lru_.begin();
  return lru_.front();
}

// The counts of a connection that goes, kept; then it goes.
void EventStream::Forget(std::list<Conn>::iterator it) {
  const Connection& d = it->decoder;
  counts_.dropped_streams += d.dropped_streams();
  counts_.unpaired_responses += d.unpaired_responses() + d.early_responses();
  conns_.erase(it->gen);
  lru_.erase(it);
}

void EventStream::OnEvent(const void* data, size_t size,
                          std::vector<Counted>* out) {
  ++counts_.events;
  if (size < RL_H2_EVENT_HEAD) {
    ++counts_.malformed;
    return;
  }
  // The head only: the payload is read where it is (ev.data stays unset).
  rl_h2_event ev;
  std::memcpy(&ev, data, RL_H2_EVENT_HEAD);
  const char* payload = static_cast<const char*>(data) + RL_H2_EVENT_HEAD;
  if (RL_H2_EVENT_HEAD + size_t{ev.len} > size) {
    ++counts_.malformed;
    return;
  }
  if (ev.kind == RL_H2_EV_CLOSED) {
    auto it = conns_.find(ev.gen);
    if (it == conns_.end()) return;
    Conn& c = *it->second;
    done_.clear();
    c.decoder.OnClose(ev.ts_ns, &done_);
    for (const CompletedRequest& r : done_) Count(r, c.labels, out);
    counts_.unanswered_streams += c.decoder.unanswered_streams();
    Forget(it->second);
    return;
  }
  if (ev.kind == RL_H2_EV_UPGRADE) {
    OnUpgrade(ev, payload);
    return;
  }
  if (ev.kind != RL_H2_EV_FRAMES && ev.kind != RL_H2_EV_LOST) {
    ++counts_.malformed;
    return;
  }
  Conn& c = ConnOf(ev.gen);
  if (ev.kind == RL_H2_EV_LOST) {
    c.decoder.OnLoss();
    CheckDesync(c);
    return;
  }
  c.labels = ev.key;
  // Client to server: what a server reads, or a client writes.
  const bool to_server = (ev.key.role == RL_L7_SERVER) == (ev.dir == RL_L7_IN);
  const int side = to_server ? 0 : 1;
  // The items, in order; one that does not fit what is left of the record
  // is malformed, and the frames it and those after it held are lost to
  // the connection's decoders.
  size_t at = 0;
  while (at < ev.len) {
    rl_h2_item item;
    if (ev.len - at < RL_H2_ITEM_HEAD) {
      ++counts_.malformed;
      c.decoder.OnLoss();
      break;
    }
    std::memcpy(&item, payload + at, RL_H2_ITEM_HEAD);
    at += RL_H2_ITEM_HEAD;
    if (item.len > RL_H2_MAX_DATA || item.len > ev.len - at ||
        (item.kind != RL_H2_ITEM_FRAME && item.kind != RL_H2_ITEM_MORE)) {
      ++counts_.malformed;
      c.decoder.OnLoss();
      break;
    }
    counts_.frames += item.kind == RL_H2_ITEM_FRAME;
    Deliver(c, ev, item, payload + at, side, out);
    at += item.len;
  }
  CheckDesync(c);
}

// The socket was HTTP/1.1 until now: whatever was held for its cookie is
// another connection's (one before a tcp_disconnect). The upgrade request
// is stream 1; if the kernel did not see it (sent before the agent
// started), stream 1's response waits as any response to a request not
// seen, and is counted as one if nothing pairs it.
void EventStream::OnUpgrade(const rl_h2_event& ev, const char* payload) {
  if (ev.len != sizeof(rl_h2_upgrade)) {
    ++counts_.malformed;
    return;
  }
  rl_h2_upgrade up;
  std::memcpy(&up, payload, sizeof(up));
  auto it = conns_.find(ev.gen);
  if (it != conns_.end()) Forget(it->second);
  Conn& c = ConnOf(ev.gen);
  ++counts_.upgrades;
  if (up.start_ns == 0 && up.method == RL_HTTP_UNKNOWN) return;
  H2cUpgrade request;
  if (up.method != RL_HTTP_UNKNOWN && up.method < RL_HTTP_METHOD_COUNT) {
    request.method = HttpMethodName(up.method);
  }
  request.start_ns = up.start_ns;
  c.decoder = Connection::Upgraded(request);
}

void EventStream::Deliver(Conn& c, const rl_h2_event& ev,
                          const rl_h2_item& item, const char* bytes, int side,
                          std::vector<Counted>* out) {
  Conn::Pending& p = c.pending[side];
  if (item.kind == RL_H2_ITEM_MORE) {
    if (!p.open || p.payload.size() + item.len > p.want) {
      c.decoder.OnLoss();  // a piece without its frame
      return;
    }
    p.payload.append(bytes, item.len);
  } else {
    if (p.open) {
      c.decoder.OnLoss();  // the last frame's payload never completed
      return;
    }
    p.open = true;
    std::memcpy(p.header, item.header, sizeof(p.header));
    p.truncated = item.truncated != 0;
    p.want = PayloadWanted(item.header);
    p.ts_ns = ev.ts_ns;
    if (item.len == p.want) {  // the whole payload: no copy
      return Finish(c, side, ev, absl::string_view(bytes, item.len), out);
    }
    p.payload.assign(bytes, item.len);
    if (item.len > p.want) {
      c.decoder.OnLoss();
      return;
    }
  }
  if (p.payload.size() == p.want) Finish(c, side, ev, p.payload, out);
}

void EventStream::Finish(Conn& c, int side, const rl_h2_event& ev,
                         absl::string_view payload, std::vector<Counted>* out) {
  Conn::Pending& p = c.pending[side];
  FrameEvent f;
  f.direction =
      side == 0 ? Direction::kClientToServer : Direction::kServerToClient;
  f.timestamp_ns = p.ts_ns;
  f.type = p.header[3];
  f.flags = p.header[4];
  f.length =
      uint32_t{p.header[0]} << 16 | uint32_t{p.header[1]} << 8 | p.header[2];
  f.stream_id = (uint32_t{p.header[5]} << 24 | uint32_t{p.header[6]} << 16 |
                 uint32_t{p.header[7]} << 8 | p.header[8]) &
                0x7fffffff;
  f.payload = payload;
  f.truncated = p.truncated;
  done_.clear();
  c.decoder.OnFrame(f, &done_);
  p.open = false;
  p.payload.clear();
  for (const CompletedRequest& r : done_) Count(r, ev.key, out);
}

void EventStream::Count(const CompletedRequest& r, const rl_l7_key& labels,
                        std::vector<Counted>* out) {
  Counted n;
  n.key = labels;
  if (r.is_grpc) {
    n.key.proto = RL_L7_PROTO_GRPC;
    n.key.outcome = GrpcOutcome(r);
    // A method the server does not know, or a call with no answer, takes
    // no place in the label budget: a scanner cannot use it up.
    const bool unanswered = n.key.outcome == kGrpcUnimplemented ||
                            n.key.outcome == RL_GRPC_OUT_RESET ||
                            n.key.outcome == 0;
    const std::string label = r.grpc_service.empty() || unanswered
                                  ? std::string(GrpcOperations::kOther)
                                  : grpc_.Label(r.grpc_service, r.grpc_method);
    n.key.op = GrpcMethodId(label);
  } else {
    n.key.proto = RL_L7_PROTO_H2;
    n.key.op = MethodCode(r.method);
    n.key.outcome = r.status >= 100 && r.status < 600
                        ? static_cast<uint8_t>(r.status / 100)
                    : r.reset ? RL_H2_OUT_RESET
                              : 0;
  }
  n.timed = r.start_ns != 0;
  n.duration_ns = r.DurationNs();
  out->push_back(n);
}

void EventStream::CheckDesync(Conn& c) {
  if (c.told || !c.decoder.desynced()) return;
  c.told = true;
  ++counts_.desynced;
  counts_.abandoned_streams += c.decoder.abandoned_streams();
}

StreamCounts EventStream::counts() const {
  StreamCounts out = counts_;
  out.connections = conns_.size();
  for (const Conn& c : lru_) {
    out.dropped_streams += c.decoder.dropped_streams();
    out.unpaired_responses += c.decoder.unpaired_responses();
  }
  return out;
}

}  // namespace redline::h2
