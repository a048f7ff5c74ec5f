#include "agent/h2/connection.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace redline::h2 {
namespace {

// A header block (HEADERS or PUSH_PROMISE plus CONTINUATIONs) above this is
// not followed: memory per connection stays bounded.
constexpr size_t kMaxHeaderBlock = 256 * 1024;
// SETTINGS frames a side may leave unacknowledged before we give up.
constexpr size_t kMaxUnackedSettings = 16;

Direction Other(Direction d) {
  return d == Direction::kClientToServer ? Direction::kServerToClient
                                         : Direction::kClientToServer;
}

const char* Name(Direction d) {
  return d == Direction::kClientToServer ? "client" : "server";
}

}  // namespace

Connection::Connection(size_t max_streams) : max_streams_(max_streams) {}

Connection Connection::Upgraded(const H2cUpgrade& upgrade, size_t max_streams) {
  Connection c(max_streams);
  if (upgrade.client_header_table_size.has_value()) {
    c.SetTableSize(c.side(Direction::kServerToClient),
                   *upgrade.client_header_table_size);
  }
  c.max_client_stream_id_ = 1;
  if (max_streams == 0) {
    ++c.dropped_streams_;
    return c;
  }
  Stream& s = c.streams_[1];
  s.method = upgrade.method.substr(0, kMaxHeaderValue);
  s.path = upgrade.path.substr(0, kMaxHeaderValue);
  s.start_ns = upgrade.start_ns;
  return c;
}

void Connection::OnLoss() {
  if (!desynced_) Desync("events of this connection were lost");
}

void Connection::Desync(std::string reason) {
  desynced_ = true;
  desync_reason_ = std::move(reason);
  abandoned_streams_ += streams_.size() + early_.size();
  streams_.clear();
  early_.clear();
  for (Side& s : sides_) {
    s.in_block = false;
    s.block.clear();
    s.block.shrink_to_fit();
  }
}

void Connection::OnFrame(const FrameEvent& f,
                         std::vector<CompletedRequest>* out) {
  if (desynced_) return;
  Side& s = side(f.direction);
  if (s.in_block && f.type != kFrameContinuation) {
    return Desync(absl::StrFormat(
        "%s sent frame type %d on stream %d inside the header block of "
        "stream %d (RFC 7540 section 6.10 forbids it)",
        Name(f.direction), f.type, f.stream_id, s.block_stream));
  }
  if (f.type != kFrameHeaders && f.type != kFrameContinuation &&
      f.type != kFramePushPromise && f.type != kFrameSettings &&
      f.type != kFrameRstStream) {
    // DATA (the kernel forwards none: nothing in it decides a request),
    // PING, GOAWAY, WINDOW_UPDATE, PRIORITY, extensions.
    return;
  }
  if (f.truncated) {
    return Desync(absl::StrFormat(
        "frame type %d from the %s was truncated to %d of %d bytes: its "
        "content cannot be known",
        f.type, Name(f.direction), f.payload.size(), f.length));
  }
  if (f.payload.size() != f.length) {
    return Desync(absl::StrFormat(
        "frame type %d from the %s declares %d bytes but %d came, not "
        "marked truncated: the event source is broken",
        f.type, Name(f.direction), f.length, f.payload.size()));
  }
  switch (f.type) {
    case kFrameHeaders: {
      absl::StatusOr<absl::string_view> frag =
          HeadersFragment(f.payload, f.flags);
      if (!frag.ok()) return Desync(std::string(frag.status().message()));
      return OnHeaderFragment(f, *frag, out);
    }
    case kFramePushPromise: {
      if (f.direction == Direction::kClientToServer) {
        return Desync("the client sent PUSH_PROMISE (RFC 7540 section 8.2)");
      }
      absl::StatusOr<absl::string_view> frag =
          PushPromiseFragment(f.payload, f.flags);
      if (!frag.ok()) return Desync(std::string(frag.status().message()));
      return OnHeaderFragment(f, *frag, out);
    }
    case kFrameContinuation:
      return OnContinuation(f, out);
    case kFrameSettings:
      return OnSettings(f);
    case kFrameRstStream:
      return OnRstStream(f, out);
  }
}

