#include "agent/h2/hpack.h"

#include <nghttp2/nghttp2.h>

#include <array>

#include "absl/strings/str_format.h"
#include "agent/h2/hpack_scan.h"

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

// Longest block remembered (HpackDecoder::memo_block_): a repeated request
// is a few bytes of indexes; a connection holds two decoders.
constexpr size_t kMaxMemoBlock = 128;

}  // namespace

const std::string* HeaderFields::Find(absl::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (n == name) return &v;
  }
  return nullptr;
}

bool IsKept(absl::string_view name) {
  // Most fields are none of kKept: tell by the first byte, then compare.
  if (name.empty() || (name[0] != ':' && name[0] != 'c' && name[0] != 'g')) {
    return false;
  }
  for (absl::string_view k : kKept) {
    if (k == name) return true;
  }
  return false;
}

void HeaderFields::MaybeAdd(absl::string_view name, absl::string_view value) {
  if (!IsKept(name) || Find(name) != nullptr) return;
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
    : inflater_(other.inflater_),
      error_(std::move(other.error_)),
      feed_all_(other.feed_all_),
      memo_block_(std::move(other.memo_block_)),
      memo_fields_(std::move(other.memo_fields_)),
      memo_valid_(other.memo_valid_) {
  other.memo_valid_ = false;
  other.inflater_ = nullptr;
  other.error_ = absl::FailedPreconditionError("moved-from HPACK decoder");
}

HpackDecoder& HpackDecoder::operator=(HpackDecoder&& other) noexcept {
  if (this != &other) {
    if (inflater_ != nullptr) nghttp2_hd_inflate_del(inflater_);
    inflater_ = other.inflater_;
    error_ = std::move(other.error_);
    feed_all_ = other.feed_all_;
    memo_block_ = std::move(other.memo_block_);
    memo_fields_ = std::move(other.memo_fields_);
    memo_valid_ = other.memo_valid_;
    other.memo_valid_ = false;
    other.inflater_ = nullptr;
    other.error_ = absl::FailedPreconditionError("moved-from HPACK decoder");
  }
  return *this;
}

absl::Status HpackDecoder::Inflate(absl::string_view bytes, bool final,
                                   size_t block_size, HeaderFields* fields) {
  const auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t left = bytes.size();
  for (;;) {
    nghttp2_nv nv;
    int flags = 0;
    ssize_t n =
        nghttp2_hd_inflate_hd2(inflater_, &nv, &flags, in, left, final ? 1 : 0);
    if (n < 0) {
      error_ = absl::DataLossError(absl::StrFormat(
          "HPACK block of %d bytes does not decode (%s): the dynamic table "
          "is lost, decode no more blocks of this connection",
          block_size, nghttp2_strerror(static_cast<int>(n))));
      return error_;
    }
    in += n;
    left -= static_cast<size_t>(n);
    if (flags & NGHTTP2_HD_INFLATE_EMIT) {
      fields->MaybeAdd(
          absl::string_view(reinterpret_cast<const char*>(nv.name), nv.namelen),
          absl::string_view(reinterpret_cast<const char*>(nv.value),
                            nv.valuelen));
    }
    if (flags & NGHTTP2_HD_INFLATE_FINAL) {
      nghttp2_hd_inflate_end_headers(inflater_);
      return absl::OkStatus();
    }
    if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && left == 0) {
      if (!final) return absl::OkStatus();  // the next piece goes on
      // All input consumed, final given, yet no end: a field cut short.
      error_ = absl::DataLossError(
          "HPACK block ends inside a field: the dynamic table is lost, "
          "decode no more blocks of this connection");
      return error_;
    }
  }
}

