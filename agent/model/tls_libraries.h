// Which mappings of a process are TLS libraries the TLS uprobes know
// (bpf/tls.bpf.c), from the text of /proc/PID/maps: pure parsing, no I/O.
#ifndef REDLINE_AGENT_MODEL_TLS_LIBRARIES_H_
#define REDLINE_AGENT_MODEL_TLS_LIBRARIES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace redline {

// kGo: Go's crypto/tls, inside a Go executable (agent/probes/go_binary.h).
enum class TlsLibrary { kOpenSsl, kGnuTls, kGo };

// "openssl", "gnutls", "go": the library label of the tls families.
const char* TlsLibraryName(TlsLibrary lib);

// One file, as the kernel names it: device and inode (a container's own
// libssl at the same path is another file), and the path in the mapping
// process's mount namespace.
struct TlsMapping {
  TlsLibrary library;
  uint64_t dev = 0;  // (major << 32) | minor, from maps' "maj:min" (hex)
  uint64_t inode = 0;
  std::string path;
  auto operator<=>(const TlsMapping&) const = default;
};

// The distinct TLS library files in one /proc/PID/maps text, in order of
// first appearance. libssl.so.* is OpenSSL (1.1 and 3 share the probed
// names), libgnutls.so.* GnuTLS; deleted files (replaced on disk) and
// lines that do not parse are skipped.
std::vector<TlsMapping> ParseTlsMappings(absl::string_view maps);

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_TLS_LIBRARIES_H_
