// One HTTP/2 connection, decoded from the frames the kernel forwards into
// completed requests. Two HPACK decoders, one per direction, follow the
// two encoders; streams are matched request to response by stream id.
//
// Duration: a request's duration for metrics is from its request HEADERS
// (the first frame of the client's header block) to the first HEADERS of
// its final response (not 1xx), i.e. time to response headers, which for
// a streaming call is its time to first response rather than its lifetime
// (see CompletedRequest::DurationNs). A plain HTTP/2 request is complete
// at that response head (its outcome is the status class); a gRPC call
// whose response head is a gRPC one at its end: END_STREAM on the
// server's trailers (HEADERS), RST_STREAM from either side, or the
// connection's end. The kernel forwards no DATA frame, so a stream that
// ends on DATA is not seen ending (for a gRPC call, a protocol error).
//
// The decoder never guesses: a lost event, a truncated header block or a
// protocol error makes the connection desynced for good (the HPACK state
// is unknowable from then on); it emits nothing more and its open streams
// are counted as abandoned.
//
// Events of the two directions can arrive out of order: a client's write
// is stamped when its tracepoint fires, as the write returns, by which
// time the server may have answered and another client thread read the
// answer on another CPU. A response to a stream the client has not opened
// yet is therefore kept (bounded) until its request arrives, then paired.
#ifndef REDLINE_AGENT_H2_CONNECTION_H_
#define REDLINE_AGENT_H2_CONNECTION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "agent/h2/frame.h"
#include "agent/h2/hpack.h"

namespace redline::h2 {

struct CompletedRequest {
  uint32_t stream_id = 0;
  std::string method;  // :method (empty if the block had none)
  std::string path;    // :path, at most kMaxHeaderValue bytes
  int status = 0;      // the final response's :status, 0 if none
  // The request's content-type starts with "application/grpc".
  bool is_grpc = false;
  int grpc_status = -1;  // grpc-status of trailers (or trailers-only), -1
  // From a gRPC :path "/pkg.Service/Method", each at most
  // kMaxGrpcNamePart bytes; empty when not gRPC or the path is not so.
  std::string grpc_service;
  std::string grpc_method;
  uint64_t start_ns = 0;     // the request HEADERS
  uint64_t response_ns = 0;  // the final response's HEADERS, 0 if none
  uint64_t end_ns = 0;       // END_STREAM from the server, or RST_STREAM
  bool reset = false;        // ended by RST_STREAM (from either side)
  uint32_t reset_error_code = 0;

  // Request HEADERS -> response HEADERS; for a request reset before any
  // response, request HEADERS -> the reset. 0 for a response seen before
  // its request (the request's write was stamped after the answer came).
  uint64_t DurationNs() const {
    uint64_t to = response_ns != 0 ? response_ns : end_ns;
    return to > start_ns ? to - start_ns : 0;
  }
};

// A connection upgraded from HTTP/1.1 (h2c, RFC 7540 section 3.2): the
// Upgrade request is stream 1, half-closed by the client already.
struct H2cUpgrade {
  std::string method;  // of the HTTP/1.1 request
  std::string path;
  uint64_t start_ns = 0;  // when the HTTP/1.1 request was sent
  // SETTINGS_HEADER_TABLE_SIZE from the request's HTTP2-Settings header,
  // if it carried one (acknowledged by the 101 itself, not by a frame).
  std::optional<uint32_t> client_header_table_size;
};

class Connection {
 public:
  static constexpr size_t kDefaultMaxStreams = 256;

  explicit Connection(size_t max_streams = kDefaultMaxStreams);
  // A connection whose stream 1 is `upgrade`'s request, awaiting the
  // server's response on stream 1.
  static Connection Upgraded(const H2cUpgrade& upgrade,
                             size_t max_streams = kDefaultMaxStreams);

  Connection(Connection&&) = default;
  Connection& operator=(Connection&&) = default;

  // One frame, in the order it was sent on its direction; the requests it
  // completes are appended to `out`.
  void OnFrame(const FrameEvent& frame, std::vector<CompletedRequest>* out);
  // Events of this connection were lost: desyncs it.
  void OnLoss();
  // The connection ended at ns: a call whose gRPC response head came but
  // whose trailers did not (a server that broke off, or ended on DATA
  // without trailers) completes, with no grpc-status (INTERNAL, as gRPC
  // clients report it); those with no response head are
  // unanswered_streams().
  void OnClose(uint64_t ns, std::vector<CompletedRequest>* out);

