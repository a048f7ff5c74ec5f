#include "agent/h2/frame.h"

#include <string>

#include "gtest/gtest.h"

namespace redline::h2 {
namespace {

TEST(Frame, HeadersFragmentStripsPaddingAndPriority) {
  std::string p = std::string(1, 2) + std::string(5, 'P') + "blk" + "xx";
  auto f = HeadersFragment(p, kFlagPadded | kFlagPriority);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, "blk");
  EXPECT_EQ(*HeadersFragment("blk", kFlagEndHeaders), "blk");
  EXPECT_FALSE(HeadersFragment("", kFlagPadded).ok());
  EXPECT_FALSE(HeadersFragment(std::string(1, 5) + "ab", kFlagPadded).ok());
  EXPECT_FALSE(HeadersFragment("abcd", kFlagPriority).ok());
}

TEST(Frame, PushPromiseFragmentSkipsThePromisedStream) {
  std::string p("\0\0\0\2blk", 7);  // the view returned points into it
  auto f = PushPromiseFragment(p, 0);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, "blk");
  EXPECT_FALSE(PushPromiseFragment("abc", 0).ok());
}

TEST(Frame, SettingsHeaderTableSizeLastWins) {
  std::string one("\0\1\0\0\1\0", 6);  // 256
  std::string push("\0\2\0\0\0\0", 6);
  std::string two("\0\1\0\0\0\0", 6);  // 0
  EXPECT_EQ(SettingsHeaderTableSize(push)->has_value(), false);
  EXPECT_EQ(**SettingsHeaderTableSize(one + push), 256u);
  EXPECT_EQ(**SettingsHeaderTableSize(one + two), 0u);
  EXPECT_FALSE(SettingsHeaderTableSize("12345").ok());
}

TEST(Frame, RstStreamErrorCode) {
  EXPECT_EQ(*RstStreamErrorCode(std::string("\0\0\0\x08", 4)), 8u);
  EXPECT_FALSE(RstStreamErrorCode("abc").ok());
}

}  // namespace
}  // namespace redline::h2
