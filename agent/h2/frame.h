// One HTTP/2 frame as the kernel forwards it (RFC 7540 section 4.1: the
// 9-byte frame header, decoded, plus as much of the payload as was copied),
// and the pure parsers of the payloads the decoder reads.
#ifndef REDLINE_AGENT_H2_FRAME_H_
#define REDLINE_AGENT_H2_FRAME_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace redline::h2 {

// Who sent the frame: the side that opened the connection is the client.
enum class Direction : uint8_t { kClientToServer = 0, kServerToClient = 1 };

// Frame types (RFC 7540 section 6) the decoder reads; others are ignored.
inline constexpr uint8_t kFrameData = 0x0;
inline constexpr uint8_t kFrameHeaders = 0x1;
inline constexpr uint8_t kFrameRstStream = 0x3;
inline constexpr uint8_t kFrameSettings = 0x4;
inline constexpr uint8_t kFramePushPromise = 0x5;
inline constexpr uint8_t kFrameContinuation = 0x9;

// Flags. END_STREAM and ACK share a bit, told apart by the frame type.
inline constexpr uint8_t kFlagEndStream = 0x1;
inline constexpr uint8_t kFlagAck = 0x1;
inline constexpr uint8_t kFlagEndHeaders = 0x4;
inline constexpr uint8_t kFlagPadded = 0x8;
inline constexpr uint8_t kFlagPriority = 0x20;

// SETTINGS_HEADER_TABLE_SIZE (RFC 7540 section 6.5.2).
inline constexpr uint16_t kSettingsHeaderTableSize = 0x1;

struct FrameEvent {
  Direction direction = Direction::kClientToServer;
  uint64_t timestamp_ns = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream_id = 0;  // the reserved bit already cleared
  uint32_t length = 0;     // the payload length the frame header declares
  // The copied payload: all `length` bytes, or fewer when `truncated`
  // (DATA frames come without payload). Only valid during the call.
  absl::string_view payload;
  bool truncated = false;
};

// The header block fragment of a complete HEADERS payload: the pad length
// byte, padding (PADDED) and the 5-byte priority fields (PRIORITY) removed.
// An error when they do not fit the payload (a protocol error).
absl::StatusOr<absl::string_view> HeadersFragment(absl::string_view payload,
                                                  uint8_t flags);

// The same for PUSH_PROMISE: pad length, the 4-byte promised stream id and
// padding removed.
absl::StatusOr<absl::string_view> PushPromiseFragment(absl::string_view payload,
                                                      uint8_t flags);

// The last SETTINGS_HEADER_TABLE_SIZE of a SETTINGS payload (the last wins,
// RFC 7540 section 6.5.3), nullopt when absent; an error when the payload
// is not a whole number of 6-byte settings.
absl::StatusOr<std::optional<uint32_t>> SettingsHeaderTableSize(
    absl::string_view payload);

// The error code of a RST_STREAM payload; an error unless it is 4 bytes.
absl::StatusOr<uint32_t> RstStreamErrorCode(absl::string_view payload);

}  // namespace redline::h2

#endif  // REDLINE_AGENT_H2_FRAME_H_
