// Owns bpf/tls.bpf.c: uprobes on the TLS libraries processes map (OpenSSL's
// libssl, GnuTLS), feeding plaintext to the l7 engine's maps. Part of the
// l7 concern (L7Probe loads it on its own object's maps), its own skeleton:
// a host where it fails to load or attach keeps plaintext RED.
#ifndef REDLINE_AGENT_PROBES_TLS_PROBE_H_
#define REDLINE_AGENT_PROBES_TLS_PROBE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/model/model.h"

struct bpf_object;

namespace redline {

struct TlsOptions {
  uint32_t max_files = 64;  // distinct library files probed at once
  // Seconds between walks of every process's maps (a library loaded by
  // dlopen long after exec, a process gone); a process that exec'd is
  // looked at on every refresh of its first 5 s.
  uint32_t full_scan_s = 30;
  // Scan after start at all: uprobes need CAP_SYS_ADMIN, which the agent
  // keeps only when asked (--tls-late-attach).
  bool late_attach = false;
};

// For `redline check`: the TLS library files processes map now, by
// library ("openssl: 2 files, gnutls: 1 file, go: 1 file"; "none" if
// none). Go executables are read (ELF symbols) to be told apart.
std::string TlsLibrariesMapped();

class TlsUprobes {
 public:
  // Loads bpf/tls.bpf.c on the maps of l7 (loaded, not yet attached).
  static absl::StatusOr<std::unique_ptr<TlsUprobes>> Load(
      bpf_object* l7, const TlsOptions& opts);
  ~TlsUprobes();
  TlsUprobes(const TlsUprobes&) = delete;
  TlsUprobes& operator=(const TlsUprobes&) = delete;

  // The exec tracepoint, then every library mapped by a process now.
  absl::Status Attach();
  void Detach();
  // Per refresh: processes that exec'd, now and then every process;
  // files no process maps any more are detached. Fills snap->tls and the
  // tls kinds of snap->request_unparsed.
  void ReadInto(Snapshot* snap);
  void SetSloThresholds(const SloWithin& threshold_ns);
  std::vector<ProgramStatus> programs() const;
  std::vector<MapStatus> maps() const;

 private:
  struct Impl;
  explicit TlsUprobes(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_TLS_PROBE_H_
