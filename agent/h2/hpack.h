// HPACK (RFC 7541) decoding of one direction of an HTTP/2 connection, over
// libnghttp2's inflater: the dynamic table makes every header block depend
// on all the earlier ones, so every block must go through, in order, even
// when none of its fields is kept.
#ifndef REDLINE_AGENT_H2_HPACK_H_
#define REDLINE_AGENT_H2_HPACK_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct nghttp2_hd_inflater;

namespace redline::h2 {

struct FieldExtent;

// Longest value kept; longer ones are cut there (a :path can be long).
inline constexpr size_t kMaxHeaderValue = 256;

// True for the names HeaderFields keeps.
bool IsKept(absl::string_view name);

// The fields redline reads from a header block: `:method`, `:status`,
// `:path`, `content-type`, `grpc-status` (names lower case, as HTTP/2
// sends them), each at most once (the first), values at most
// kMaxHeaderValue bytes. Every other field is inflated and dropped.
class HeaderFields {
 public:
  // The value of `name`, or nullptr when the block did not carry it.
  const std::string* Find(absl::string_view name) const;
  size_t size() const { return fields_.size(); }
  const std::pair<std::string, std::string>& operator[](size_t i) const {
    return fields_[i];
  }
  // Keeps (name, value) if it is one of the fields above and not yet seen.
  void MaybeAdd(absl::string_view name, absl::string_view value);

 private:
  absl::InlinedVector<std::pair<std::string, std::string>, 5> fields_;
};

class HpackDecoder {
 public:
  HpackDecoder();
  ~HpackDecoder();
  HpackDecoder(HpackDecoder&& other) noexcept;
  HpackDecoder& operator=(HpackDecoder&& other) noexcept;
  HpackDecoder(const HpackDecoder&) = delete;
  HpackDecoder& operator=(const HpackDecoder&) = delete;

  // Decodes one complete header block (a HEADERS or PUSH_PROMISE fragment
  // with its CONTINUATION fragments, concatenated). An error (a malformed
  // block, a table size update above the allowed maximum) leaves the
  // dynamic table unknowable: this and every later call fail.
  absl::StatusOr<HeaderFields> Decode(absl::string_view block);

  // The SETTINGS_HEADER_TABLE_SIZE the encoder now obeys (RFC 7541 section
  // 4.2): a size below the current one requires the encoder's next block
  // to start with a dynamic table size update. Call between blocks only.
  absl::Status ChangeTableSize(uint32_t settings_max);

  // False after any error: the decoder cannot follow the encoder any more.
  bool usable() const { return inflater_ != nullptr && error_.ok(); }
  // Bytes in the dynamic table (RFC 7541 section 4.1: 32 per entry plus
  // name and value), and its entries (for tests).
  size_t dynamic_table_size() const;
  size_t dynamic_table_entries() const;

 private:
  // Feeds `bytes`, whole field representations of a block of
  // `block_size`, to the inflater; `final` for the block's last piece.
  absl::Status Inflate(absl::string_view bytes, bool final, size_t block_size,
                       HeaderFields* fields);
  // True for a field that leaves the dynamic table alone and is not kept.
  bool Skippable(const FieldExtent& f);

  nghttp2_hd_inflater* inflater_ = nullptr;
  absl::Status error_;  // the first error, returned again by later calls
  bool feed_all_ = false;  // the next block must reach libnghttp2 whole
  // The last block, if it left the dynamic table as it found it (indexed
  // fields and literals without indexing only: a client's repeated
  // request, once its fields are in the table), and its fields: the same
  // bytes again, with the table as it was, decode to the same fields.
  // Cleared by any block or size change that changes the table.
  std::string memo_block_;
  HeaderFields memo_fields_;
  bool memo_valid_ = false;
};

}  // namespace redline::h2

#endif  // REDLINE_AGENT_H2_HPACK_H_
