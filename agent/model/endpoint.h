// Socket endpoints as label values.
#ifndef REDLINE_AGENT_MODEL_ENDPOINT_H_
#define REDLINE_AGENT_MODEL_ENDPOINT_H_

#include <cstdint>
#include <string>

namespace redline {

// "10.0.0.5:5432", "[2001:db8::1]:443"; IPv4-mapped IPv6 as IPv4.
std::string FormatEndpoint(uint8_t family, const uint8_t addr[16],
                           uint16_t port);

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_ENDPOINT_H_
