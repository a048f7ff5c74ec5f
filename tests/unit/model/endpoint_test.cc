#include "agent/model/endpoint.h"

#include <arpa/inet.h>

#include "gtest/gtest.h"

namespace redline {
namespace {

TEST(FormatEndpoint, V4V6AndMapped) {
  uint8_t a[16] = {};
  inet_pton(AF_INET, "10.1.2.3", a);
  EXPECT_EQ(FormatEndpoint(AF_INET, a, 5432), "10.1.2.3:5432");
  inet_pton(AF_INET6, "2001:db8::1", a);
  EXPECT_EQ(FormatEndpoint(AF_INET6, a, 443), "[2001:db8::1]:443");
  inet_pton(AF_INET6, "::ffff:192.0.2.7", a);
  EXPECT_EQ(FormatEndpoint(AF_INET6, a, 80), "192.0.2.7:80");
  inet_pton(AF_INET6, "::1", a);
  EXPECT_EQ(FormatEndpoint(AF_INET6, a, 18080), "[::1]:18080");
}

}  // namespace
}  // namespace redline
