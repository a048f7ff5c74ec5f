#include "agent/h2/hpack.h"

#include <nghttp2/nghttp2.h>

#include <array>

#include "absl/strings/str_format.h"

namespace redline::h2 {
namespace {

constexpr std::array<absl::string_view, 5> kKept = {
    ":method", ":status", ":path", "content-type", "grpc-status"};
// MaybeAdd's first-byte test.
static_assert([] {
  for (absl::string_view k : kKept) {
    if (k[0] != ':' && k[0] != 'c' && k[0] != 'g') return false;
  }
  return true;
}());

// The static table holds 61 entries; nghttp2 numbers the dynamic ones
// after them.
constexpr size_t kStaticEntries = 61;

}  // namespace

const std::string* HeaderFields::Find(absl::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (n == name) return &v;
  }
  return nullptr;
}

void HeaderFields::MaybeAdd(absl::string_view name, absl::string_view value) {
  // Most fields are none of kKept: tell by the first byte, then compare.
  if (name.empty() || (name[0] != ':' && name[0] != 'c' && name[0] != 'g')) {
    return;
  }
  bool wanted = false;
  for (absl::string_view k : kKept) wanted = wanted || k == name;
  if (!wanted || Find(name) != nullptr) return;
  fields_.emplace_back(std::string(name),
                       std::string(value.substr(0, kMaxHeaderValue)));
}

HpackDecoder::HpackDecoder() {
  if (nghttp2_hd_inflate_new2(&inflater_, nullptr) != 0) {
    inflater_ = nullptr;
    error_ = absl::ResourceExhaustedError(
        "out of memory creating the HPACK inflater; the connection cannot "
        "be decoded");
  }
}

HpackDecoder::~HpackDecoder() {
  if (inflater_ != nullptr) nghttp2_hd_inflate_del(inflater_);
}

HpackDecoder::HpackDecoder(HpackDecoder&& other) noexcept
    : inflater_(other.inflater_), error_(std::move(other.error_)) {
  other.inflater_ = nullptr;
  other.error_ = absl::FailedPreconditionError("moved-from HPACK decoder");
}

HpackDecoder& HpackDecoder::operator=(HpackDecoder&& other) noexcept {
  if (this != &other) {
    if (inflater_ != nullptr) nghttp2_hd_inflate_del(inflater_);
    inflater_ = other.inflater_;
    error_ = std::move(other.error_);
    other.inflater_ = nullptr;
    other.error_ = absl::FailedPreconditionError("moved-from HPACK decoder");
  }
  return *this;
}

absl::StatusOr<HeaderFields> HpackDecoder::Decode(absl::string_view block) {
  if (!usable()) return error_;
  HeaderFields fields;
  const auto* in = reinterpret_cast<const uint8_t*>(block.data());
  size_t left = block.size();
  for (;;) {
    nghttp2_nv nv;
    int flags = 0;
    ssize_t n = nghttp2_hd_inflate_hd2(inflater_, &nv, &flags, in, left,
                                       /*in_final=*/1);
    if (n < 0) {
      error_ = absl::DataLossError(absl::StrFormat(
          "HPACK block of %d bytes does not decode (%s): the dynamic table "
          "is lost, decode no more blocks of this connection",
          block.size(), nghttp2_strerror(static_cast<int>(n))));
      return error_;
    }
    in += n;
    left -= static_cast<size_t>(n);
    if (flags & NGHTTP2_HD_INFLATE_EMIT) {
      fields.MaybeAdd(
          absl::string_view(reinterpret_cast<const char*>(nv.name), nv.namelen),
          absl::string_view(reinterpret_cast<const char*>(nv.value),
                            nv.valuelen));
    }
    if (flags & NGHTTP2_HD_INFLATE_FINAL) {
      nghttp2_hd_inflate_end_headers(inflater_);
      return fields;
    }
    if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && left == 0) {
      // All input consumed, final given, yet no end: a field cut short.
      error_ = absl::DataLossError(
          "HPACK block ends inside a field: the dynamic table is lost, "
          "decode no more blocks of this connection");
      return error_;
    }
  }
}

absl::Status HpackDecoder::ChangeTableSize(uint32_t settings_max) {
  if (!usable()) return error_;
  int rv = nghttp2_hd_inflate_change_table_size(inflater_, settings_max);
  if (rv != 0) {
    error_ = absl::InternalError(absl::StrFormat(
        "HPACK table size change to %d failed (%s): call it between "
        "blocks only",
        settings_max, nghttp2_strerror(rv)));
  }
  return error_;
}

size_t HpackDecoder::dynamic_table_size() const {
  return inflater_ == nullptr
             ? 0
             : nghttp2_hd_inflate_get_dynamic_table_size(inflater_);
}

size_t HpackDecoder::dynamic_table_entries() const {
  return inflater_ == nullptr
             ? 0
             : nghttp2_hd_inflate_get_num_table_entries(inflater_) -
                   kStaticEntries;
}

}  // namespace redline::h2
