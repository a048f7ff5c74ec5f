// Field boundaries of HPACK blocks (RFC 7541 section 6), from the RFC's
// own examples and hand-made edges.
#include "agent/h2/hpack_scan.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace redline::h2 {
namespace {

std::string Hex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

TEST(HpackScan, Rfc7541C2Kinds) {
  FieldExtent f;
  // C.2.1: literal with indexing, literal name "custom-key".
  std::string b = Hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572");
  ASSERT_TRUE(ScanField(b, 0, &f));
  EXPECT_EQ(f.kind, FieldExtent::kLiteralIndexed);
  EXPECT_EQ(f.size, b.size());
  EXPECT_EQ(f.index, 0u);
  EXPECT_EQ(f.name, "custom-key");
  EXPECT_FALSE(f.name_huffman);
  // C.2.2: literal without indexing, name index 4 (:path).
  b = Hex("040c2f73616d706c652f70617468");
  ASSERT_TRUE(ScanField(b, 0, &f));
  EXPECT_EQ(f.kind, FieldExtent::kLiteralNotIndexed);
  EXPECT_EQ(f.size, b.size());
  EXPECT_EQ(f.index, 4u);
  // C.2.3: never indexed, literal name "password".
  b = Hex("100870617373776f726406736563726574");
  ASSERT_TRUE(ScanField(b, 0, &f));
  EXPECT_EQ(f.kind, FieldExtent::kLiteralNotIndexed);
  EXPECT_EQ(f.size, b.size());
  EXPECT_EQ(f.name, "password");
  // C.2.4: indexed, 2 (:method GET).
  ASSERT_TRUE(ScanField(Hex("82"), 0, &f));
  EXPECT_EQ(f.kind, FieldExtent::kIndexed);
  EXPECT_EQ(f.size, 1u);
  EXPECT_EQ(f.index, 2u);
}

TEST(HpackScan, MultiByteIntegersAndHuffmanNames) {
  FieldExtent f;
  // A table size update to 256: 31 + 225.
  ASSERT_TRUE(ScanField(Hex("3fe101"), 0, &f));
  EXPECT_EQ(f.kind, FieldExtent::kTableSizeUpdate);
  EXPECT_EQ(f.index, 256u);
  EXPECT_EQ(f.size, 3u);
  // C.4.3's last field: Huffman name and value, after "828785bf".
  std::string b = Hex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf");
  ASSERT_TRUE(ScanField(b, 4, &f));
  EXPECT_EQ(f.kind, FieldExtent::kLiteralIndexed);
  EXPECT_TRUE(f.name_huffman);
  EXPECT_EQ(f.name.size(), 8u);
  EXPECT_EQ(4 + f.size, b.size());
  // A value of 300 bytes: 127 + 173.
  b = Hex("047fad01") + std::string(300, 'p');
  ASSERT_TRUE(ScanField(b, 0, &f));
  EXPECT_EQ(f.size, b.size());
}

TEST(HpackScan, CutShortOrOversized) {
  FieldExtent f;
  std::string b = Hex("040c2f73616d706c652f70617468");
  for (size_t n = 0; n < b.size(); ++n) {
    EXPECT_FALSE(ScanField(b.substr(0, n), 0, &f)) << n;
  }
  EXPECT_FALSE(ScanField(Hex("3f"), 0, &f));  // continuation missing
  // An index past 32 bits.
  EXPECT_FALSE(ScanField(Hex("ffffffffff7f"), 0, &f));
  EXPECT_FALSE(ScanField(Hex("ffffffffffff"), 0, &f));
  EXPECT_FALSE(ScanField(b, b.size(), &f));
}

}  // namespace
}  // namespace redline::h2
