// Off-CPU reasons (bpf/sched.h enum rl_off_reason): their label values and
// the class of each syscall number the sched probe tells the kernel.
#ifndef REDLINE_AGENT_MODEL_OFFCPU_H_
#define REDLINE_AGENT_MODEL_OFFCPU_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/model/model.h"

namespace redline {

// The reason label, in the order of enum rl_off_reason.
inline constexpr std::string_view kOffCpuReasonNames[kOffCpuReasons] = {
    "other", "lock", "network", "disk", "sleep", "memory"};

// By this architecture's syscall number (size n): the rl_off_reason of a
// thread blocked in it, or RL_OFF_BY_FD for calls on a descriptor whose
// reason is the descriptor's file type. Unlisted calls are 0 (other).
std::vector<uint8_t> OffCpuSyscallClasses(size_t n);

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_OFFCPU_H_