void Connection::OnHeaderFragment(const FrameEvent& f,
                                  absl::string_view fragment,
                                  std::vector<CompletedRequest>* out) {
  if (f.stream_id == 0) {
    return Desync(absl::StrFormat(
        "%s sent a header block on stream 0 (RFC 7540 section 6.2)",
        Name(f.direction)));
  }
  Side& s = side(f.direction);
  s.in_block = true;
  s.block_type = f.type;
  s.block_flags = f.flags;
  s.block_stream = f.stream_id;
  s.block_ns = f.timestamp_ns;
  // A whole block in one frame (the usual case) decodes where it is.
  if (f.flags & kFlagEndHeaders) return FinishBlock(f.direction, fragment, out);
  s.block.assign(fragment.data(), fragment.size());
}

void Connection::OnContinuation(const FrameEvent& f,
                                std::vector<CompletedRequest>* out) {
  Side& s = side(f.direction);
  if (!s.in_block || f.stream_id != s.block_stream) {
    return Desync(absl::StrFormat(
        "%s sent CONTINUATION on stream %d without a header block in "
        "progress there (RFC 7540 section 6.10)",
        Name(f.direction), f.stream_id));
  }
  if (s.block.size() + f.payload.size() > kMaxHeaderBlock) {
    return Desync(absl::StrFormat(
        "header block of stream %d exceeds %d bytes: not followed", f.stream_id,
        kMaxHeaderBlock));
  }
  s.block.append(f.payload.data(), f.payload.size());
  if (f.flags & kFlagEndHeaders) {
    FinishBlock(f.direction, s.block, out);
    s.block.clear();
  }
}

void Connection::FinishBlock(Direction d, absl::string_view block,
                             std::vector<CompletedRequest>* out) {
  Side& s = side(d);
  s.in_block = false;
  absl::StatusOr<HeaderFields> h = s.hpack.Decode(block);
  if (!h.ok()) {
    return Desync(absl::StrFormat("%s header block of stream %d: %s", Name(d),
                                  s.block_stream, h.status().message()));
  }
  // A PUSH_PROMISE block only updates the server's dynamic table.
  if (s.block_type != kFrameHeaders) return;
  if (d == Direction::kClientToServer) {
    OnRequestHeaders(s.block_stream, s.block_ns, *h, out);
  } else {
    OnResponseHeaders(s.block_stream, s.block_flags, s.block_ns, *h, out);
  }
}

// RFC 7540 section 6.5.3: the receiver of SETTINGS applies it, then
// acknowledges it. So a table size announced by one side binds the other
// side's encoder from that side's SETTINGS ACK on, in that side's own
// frame order, which is exactly where its HPACK decoder must change. A
// larger size is allowed at once: an encoder may start using it as soon
// as it has read the SETTINGS, possibly before its ACK is on the wire, and
// a decoder whose limit is too high still decodes every valid block.
void Connection::OnSettings(const FrameEvent& f) {
  if (f.flags & kFlagAck) {
    if (!f.payload.empty()) {
      return Desync("SETTINGS ACK with a payload (RFC 7540 section 6.5)");
    }
    Side& s = side(f.direction);
    if (s.unacked_table_sizes.empty()) return;
    std::optional<uint32_t> size = s.unacked_table_sizes.front();
    s.unacked_table_sizes.pop_front();
    if (size.has_value() && *size != s.table_size_limit) {
      SetTableSize(s, *size);
    }
    return;
  }
  absl::StatusOr<std::optional<uint32_t>> size =
      SettingsHeaderTableSize(f.payload);
  if (!size.ok()) return Desync(std::string(size.status().message()));
  Side& encoder = side(Other(f.direction));
  if (encoder.unacked_table_sizes.size() >= kMaxUnackedSettings) {
    return Desync(absl::StrFormat(
        "%s left %d SETTINGS unacknowledged: its table size is not followed",
        Name(Other(f.direction)), kMaxUnackedSettings));
  }
  encoder.unacked_table_sizes.push_back(*size);
  if (size->has_value() && **size > encoder.table_size_limit) {
    SetTableSize(encoder, **size);
  }
}

void Connection::SetTableSize(Side& s, uint32_t size) {
  absl::Status st = s.hpack.ChangeTableSize(size);
  if (!st.ok()) return Desync(std::string(st.message()));
  s.table_size_limit = size;
}

}  // namespace redline::h2
