#include "agent/model/tls_libraries.h"

#include <gtest/gtest.h>

namespace redline {
namespace {

// Lines as Debian 12's kernel prints them (nginx linked against OpenSSL 3,
// a container's own copy at another inode, GnuTLS).
constexpr const char* kMaps =
    "55d0c0a00000-55d0c0a2a000 r--p 00000000 fd:01 1311 /usr/sbin/nginx\n"
    "7f1a2b000000-7f1a2b01f000 r--p 00000000 fd:01 4242 "
    "/usr/lib/x86_64-linux-gnu/libssl.so.3\n"
    "7f1a2b01f000-7f1a2b07a000 r-xp 0001f000 fd:01 4242 "
    "/usr/lib/x86_64-linux-gnu/libssl.so.3\n"
    "7f1a2c000000-7f1a2c100000 r-xp 00000000 00:2a 77 /opt/my "
    "app/libssl.so.1.1\n"
    "7f1a2d000000-7f1a2d100000 r-xp 00000000 fd:01 99 "
    "/usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3\n"
    "7f1a2e000000-7f1a2e100000 r-xp 00000000 fd:01 98 "
    "/usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)\n"
    "7f1a2f000000-7f1a2f100000 r-xp 00000000 fd:01 97 "
    "/usr/lib/x86_64-linux-gnu/libssl3.so\n"
    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n";

TEST(TlsLibrariesTest, DistinctFilesByDeviceAndInode) {
  std::vector<TlsMapping> got = ParseTlsMappings(kMaps);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].library, TlsLibrary::kOpenSsl);
  EXPECT_EQ(got[0].dev, (uint64_t{0xfd} << 32) | 1);
  EXPECT_EQ(got[0].inode, 4242u);
  EXPECT_EQ(got[0].path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
  // Another inode on another device: another file, path with a space.
  EXPECT_EQ(got[1].dev, uint64_t{0x2a});
  EXPECT_EQ(got[1].inode, 77u);
  EXPECT_EQ(got[1].path, "/opt/my app/libssl.so.1.1");
  EXPECT_EQ(got[2].library, TlsLibrary::kGnuTls);
  EXPECT_STREQ(TlsLibraryName(got[2].library), "gnutls");
}

TEST(TlsLibrariesTest, GarbageIsSkipped) {
  EXPECT_TRUE(ParseTlsMappings("").empty());
  EXPECT_TRUE(ParseTlsMappings("x y z\n\n  \n").empty());
  EXPECT_TRUE(ParseTlsMappings("a r-xp 0 zz:01 5 /lib/libssl.so.3\n").empty());
  EXPECT_TRUE(ParseTlsMappings("a r-xp 0 fd:01 0 /lib/libssl.so.3\n").empty());
  EXPECT_TRUE(ParseTlsMappings("a r-xp 0 fd:01 5 libssl.so.3\n").empty());
}

}  // namespace
}  // namespace redline