  bool desynced() const { return desynced_; }
  // Why it desynced (empty while it has not).
  const std::string& desync_reason() const { return desync_reason_; }
  // Streams ignored because max_streams were open when they started.
  uint64_t dropped_streams() const { return dropped_streams_; }
  // Streams open when the connection desynced, never completed.
  uint64_t abandoned_streams() const { return abandoned_streams_; }
  // Requests with no response head when the connection ended (OnClose).
  uint64_t unanswered_streams() const { return unanswered_streams_; }
  size_t open_streams() const { return streams_.size(); }
  // Responses whose request never came: a later request passed them (the
  // client writes its streams in order), or more than max_streams were
  // waiting. Those still waiting are early_responses(): the owner counts
  // them too when it forgets the connection.
  uint64_t unpaired_responses() const { return unpaired_responses_; }
  size_t early_responses() const { return early_.size(); }

 private:
  struct Stream {
    std::string method;
    std::string path;
    bool is_grpc = false;
    int status = 0;
    // The final response head is a gRPC one: 200, application/grpc*.
    bool grpc_head = false;
    int grpc_status = -1;
    uint64_t start_ns = 0;
    uint64_t response_ns = 0;
    // Early responses only: the server ended the stream already.
    bool ended = false;
    bool reset = false;
    uint32_t reset_code = 0;
    uint64_t end_ns = 0;
  };
  // One direction: its encoder's HPACK state and its header block in
  // progress (HEADERS or PUSH_PROMISE awaiting CONTINUATION).
  struct Side {
    HpackDecoder hpack;
    bool in_block = false;
    uint8_t block_type = 0;
    uint8_t block_flags = 0;
    uint32_t block_stream = 0;
    uint64_t block_ns = 0;
    std::string block;
    // SETTINGS_HEADER_TABLE_SIZE values the peer sent (nullopt: a SETTINGS
    // without one) that this side has not acknowledged yet, oldest first,
    // and the limit the decoder applies now.
    std::deque<std::optional<uint32_t>> unacked_table_sizes;
    uint32_t table_size_limit = 4096;
  };

  Side& side(Direction d) { return sides_[static_cast<int>(d)]; }
  void Desync(std::string reason);
  void OnHeaderFragment(const FrameEvent& f, absl::string_view fragment,
                        std::vector<CompletedRequest>* out);
  void OnContinuation(const FrameEvent& f, std::vector<CompletedRequest>* out);
  // Decodes the header block in progress on d, whose bytes are block.
  void FinishBlock(Direction d, absl::string_view block,
                   std::vector<CompletedRequest>* out);
  void OnSettings(const FrameEvent& f);
  void SetTableSize(Side& s, uint32_t size);
  void OnRequestHeaders(uint32_t id, uint64_t ns, const HeaderFields& h,
                        std::vector<CompletedRequest>* out);
  Stream* EarlyStream(uint32_t id, bool create);
  void End(uint32_t id, uint64_t ns, bool reset, uint32_t code,
           std::vector<CompletedRequest>* out);
  void OnResponseHeaders(uint32_t id, uint8_t flags, uint64_t ns,
                         const HeaderFields& h,
                         std::vector<CompletedRequest>* out);
  void OnRstStream(const FrameEvent& f, std::vector<CompletedRequest>* out);
  static bool CompleteAtHead(const Stream& s);
  static void Complete(uint32_t id, Stream s, uint64_t ns, bool reset,
                       uint32_t code, std::vector<CompletedRequest>* out);

  size_t max_streams_;
  std::array<Side, 2> sides_;
  absl::flat_hash_map<uint32_t, Stream> streams_;
  // Responses to client streams above max_client_stream_id_, by stream id
  // (ordered: the lowest is the first a later request passes).
  std::map<uint32_t, Stream> early_;
  uint32_t max_client_stream_id_ = 0;
  bool desynced_ = false;
  std::string desync_reason_;
  uint64_t dropped_streams_ = 0;
  uint64_t abandoned_streams_ = 0;
  uint64_t unanswered_streams_ = 0;
  uint64_t unpaired_responses_ = 0;
};

}  // namespace redline::h2

#endif  // REDLINE_AGENT_H2_CONNECTION_H_
