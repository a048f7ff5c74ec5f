#include "agent/model/endpoint.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace redline {

std::string FormatEndpoint(uint8_t family, const uint8_t addr[16],
                           uint16_t port) {
  char buf[INET6_ADDRSTRLEN] = "?";
  static const uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family == AF_INET6 && std::memcmp(addr, kV4Mapped, 12) == 0) {
    inet_ntop(AF_INET, addr + 12, buf, sizeof(buf));
    return absl::StrCat(buf, ":", port);
  }
  if (family == AF_INET6) {
    inet_ntop(AF_INET6, addr, buf, sizeof(buf));
    return absl::StrCat("[", buf, "]:", port);
  }
  inet_ntop(AF_INET, addr, buf, sizeof(buf));
  return absl::StrCat(buf, ":", port);
}

}  // namespace redline
