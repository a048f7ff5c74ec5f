#include "agent/probes/go_binary.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace redline {
namespace {

TEST(ReturnOffsets, X86FindsRetsByDecodingNotByByteSearch) {
  const std::vector<uint8_t> code = {
      0xb8, 0xc3, 0x00, 0x00, 0x00,  // 0: mov eax, 0xc3 (a 0xc3 byte)
      0x48, 0x85, 0xc0,              // 5: test rax, rax
      0x74, 0x01,                    // 8: je +1
      0xc3,                          // 10: ret
      0x48, 0x83, 0xc4, 0x08,        // 11: add rsp, 8
      0xc3,                          // 15: ret
      0xcc, 0xcc,                    // 16: int3 padding
  };
  auto r = ReturnOffsets(code, GoArch::kX86_64);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, (std::vector<uint64_t>{10, 15}));
}

TEST(ReturnOffsets, Arm64) {
  const std::vector<uint8_t> code = {
      0xfd, 0x7b, 0xbf, 0xa9,  // 0: stp x29, x30, [sp, #-16]!
      0xc0, 0x03, 0x5f, 0xd6,  // 4: ret
      0x1f, 0x20, 0x03, 0xd5,  // 8: nop
      0xc0, 0x03, 0x5f, 0xd6,  // 12: ret
  };
  auto r = ReturnOffsets(code, GoArch::kArm64);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, (std::vector<uint64_t>{4, 12}));
}

TEST(ReturnOffsets, NoReturnIsAnError) {
  const std::vector<uint8_t> code = {0x90, 0x90, 0xeb, 0xfe};  // nop; jmp $
  EXPECT_FALSE(ReturnOffsets(code, GoArch::kX86_64).ok());
}

TEST(GoVersion, InlineBuildInfo) {
  std::vector<uint8_t> s(32, 0);
  const char magic[] = "\xff Go buildinf:";
  std::copy(magic, magic + 14, s.begin());
  s[14] = 8;
  s[15] = 2;
  const std::string v = "go1.19.8";
  s.push_back(static_cast<uint8_t>(v.size()));
  s.insert(s.end(), v.begin(), v.end());
  s.push_back(0);
  EXPECT_EQ(GoVersionFromBuildInfo(s), "go1.19.8");
  s[15] = 0;  // pointer form: not inline
  EXPECT_EQ(GoVersionFromBuildInfo(s), "");
  s[0] = 0;
  EXPECT_EQ(GoVersionFromBuildInfo(s), "");
}

TEST(GoVersion, RegisterAbiFrom117) {
  EXPECT_TRUE(GoHasRegisterAbi("go1.17"));
  EXPECT_TRUE(GoHasRegisterAbi("go1.19.8"));
  EXPECT_TRUE(GoHasRegisterAbi("go1.22rc1"));
  EXPECT_TRUE(GoHasRegisterAbi("go1.100"));
  EXPECT_FALSE(GoHasRegisterAbi("go1.16.15"));
  EXPECT_FALSE(GoHasRegisterAbi("go1.9"));
  EXPECT_FALSE(GoHasRegisterAbi("devel +abc"));
  EXPECT_FALSE(GoHasRegisterAbi(""));
}

}  // namespace
}  // namespace redline
