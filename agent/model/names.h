// Syscall and errno names for labels.
#ifndef REDLINE_AGENT_MODEL_NAMES_H_
#define REDLINE_AGENT_MODEL_NAMES_H_

#include <cstdint>
#include <string>

namespace redline {

// Name from this architecture's syscall table; "sys_<nr>" when unknown.
std::string SyscallName(uint32_t nr);
// Number for a name, or -1.
int SyscallNumber(const std::string& name);
// Symbolic errno ("ENOENT"); "E<n>" when the C library has no name.
std::string ErrnoName(uint32_t err);

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_NAMES_H_
