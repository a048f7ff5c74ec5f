// Where each field representation of an HPACK header block (RFC 7541
// section 6) begins and ends, and what kind it is, without decoding any
// string: enough for the decoder to hand libnghttp2 only the fields that
// change the dynamic table or that redline keeps. Nothing here produces a
// header name or value; that stays libnghttp2's.
#ifndef REDLINE_AGENT_H2_HPACK_SCAN_H_
#define REDLINE_AGENT_H2_HPACK_SCAN_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace redline::h2 {

struct FieldExtent {
  enum Kind {
    kIndexed,            // 1xxxxxxx: a table entry, the table unchanged
    kLiteralIndexed,     // 01xxxxxx: a literal added to the dynamic table
    kLiteralNotIndexed,  // 0000xxxx, 0001xxxx: a literal, table unchanged
    kTableSizeUpdate,    // 001xxxxx
  };
  Kind kind;
  size_t size;             // bytes of the representation
  uint64_t index;          // the entry, or the name's (0: a literal name)
  bool name_huffman;       // a literal name is Huffman coded
  absl::string_view name;  // a literal name's bytes, as sent
};

// Reads the representation starting at `block[pos]`. False when the block
// ends inside it or an integer overflows 32 bits.
bool ScanField(absl::string_view block, size_t pos, FieldExtent* out);

}  // namespace redline::h2

#endif  // REDLINE_AGENT_H2_HPACK_SCAN_H_
