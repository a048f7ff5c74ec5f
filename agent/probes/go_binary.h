// Go's crypto/tls inside one executable: where the TLS uprobes go. Go
// (>= 1.17, register ABI) passes arguments in registers and moves
// goroutine stacks, so a uretprobe (which rewrites the return address on
// the stack) would crash it: the return is probed at each return
// instruction of the function instead, found by disassembling it with
// Capstone (Debian libcapstone). Symbols come from the ELF .symtab; a
// stripped binary is reported, never guessed.
#ifndef REDLINE_AGENT_PROBES_GO_BINARY_H_
#define REDLINE_AGENT_PROBES_GO_BINARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace redline {

// File offsets (as uprobes take them) of one function's entry and returns.
struct GoFunctionProbes {
  uint64_t entry = 0;
  std::vector<uint64_t> returns;
};

struct GoTlsProbes {
  std::string go_version;        // "go1.19.8"
  GoFunctionProbes read, write;  // crypto/tls.(*Conn).Read and .Write
  // crypto/tls.(*Conn).handshakeContext (Go 1.17+; entry 0 if a build
  // lacks it: connections are then tied by their first Read or Write).
  GoFunctionProbes handshake;
};

// The probe points of the executable at `path`. Errors, by code:
// NotFound: not a Go program, or one without crypto/tls (nothing to do);
// FailedPrecondition: a Go program with TLS that cannot be probed, the
// message one of "no_symbols" (stripped), "go_version" (before 1.17, or
// unknown), "arch" (neither x86-64 nor arm64), "disassembly" (no return
// instruction found); Unavailable: the file cannot be read.
absl::StatusOr<GoTlsProbes> FindGoTlsProbes(const std::string& path);

// Offsets of the return instructions in a function's machine code,
// decoded instruction by instruction from its start (never a byte search:
// 0xc3 also occurs inside other instructions).
enum class GoArch { kX86_64, kArm64 };
absl::StatusOr<std::vector<uint64_t>> ReturnOffsets(
    absl::Span<const uint8_t> code, GoArch arch);

// The Go version recorded in a .go.buildinfo section's bytes (Go 1.18+
// inline form), or "" when not in that form.
std::string GoVersionFromBuildInfo(absl::Span<const uint8_t> section);

// True for go1.17 and later ("go1.17", "go1.21.3", "go1.22rc1").
bool GoHasRegisterAbi(const std::string& version);

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_GO_BINARY_H_
