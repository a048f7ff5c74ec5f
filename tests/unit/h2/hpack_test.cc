// The inflater against RFC 7541 Appendix C: the exact example blocks, in
// order on one decoder each (the dynamic table carries over), checked on
// the fields redline keeps and on the table the others leave behind.
#include "agent/h2/hpack.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace redline::h2 {
namespace {

std::string Hex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

std::string Field(const HeaderFields& h, absl::string_view name) {
  const std::string* v = h.Find(name);
  return v == nullptr ? "<none>" : *v;
}

// C.3 and C.4: three requests; C.4 is C.3 with Huffman-coded strings.
void CheckRequests(HpackDecoder& d, absl::string_view b1, absl::string_view b2,
                   absl::string_view b3) {
  auto r1 = d.Decode(Hex(b1));
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(Field(*r1, ":method"), "GET");
  EXPECT_EQ(Field(*r1, ":path"), "/");
  EXPECT_EQ(r1->size(), 2u);  // :scheme and :authority are not kept
  EXPECT_EQ(d.dynamic_table_size(), 57u);
  EXPECT_EQ(d.dynamic_table_entries(), 1u);

  auto r2 = d.Decode(Hex(b2));
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(Field(*r2, ":method"), "GET");
  EXPECT_EQ(Field(*r2, ":path"), "/");
  EXPECT_EQ(d.dynamic_table_size(), 110u);
  EXPECT_EQ(d.dynamic_table_entries(), 2u);

  auto r3 = d.Decode(Hex(b3));
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_EQ(Field(*r3, ":method"), "GET");
  EXPECT_EQ(Field(*r3, ":path"), "/index.html");
  EXPECT_EQ(d.dynamic_table_size(), 164u);
  EXPECT_EQ(d.dynamic_table_entries(), 3u);
}

TEST(Hpack, Rfc7541C3RequestsWithoutHuffman) {
  HpackDecoder d;
  CheckRequests(d, "828684410f7777772e6578616d706c652e636f6d",
                "828684be58086e6f2d6361636865",
                "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565");
}

TEST(Hpack, Rfc7541C4RequestsWithHuffman) {
  HpackDecoder d;
  CheckRequests(d, "828684418cf1e3c2e5f23a6ba0ab90f4ff",
                "828684be5886a8eb10649cbf",
                "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf");
}

// A dynamic table size update to 256 (RFC 7541 section 6.3, 5-bit prefix:
// 31 + 225), which an HTTP/2 encoder must send first once its peer lowered
// SETTINGS_HEADER_TABLE_SIZE to 256; the RFC's C.5/C.6 encoder just
// starts out at 256.
constexpr absl::string_view kUpdateTo256 = "3fe101";

// C.5 and C.6: three responses, table size 256, evicting as they go.
void CheckResponses(absl::string_view b1, absl::string_view b2,
                    absl::string_view b3) {
  HpackDecoder d;
  ASSERT_TRUE(d.ChangeTableSize(256).ok());
  auto r1 = d.Decode(Hex(std::string(kUpdateTo256) + std::string(b1)));
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(Field(*r1, ":status"), "302");
  EXPECT_EQ(r1->size(), 1u);
  EXPECT_EQ(d.dynamic_table_size(), 222u);
  EXPECT_EQ(d.dynamic_table_entries(), 4u);

  // ":status: 307" evicts ":status: 302".
  auto r2 = d.Decode(Hex(b2));
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(Field(*r2, ":status"), "307");
  EXPECT_EQ(d.dynamic_table_size(), 222u);
  EXPECT_EQ(d.dynamic_table_entries(), 4u);

  // date, content-encoding and set-cookie evict all but one.
  auto r3 = d.Decode(Hex(b3));
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_EQ(Field(*r3, ":status"), "200");
  EXPECT_EQ(d.dynamic_table_size(), 215u);
  EXPECT_EQ(d.dynamic_table_entries(), 3u);
}

TEST(Hpack, Rfc7541C5ResponsesWithoutHuffman) {
  CheckResponses(
      "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032"
      "303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e63"
      "6f6d",
      "4803333037c1c0bf",
      "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c0"
      "5a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157"
      "454f49553b206d61782d6167653d333630303b2076657273696f6e3d31");
}

TEST(Hpack, Rfc7541C6ResponsesWithHuffman) {
  CheckResponses(
      "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1b"
      "ff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
      "4883640effc1c0bf",
      "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad"
      "94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065"
      "c003ed4ee5b1063d5007");
}

TEST(Hpack, LoweredLimitRequiresTheEncodersUpdate) {
  HpackDecoder d;
  ASSERT_TRUE(d.ChangeTableSize(256).ok());
  // C.5.1 without the size update: the encoder ignored the new limit.
  auto r = d.Decode(Hex("4803333032580770726976617465"));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(d.usable());
}

TEST(Hpack, ErrorLeavesTheDecoderUnusable) {
  HpackDecoder d;
  // Index 70 into an empty dynamic table.
  auto bad = d.Decode(Hex("c6"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("decode no more"), std::string::npos);
  EXPECT_FALSE(d.usable());
  // Even a valid block is refused now: the table may be wrong.
  EXPECT_FALSE(d.Decode(Hex("82")).ok());
  EXPECT_FALSE(d.ChangeTableSize(4096).ok());
}

TEST(Hpack, BlockCutInsideAFieldIsAnError) {
  HpackDecoder d;
  // C.3.1 without its last byte.
  auto r = d.Decode(Hex("828684410f7777772e6578616d706c652e636f"));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(d.usable());
}

TEST(Hpack, KeepsOnlyTheFieldsItNeedsBoundedAndFirstOnly) {
  HpackDecoder d;
  // Literal without indexing, new names: "grpc-status: 14",
  // "grpc-status: 3", "x-a: b", then ":path" (index 4) with a long value.
  std::string block =
      Hex("000b677270632d737461747573023134"
          "000b677270632d7374617475730133");
  block += Hex("0003782d610162");
  // :path (index 4), value length 300: 127 + 173 (0xad 0x01).
  block += Hex("047fad01") + std::string(300, 'p');
  auto r = d.Decode(block);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Field(*r, "grpc-status"), "14");
  EXPECT_EQ(Field(*r, "x-a"), "<none>");
  EXPECT_EQ(Field(*r, ":path").size(), kMaxHeaderValue);
  EXPECT_EQ(r->size(), 2u);
}

// Fields that change no table and are not kept are stepped over, not
// inflated (a server's date, content-length...); what is kept and the
// table come out the same.
TEST(Hpack, StepsOverDroppedFieldsKeepingTheRest) {
  HpackDecoder d;
  // :status 200; server, date (index 33, 4-bit prefix 15 + 18) and
  // content-length literal without indexing; content-type kept; a
  // never-indexed "password" (C.2.3); then x-a added to the table.
  std::string block = Hex("88"
                          "0f2705") +
                      "nginx";
  block += Hex("0f121d") + "Thu, 03 Dec 2026 17:00:00 GMT";
  block += Hex("0f100a") + "text/plain";
  block += Hex("0f0d0132");
  block += Hex("100870617373776f726406736563726574");
  block += Hex("4003782d610162");
  auto r = d.Decode(block);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Field(*r, ":status"), "200");
  EXPECT_EQ(Field(*r, "content-type"), "text/plain");
  EXPECT_EQ(r->size(), 2u);
  EXPECT_EQ(d.dynamic_table_size(), 32u + 3 + 1);
  // The next block refers to x-a (62) and steps over it by index.
  auto r2 = d.Decode(Hex("be88"));
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(Field(*r2, ":status"), "200");
  EXPECT_EQ(r2->size(), 1u);
}

