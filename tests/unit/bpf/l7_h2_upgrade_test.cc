// The kernel's test of a 101 Switching Protocols (bpf/l7_h2_upgrade.bpf.h),
// compiled here unchanged: whether it switches to h2c, and where the
// frames that follow it start.
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "tests/fuzz/l7_classifier_shim.h"

extern "C" {
#include "bpf/l7_h2_upgrade.bpf.h"
}

namespace redline {
namespace {

// The 101 (and what follows it in the same data) as the kernel copies
// it: at most RL_H2_UPGRADE_PEEK bytes into a zeroed window.
__u32 End(const std::string& data) {
  static rl_l7_window w;
  std::memset(&w, 0, sizeof(w));
  const size_t n = std::min<size_t>(data.size(), RL_H2_UPGRADE_PEEK);
  std::memcpy(w.b, data.data(), n);
  return rl_h2_upgrade_end(w.b, static_cast<__u32>(n));
}

// What nghttpx sends: the 101, then its SETTINGS frame in the same write.
const std::string kNghttpx =
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
    "Upgrade: h2c\r\n\r\n";

TEST(L7H2Upgrade, FramesStartAfterTheHeaderBlockOfA101ToH2c) {
  EXPECT_EQ(End(kNghttpx), kNghttpx.size());
  const std::string settings("\0\0\6\4\0\0\0\0\0\0\3\0\0\0d", 15);
  EXPECT_EQ(End(kNghttpx + settings), kNghttpx.size());
  // Case, spaces and lists as servers write them.
  const std::string other =
      "HTTP/1.1 101 Switching Protocols\r\nupgrade:H2C\r\n"
      "Date: Wed, 02 Dec 2026 07:00:00 GMT\r\nconnection: upgrade\r\n\r\n";
  EXPECT_EQ(End(other), other.size());
  const std::string listed =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo/2, h2c\r\n\r\n";
  EXPECT_EQ(End(listed), listed.size());
}

TEST(L7H2Upgrade, A101ToAnythingElseIsNotHttp2) {
  EXPECT_EQ(End("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Accept: h2cx=\r\n\r\n"),
            0u);
  // "h2c" inside another token, or in a header name, is not the protocol.
  EXPECT_EQ(End("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2cx\r\n"
                "X-h2c: yes\r\n\r\n"),
            0u);
  EXPECT_EQ(End("HTTP/1.1 101 Switching Protocols\r\n\r\nh2c\r\n"), 0u);
}

// The Upgrade header seen but not the block's end: the frames' start is
// unknown, and the connection is given up rather than guessed at.
TEST(L7H2Upgrade, AnEndNotInTheBytesLookedAtIsUnknown) {
  const std::string cut = kNghttpx.substr(0, kNghttpx.size() - 2);
  EXPECT_EQ(End(cut), static_cast<__u32>(RL_H2_OFF_UNKNOWN));
  const std::string padded =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: h2c\r\nX-Pad: " +
      std::string(600, 'p') + "\r\n\r\n";
  EXPECT_EQ(End(padded), static_cast<__u32>(RL_H2_OFF_UNKNOWN));
}

}  // namespace
}  // namespace redline
