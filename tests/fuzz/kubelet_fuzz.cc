// The kubelet's /pods body comes over the network: malformed, truncated or
// hostile JSON is an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/identity/kubelet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  auto pods = redline::ParsePodList(json);
  if (pods.ok()) {
    for (const auto& [uid, meta] : *pods) {
      if (uid.empty()) __builtin_trap();  // pods are keyed by a real uid
    }
  }
  return 0;
}
