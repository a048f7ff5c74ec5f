#include "agent/h2/frame.h"

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace redline::h2 {
namespace {

uint32_t ReadU32(absl::string_view p) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}

// Removes the pad length byte and the trailing padding, then `skip` bytes
// of fixed fields, from the front of a padded-capable payload.
absl::StatusOr<absl::string_view> Unpad(absl::string_view payload,
                                        uint8_t flags, size_t skip,
                                        const char* frame) {
  size_t pad = 0;
  if (flags & kFlagPadded) {
    if (payload.empty()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s frame is PADDED but has no pad length byte: "
                          "the peer broke RFC 7540 section 6.1",
                          frame));
    }
    pad = static_cast<uint8_t>(payload[0]);
    payload.remove_prefix(1);
  }
  if (pad + skip > payload.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s frame of %d bytes cannot hold %d bytes of padding and %d of "
        "fixed fields: a protocol error, the connection is lost to decoding",
        frame, payload.size(), pad, skip));
  }
  payload.remove_prefix(skip);
  payload.remove_suffix(pad);
  return payload;
}

}  // namespace

absl::StatusOr<absl::string_view> HeadersFragment(absl::string_view payload,
                                                  uint8_t flags) {
  return Unpad(payload, flags, (flags & kFlagPriority) ? 5 : 0, "HEADERS");
}

absl::StatusOr<absl::string_view> PushPromiseFragment(absl::string_view payload,
                                                      uint8_t flags) {
  return Unpad(payload, flags, 4, "PUSH_PROMISE");
}

absl::StatusOr<std::optional<uint32_t>> SettingsHeaderTableSize(
    absl::string_view payload) {
  if (payload.size() % 6 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "SETTINGS payload of %d bytes is not a multiple of 6 (RFC 7540 "
        "section 6.5): a protocol error",
        payload.size()));
  }
  std::optional<uint32_t> size;
  for (size_t i = 0; i < payload.size(); i += 6) {
    uint16_t id =
        static_cast<uint16_t>((static_cast<uint8_t>(payload[i]) << 8) |
                              static_cast<uint8_t>(payload[i + 1]));
    if (id == kSettingsHeaderTableSize) size = ReadU32(payload.substr(i + 2));
  }
  return size;
}

absl::StatusOr<uint32_t> RstStreamErrorCode(absl::string_view payload) {
  if (payload.size() != 4) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "RST_STREAM payload of %d bytes, not 4 (RFC 7540 section 6.4): a "
        "protocol error",
        payload.size()));
  }
  return ReadU32(payload);
}

}  // namespace redline::h2
