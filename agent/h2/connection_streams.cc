// Connection's streams: requests paired with their responses (also when
// the response comes first), ends, resets, and the completed request.
#include "agent/h2/connection.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "agent/h2/grpc_operations.h"

namespace redline::h2 {
namespace {

int ParseInt(const std::string* s, int none) {
  int v = 0;
  return s != nullptr && absl::SimpleAtoi(*s, &v) ? v : none;
}

}  // namespace

void Connection::OnRequestHeaders(uint32_t id, uint64_t ns,
                                  const HeaderFields& h,
                                  std::vector<CompletedRequest>* out) {
  // Client trailers, or a stream that is over or was never followed.
  if (streams_.contains(id) || id % 2 == 0 || id <= max_client_stream_id_) {
    return;
  }
  max_client_stream_id_ = id;
  // The client opens streams in id order, and its writes reach us in the
  // order it made them: a response waiting below this id will never see
  // its request; one at this id is this request's.
  Stream s;
  auto it = early_.begin();
  for (; it != early_.end() && it->first < id; it = early_.erase(it)) {
    ++unpaired_responses_;
  }
  if (it != early_.end() && it->first == id) {
    s = std::move(it->second);
    early_.erase(it);
  }
  // A request whose response ended already takes no slot.
  if (!s.ended && streams_.size() >= max_streams_) {
    ++dropped_streams_;
    return;
  }
  s.start_ns = ns;
  if (const std::string* m = h.Find(":method")) s.method = *m;
  if (const std::string* p = h.Find(":path")) s.path = *p;
  const std::string* type = h.Find("content-type");
  // grpc-web carries its status in the body, not in trailers: HTTP/2.
  s.is_grpc = type != nullptr &&
              absl::StartsWith(*type, "application/grpc") &&
              !absl::StartsWith(*type, "application/grpc-web");
  if (s.ended || CompleteAtHead(s)) {
    const uint64_t end_ns = s.ended ? s.end_ns : s.response_ns;
    const bool reset = s.reset;
    const uint32_t code = s.reset_code;
    return Complete(id, std::move(s), end_ns, reset, code, out);
  }
  streams_.emplace(id, std::move(s));
}

// Whether the final response head decides a stream (the kernel forwards no
// DATA frame, so a response's END_STREAM on DATA is never seen): a plain
// HTTP/2 request's outcome is the status class, and a gRPC call's unless
// the head is a gRPC one (200, content-type application/grpc*), whose
// outcome waits for the trailers (or a reset, or the connection's end).
bool Connection::CompleteAtHead(const Stream& s) {
  return s.response_ns != 0 && (!s.is_grpc || !s.grpc_head);
}

// Why wait for the request rather than count the response alone: the
// request HEADERS carry the method, path and content-type (HTTP/2 or
// gRPC) the request is counted under, and the usual reordering is a few
// microseconds between two CPUs, so the request comes right after. The
// bound: max_streams responses, the lowest id given up first (the first
// a later request would pass); all are freed when the connection goes.
Connection::Stream* Connection::EarlyStream(uint32_t id, bool create) {
  auto it = early_.find(id);
  if (it != early_.end()) return &it->second;
  // Only a client stream above every one opened so far can be waiting for
  // its request; the others are pushed, dropped, or over.
  if (!create || id % 2 == 0 || id <= max_client_stream_id_) return nullptr;
  if (early_.size() >= max_streams_) {
    ++unpaired_responses_;
    if (early_.empty() || id < early_.begin()->first) return nullptr;
    early_.erase(early_.begin());
  }
  return &early_[id];
}

// The server ended stream id (or either side reset it): complete it, or
// remember the end of an early response.
void Connection::End(uint32_t id, uint64_t ns, bool reset, uint32_t code,
                     std::vector<CompletedRequest>* out) {
  auto node = streams_.extract(id);
  if (!node.empty()) {
    return Complete(id, std::move(node.mapped()), ns, reset, code, out);
  }
  auto it = early_.find(id);
  if (it == early_.end() || it->second.ended) return;
  Stream& s = it->second;
  s.ended = true;
  s.end_ns = ns;
  s.reset = reset;
  s.reset_code = code;
}

void Connection::OnResponseHeaders(uint32_t id, uint8_t flags, uint64_t ns,
                                   const HeaderFields& h,
                                   std::vector<CompletedRequest>* out) {
  const std::string* status_field = h.Find(":status");
  auto it = streams_.find(id);
  // Trailers alone do not open an early response: only a response head.
  Stream* found = it != streams_.end()
                      ? &it->second
                      : EarlyStream(id, /*create=*/status_field != nullptr);
  if (found == nullptr || found->ended) return;  // pushed, dropped, over
  Stream& s = *found;
  int status = ParseInt(status_field, 0);
  // 1xx responses are interim (RFC 9110 section 15.2): the final one is
  // the response, unless the stream ends on an interim one.
  bool interim = status >= 100 && status < 200 && !(flags & kFlagEndStream);
  if (s.response_ns == 0 && status != 0 && !interim) {
    s.response_ns = ns;
    s.status = status;
    const std::string* type = h.Find("content-type");
    s.grpc_head = status == 200 && type != nullptr &&
                  absl::StartsWith(*type, "application/grpc");
  }
  s.grpc_status = ParseInt(h.Find("grpc-status"), s.grpc_status);
  // An early response waits for its request, which says whether it is
  // gRPC (OnRequestHeaders).
  if ((flags & kFlagEndStream) || (it != streams_.end() && CompleteAtHead(s))) {
    End(id, ns, false, 0, out);
  }
}

void Connection::OnRstStream(const FrameEvent& f,
                             std::vector<CompletedRequest>* out) {
  absl::StatusOr<uint32_t> code = RstStreamErrorCode(f.payload);
  if (!code.ok()) return Desync(std::string(code.status().message()));
  // The server may refuse a stream before the client's write is seen.
  if (f.direction == Direction::kServerToClient) {
    EarlyStream(f.stream_id, /*create=*/true);
  }
  End(f.stream_id, f.timestamp_ns, true, *code, out);
}

void Connection::OnClose(uint64_t ns, std::vector<CompletedRequest>* out) {
  if (desynced_) return;
  for (auto& [id, s] : streams_) {
    if (s.response_ns == 0) {
      ++unanswered_streams_;
    } else {
      Complete(id, std::move(s), ns, false, 0, out);
    }
  }
  streams_.clear();
}

void Connection::Complete(uint32_t id, Stream s, uint64_t ns, bool reset,
                          uint32_t code, std::vector<CompletedRequest>* out) {
  CompletedRequest r;
  r.stream_id = id;
  r.method = std::move(s.method);
  r.path = std::move(s.path);
  r.status = s.status;
  r.is_grpc = s.is_grpc;
  r.grpc_status = s.grpc_status;
  if (s.is_grpc) {
    if (auto parts = ParseGrpcPath(r.path)) {
      r.grpc_service = std::move(parts->service);
      r.grpc_method = std::move(parts->method);
    }
  }
  r.start_ns = s.start_ns;
  r.response_ns = s.response_ns;
  r.end_ns = ns;
  r.reset = reset;
  r.reset_error_code = code;
  out->push_back(std::move(r));
}

}  // namespace redline::h2
