#include "agent/model/tls_libraries.h"

#include <algorithm>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace redline {
namespace {

std::optional<TlsLibrary> LibraryOf(absl::string_view path) {
  const size_t slash = path.rfind('/');
  absl::string_view base =
      slash == absl::string_view::npos ? path : path.substr(slash + 1);
  if (absl::StartsWith(base, "libssl.so")) return TlsLibrary::kOpenSsl;
  if (absl::StartsWith(base, "libgnutls.so")) return TlsLibrary::kGnuTls;
  return std::nullopt;
}

// "fd:01" -> (0xfd << 32) | 0x01.
std::optional<uint64_t> ParseDev(absl::string_view s) {
  std::pair<absl::string_view, absl::string_view> mm =
      absl::StrSplit(s, absl::MaxSplits(':', 1));
  uint64_t major = 0, minor = 0;
  if (mm.first.empty() || mm.second.empty() ||
      !absl::SimpleHexAtoi(mm.first, &major) ||
      !absl::SimpleHexAtoi(mm.second, &minor)) {
    return std::nullopt;
  }
  return (major << 32) | minor;
}

// addr perms offset dev inode path: the path is the rest of the line,
// spaces included.
std::optional<TlsMapping> ParseLine(absl::string_view line) {
  absl::string_view rest = line;
  absl::string_view f[5];
  for (auto& field : f) {
    rest = absl::StripLeadingAsciiWhitespace(rest);
    const size_t sp = rest.find(' ');
    if (sp == absl::string_view::npos) return std::nullopt;
    field = rest.substr(0, sp);
    rest = rest.substr(sp);
  }
  absl::string_view path = absl::StripAsciiWhitespace(rest);
  if (path.empty() || path[0] != '/' || absl::EndsWith(path, " (deleted)")) {
    return std::nullopt;
  }
  std::optional<TlsLibrary> lib = LibraryOf(path);
  if (!lib) return std::nullopt;
  TlsMapping m;
  m.library = *lib;
  std::optional<uint64_t> dev = ParseDev(f[3]);
  if (!dev || !absl::SimpleAtoi(f[4], &m.inode) || m.inode == 0) {
    return std::nullopt;
  }
  m.dev = *dev;
  m.path = std::string(path);
  return m;
}

}  // namespace

const char* TlsLibraryName(TlsLibrary lib) {
  switch (lib) {
    case TlsLibrary::kOpenSsl:
      return "openssl";
    case TlsLibrary::kGnuTls:
      return "gnutls";
    case TlsLibrary::kGo:
      return "go";
  }
  return "?";
}

std::vector<TlsMapping> ParseTlsMappings(absl::string_view maps) {
  std::vector<TlsMapping> out;
  for (absl::string_view line : absl::StrSplit(maps, '\n')) {
    std::optional<TlsMapping> m = ParseLine(line);
    if (!m) continue;
    const bool seen = std::any_of(out.begin(), out.end(), [&](const auto& o) {
      return o.dev == m->dev && o.inode == m->inode;
    });
    if (!seen) out.push_back(std::move(*m));
  }
  return out;
}

}  // namespace redline
