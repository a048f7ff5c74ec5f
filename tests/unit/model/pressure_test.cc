#include "agent/model/pressure.h"

#include "gtest/gtest.h"

namespace redline {
namespace {

TEST(ParsePressure, SomeAndFull) {
  auto p = ParsePressure(
      "io",
      "some avg10=0.00 avg60=0.16 avg300=4.73 total=287911005\n"
      "full avg10=1.00 avg60=0.00 avg300=0.00 total=12\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].resource, "io");
  EXPECT_EQ(p[0].kind, "some");
  EXPECT_EQ(p[0].total_us, 287911005u);
  EXPECT_EQ(p[1].kind, "full");
  EXPECT_EQ(p[1].total_us, 12u);
}

TEST(ParsePressure, MalformedLinesAreSkipped) {
  EXPECT_TRUE(ParsePressure("cpu", "").empty());
  EXPECT_TRUE(ParsePressure("cpu", "some avg10=0.00 total=abc\n").empty());
  EXPECT_TRUE(ParsePressure("cpu", "partial total=5\n").empty());
  EXPECT_EQ(ParsePressure("cpu", "some total=5").size(), 1u);
}

TEST(ReadPressure, MissingDirectoryIsEmpty) {
  EXPECT_TRUE(ReadPressure("/nonexistent-redline").empty());
}

}  // namespace
}  // namespace redline
