// /proc/PID/maps text, as the TLS uprobes read it (paths are any file name
// a process mapped): every mapping found comes from the input, once.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include "agent/model/tls_libraries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (const redline::TlsMapping& m : redline::ParseTlsMappings(text)) {
    if (m.inode == 0 || m.path.empty() || m.path[0] != '/' ||
        text.find(m.path) == std::string::npos ||
        !seen.insert({m.dev, m.inode}).second) {
      __builtin_trap();
    }
  }
  return 0;
}