TEST(Hpack, IndexIntoEntriesAddedEarlierInTheSameBlock) {
  HpackDecoder d;
  // y-b: c, then :path: /ab (62), y-b (63).
  ASSERT_TRUE(d.Decode(Hex("4003792d620163"
                           "44032f6162"))
                  .ok());
  // x-a: b moves them to 63 and 64: index 63 is :path now, kept, where
  // the table before this block's first field had y-b.
  auto r =
      d.Decode(Hex("4003782d610162"
                   "bf"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Field(*r, ":path"), "/ab");
}

TEST(Hpack, SizeUpdateAfterASteppedOverFieldIsAnError) {
  HpackDecoder d;
  // content-length, then an update: RFC 7541 section 4.2 allows updates
  // only at the start of a block.
  auto r =
      d.Decode(Hex("0f0d0132"
                   "3fe101"));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(d.usable());
}

TEST(Hpack, LoweredLimitRequiresTheUpdateBeforeAnyField) {
  HpackDecoder d;
  ASSERT_TRUE(d.ChangeTableSize(256).ok());
  // A field that would be stepped over, without the update first.
  auto r = d.Decode(Hex("0f0d0132"));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(d.usable());
}

TEST(Hpack, SteppedOverFieldCutShortIsAnError) {
  HpackDecoder d;
  auto r = d.Decode(Hex("88"
                        "0f121d") +
                    "Thu, 03 Dec");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(d.usable());
}

TEST(Hpack, MovedDecoderKeepsItsTable) {
  HpackDecoder a;
  ASSERT_TRUE(a.Decode(Hex("828684410f7777772e6578616d706c652e636f6d")).ok());
  HpackDecoder b(std::move(a));
  EXPECT_EQ(b.dynamic_table_size(), 57u);
  auto r = b.Decode(Hex("828684be58086e6f2d6361636865"));
  EXPECT_TRUE(r.ok()) << r.status();
}

// A block of indexes decodes to what the table holds when it comes: the
// same bytes after a block that changed the table are other fields.
TEST(Hpack, RepeatedBlockFollowsTheTableItRefersTo) {
  HpackDecoder d;
  ASSERT_TRUE(d.Decode(Hex("44032f6162")).ok());  // :path: /ab at 62
  // :method GET, :path (62), three times.
  for (int i = 0; i < 3; ++i) {
    auto r = d.Decode(Hex("82be"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Field(*r, ":method"), "GET");
    EXPECT_EQ(Field(*r, ":path"), "/ab");
  }
  ASSERT_TRUE(d.Decode(Hex("44032f6364")).ok());  // :path: /cd at 62
  auto r = d.Decode(Hex("82be"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Field(*r, ":path"), "/cd");
  // A block that changes the table is no repeat of itself: :path (62),
  // then :path: /xx added at 62.
  for (const char* path : {"/cd", "/xx"}) {
    auto again = d.Decode(Hex("be44032f7878"));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(Field(*again, ":path"), path);
  }
  EXPECT_EQ(d.dynamic_table_entries(), 4u);
}

// Literals without indexing leave the table alone: repeated, such a block
// decodes alike; after a lowered table size the encoder's update must come
// first, repeat or not.
TEST(Hpack, RepeatedBlockAfterATableSizeChange) {
  HpackDecoder d;
  ASSERT_TRUE(d.Decode(Hex("44032f6162")).ok());
  const std::string block =
      Hex("0f0d0132"  // content-length: 2
          "be");
  for (int i = 0; i < 2; ++i) {
    auto r = d.Decode(block);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Field(*r, ":path"), "/ab");
  }
  ASSERT_TRUE(d.ChangeTableSize(0).ok());
  EXPECT_FALSE(d.Decode(block).ok());
  EXPECT_FALSE(d.usable());
}

}  // namespace
}  // namespace redline::h2
