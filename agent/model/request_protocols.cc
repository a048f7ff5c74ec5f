#include "agent/model/request_protocols.h"

#include <linux/types.h>

#include "bpf/l7.h"

namespace redline {

const char* HttpMethodName(uint32_t method) {
  static constexpr const char* kNames[RL_HTTP_METHOD_COUNT] = {
      "unknown", "GET",     "HEAD",    "POST",  "PUT",
      "DELETE",  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  return method < RL_HTTP_METHOD_COUNT ? kNames[method] : "unknown";
}

const char* HttpStatusClass(uint32_t status_class) {
  static constexpr const char* kClasses[] = {"unknown", "1xx", "2xx",
                                             "3xx",     "4xx", "5xx"};
  return status_class <= 5 ? kClasses[status_class] : "unknown";
}

const std::vector<RequestProtocol>& RequestProtocols() {
  static const std::vector<RequestProtocol> kProtocols = {
      {"http", "HTTP/1.x", RL_L7_PROTO_HTTP, "method", "status_class",
       HttpMethodName, HttpStatusClass,
       [](absl::string_view outcome) { return outcome == "5xx"; }},
  };
  return kProtocols;
}

const RequestProtocol* FindRequestProtocol(absl::string_view name) {
  for (const RequestProtocol& p : RequestProtocols()) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

const RequestProtocol* RequestProtocolByKernelId(uint32_t kernel_id) {
  for (const RequestProtocol& p : RequestProtocols()) {
    if (kernel_id == p.kernel_id) return &p;
  }
  return nullptr;
}

}  // namespace redline
