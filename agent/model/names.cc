#include "agent/model/names.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace redline {
namespace {

struct Entry {
  uint32_t nr;
  const char* name;
};

// Generated at build time from <asm/unistd.h> of the target architecture.
constexpr Entry kSyscalls[] = {
#include "syscall_table.inc"
};

const absl::flat_hash_map<uint32_t, absl::string_view>& ByNumber() {
  static const auto* m = [] {
    auto* out = new absl::flat_hash_map<uint32_t, absl::string_view>();
    for (const Entry& e : kSyscalls) out->emplace(e.nr, e.name);
    return out;
  }();
  return *m;
}

}  // namespace

std::string SyscallName(uint32_t nr) {
  const auto& m = ByNumber();
  auto it = m.find(nr);
  if (it != m.end()) return std::string(it->second);
  return absl::StrCat("sys_", nr);
}

int SyscallNumber(const std::string& name) {
  for (const Entry& e : kSyscalls) {
    if (name == e.name) return static_cast<int>(e.nr);
  }
  return -1;
}

std::string ErrnoName(uint32_t err) {
  // glibc >= 2.32; returns nullptr for numbers it does not know.
  const char* n = strerrorname_np(static_cast<int>(err));
  if (n != nullptr) return n;
  return absl::StrCat("E", err);
}

}  // namespace redline
