#include "agent/h2/hpack_scan.h"

namespace redline::h2 {
namespace {

// An integer with an N-bit prefix (RFC 7541 section 5.1) at `*pos`; the
// prefix byte's other bits are the caller's.
bool ReadInt(absl::string_view b, size_t* pos, int prefix_bits, uint64_t* out) {
  if (*pos >= b.size()) return false;
  const uint64_t max = (1u << prefix_bits) - 1;
  uint64_t v = static_cast<uint8_t>(b[*pos]) & max;
  ++*pos;
  if (v < max) {
    *out = v;
    return true;
  }
  for (int shift = 0; shift <= 28; shift += 7) {
    if (*pos >= b.size()) return false;
    const uint8_t c = static_cast<uint8_t>(b[*pos]);
    ++*pos;
    v += static_cast<uint64_t>(c & 0x7f) << shift;
    if ((c & 0x80) == 0) {
      *out = v;
      return v <= UINT32_MAX;
    }
  }
  return false;  // longer than any 32-bit value needs
}

// A string literal (section 5.2) at `*pos`: H bit, 7-bit prefix length.
bool ReadString(absl::string_view b, size_t* pos, bool* huffman,
                absl::string_view* bytes) {
  if (*pos >= b.size()) return false;
  *huffman = (static_cast<uint8_t>(b[*pos]) & 0x80) != 0;
  uint64_t len = 0;
  if (!ReadInt(b, pos, 7, &len) || len > b.size() - *pos) return false;
  *bytes = b.substr(*pos, len);
  *pos += len;
  return true;
}

}  // namespace

bool ScanField(absl::string_view block, size_t pos, FieldExtent* out) {
  if (pos >= block.size()) return false;
  const size_t start = pos;
  const uint8_t first = static_cast<uint8_t>(block[pos]);
  *out = FieldExtent{};
  int prefix = 0;
  if (first & 0x80) {
    out->kind = FieldExtent::kIndexed;
    prefix = 7;
  } else if (first & 0x40) {
    out->kind = FieldExtent::kLiteralIndexed;
    prefix = 6;
  } else if (first & 0x20) {
    out->kind = FieldExtent::kTableSizeUpdate;
    prefix = 5;
  } else {
    out->kind = FieldExtent::kLiteralNotIndexed;
    prefix = 4;
  }
  if (!ReadInt(block, &pos, prefix, &out->index)) return false;
  if (out->kind == FieldExtent::kLiteralIndexed ||
      out->kind == FieldExtent::kLiteralNotIndexed) {
    bool value_huffman = false;
    absl::string_view value;
    if (out->index == 0 &&
        !ReadString(block, &pos, &out->name_huffman, &out->name)) {
      return false;
    }
    if (!ReadString(block, &pos, &value_huffman, &value)) return false;
  }
  out->size = pos - start;
  return true;
}

}  // namespace redline::h2
