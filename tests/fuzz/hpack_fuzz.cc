// HpackDecoder against libnghttp2's inflater fed every byte, block after
// block on one connection's table: the decoder steps over fields that
// neither change the dynamic table nor are kept (agent/h2/hpack_scan.h),
// and answers a block that repeats the last one, which left the table
// alone, without decoding it again; it must still keep the same fields
// and the same table, and refuse only
// what the plain inflater refuses. (It may accept a block the plain
// inflater refuses for a field it stepped over, e.g. bad Huffman in a
// dropped value; the comparison ends there.)
//
// Input: records, each
//   0xff, then a 16-bit big-endian SETTINGS_HEADER_TABLE_SIZE, or
//   a length byte n (< 0xff), then a block of n bytes (fewer at the end).
#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "agent/h2/hpack.h"

namespace {

using redline::h2::HeaderFields;
using redline::h2::HpackDecoder;

void Check(bool ok) {
  if (!ok) abort();
}

// Every byte through the inflater; the fields HeaderFields keeps.
bool Reference(nghttp2_hd_inflater* inf, absl::string_view block,
               HeaderFields* fields) {
  const auto* in = reinterpret_cast<const uint8_t*>(block.data());
  size_t left = block.size();
  for (;;) {
    nghttp2_nv nv;
    int flags = 0;
    ssize_t n = nghttp2_hd_inflate_hd2(inf, &nv, &flags, in, left, 1);
    if (n < 0) return false;
    in += n;
    left -= static_cast<size_t>(n);
    if (flags & NGHTTP2_HD_INFLATE_EMIT) {
      fields->MaybeAdd(
          absl::string_view(reinterpret_cast<const char*>(nv.name), nv.namelen),
          absl::string_view(reinterpret_cast<const char*>(nv.value),
                            nv.valuelen));
    }
    if (flags & NGHTTP2_HD_INFLATE_FINAL) {
      nghttp2_hd_inflate_end_headers(inf);
      return true;
    }
    if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && left == 0) return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nghttp2_hd_inflater* ref = nullptr;
  if (nghttp2_hd_inflate_new(&ref) != 0) return 0;
  HpackDecoder dec;
  size_t i = 0;
  while (i < size) {
    const uint8_t op = data[i++];
    if (op == 0xff) {
      if (i + 2 > size) break;
      const uint32_t max = (uint32_t{data[i]} << 8) | data[i + 1];
      i += 2;
      const bool ref_ok = nghttp2_hd_inflate_change_table_size(ref, max) == 0;
      Check(dec.ChangeTableSize(max).ok() == ref_ok);
      if (!ref_ok) break;
      continue;
    }
    const size_t n = op < size - i ? op : size - i;
    absl::string_view block(reinterpret_cast<const char*>(data + i), n);
    i += n;
    HeaderFields want;
    const bool ref_ok = Reference(ref, block, &want);
    auto got = dec.Decode(block);
    if (!ref_ok) break;  // the decoder may or may not have seen why
    Check(got.ok());
    Check(got->size() == want.size());
    for (size_t k = 0; k < want.size(); ++k) {
      Check(got->operator[](k) == want[k]);
    }
    Check(dec.dynamic_table_size() ==
          nghttp2_hd_inflate_get_dynamic_table_size(ref));
    Check(dec.dynamic_table_entries() + 61 ==
          nghttp2_hd_inflate_get_num_table_entries(ref));
  }
  nghttp2_hd_inflate_del(ref);
  return 0;
}