bool HpackDecoder::Skippable(const FieldExtent& f) {
  // Only representations that leave the dynamic table as it is.
  if (f.kind != FieldExtent::kIndexed &&
      f.kind != FieldExtent::kLiteralNotIndexed) {
    return false;
  }
  absl::string_view name = f.name;
  if (f.index != 0) {
    const nghttp2_nv* e =
        nghttp2_hd_inflate_get_table_entry(inflater_, f.index);
    // No such entry: libnghttp2 reports the error.
    if (e == nullptr) return false;
    name =
        absl::string_view(reinterpret_cast<const char*>(e->name), e->namelen);
  } else if (f.kind == FieldExtent::kIndexed || f.name_huffman) {
    // Index 0 is an error; a Huffman-coded name is not compared here.
    return false;
  }
  return !IsKept(name);
}

absl::StatusOr<HeaderFields> HpackDecoder::Decode(absl::string_view block) {
  if (!usable()) return error_;
  // A client repeats its requests' fields by index: h2load's, curl's, a
  // gRPC stub's blocks are the same few bytes request after request, and
  // on loopback each is decoded twice (written, then read).
  if (memo_valid_ && !feed_all_ && block == memo_block_) return memo_fields_;
  HeaderFields fields;
  // Fields that neither change the dynamic table nor are kept (a server's
  // date, content-length, ...) are stepped over: libnghttp2 would spend
  // most of its time Huffman-decoding their values only for them to be
  // dropped. Right after a table size change the encoder's update must
  // come first, which libnghttp2 checks on the whole block.
  size_t pos = 0, run = 0;  // run: the first byte not yet fed
  bool field_seen = false;
  bool changed = false;  // bytes from run on change the dynamic table
  // Every field seen leaves the table alone (a block not scanned to its
  // end, or fed whole, is not known to).
  bool neutral = !feed_all_ && block.size() <= kMaxMemoBlock;
  memo_valid_ = false;
  while (!feed_all_ && pos < block.size()) {
    FieldExtent f;
    // A representation cut short: libnghttp2 sees it and says so.
    if (!ScanField(block, pos, &f)) break;
    neutral = neutral && f.kind != FieldExtent::kLiteralIndexed &&
              f.kind != FieldExtent::kTableSizeUpdate;
    if (f.kind == FieldExtent::kTableSizeUpdate && field_seen) {
      // RFC 7541 section 4.2: only at the start of a block. libnghttp2
      // would not know if the fields before it were stepped over.
      error_ = absl::DataLossError(absl::StrFormat(
          "HPACK block of %d bytes has a table size update after a field: "
          "the dynamic table is lost, decode no more blocks of this "
          "connection",
          block.size()));
      return error_;
    }
    field_seen = field_seen || f.kind != FieldExtent::kTableSizeUpdate;
    // A dynamic index names an entry of the table as the fields before it
    // leave it: those not yet fed that change it go in before the lookup.
    const bool lookup_after = changed && f.index > kStaticEntries &&
                              f.kind != FieldExtent::kTableSizeUpdate;
    const bool skip = !lookup_after && Skippable(f);
    if ((lookup_after || skip) && pos > run) {
      if (absl::Status s = Inflate(block.substr(run, pos - run), false,
                                   block.size(), &fields);
          !s.ok()) {
        return s;
      }
      run = pos;
      changed = false;
    }
    if (lookup_after) continue;  // the same field again, table up to date
    pos += f.size;
    if (skip) {
      run = pos;
    } else {
      changed = changed || f.kind == FieldExtent::kLiteralIndexed ||
                f.kind == FieldExtent::kTableSizeUpdate;
    }
  }
  neutral = neutral && pos == block.size();
  feed_all_ = false;
  if (absl::Status s = Inflate(block.substr(run), true, block.size(), &fields);
      !s.ok()) {
    return s;
  }
  if (neutral) {
    memo_block_.assign(block.data(), block.size());
    memo_fields_ = fields;
    memo_valid_ = true;
  }
  return fields;
}

absl::Status HpackDecoder::ChangeTableSize(uint32_t settings_max) {
  if (!usable()) return error_;
  int rv = nghttp2_hd_inflate_change_table_size(inflater_, settings_max);
  feed_all_ = true;
  memo_valid_ = false;
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
