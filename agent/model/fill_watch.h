// Whether a kernel map fills faster than the agent's refreshes drain it.
// The BPF side counts each map's inserts (bpf/common.bpf.h rl_inserts, in
// mmapped .bss: polled without a syscall); a read frees what it can (exited
// processes' entries) and leaves `kept` of `capacity`. Between refreshes
// the agent asks Pressed() every ~100 ms and reads early when the inserts
// since the last read have used half the room that read left: at a steady
// rate the next read lands well before the map is full, instead of the map
// dropping entries until the refresh interval (10 s by default) is up.
#ifndef REDLINE_AGENT_MODEL_FILL_WATCH_H_
#define REDLINE_AGENT_MODEL_FILL_WATCH_H_

#include <cstdint>

namespace redline {

class FillWatch {
 public:
  // At the start of a read, the insert count then: entries inserted while
  // the read runs count as after it (the read may not have seen them).
  void ReadStarted(uint64_t inserts) { mark_ = inserts; }
  // After a successful read: what the map holds now.
  void ReadDone(uint64_t kept, uint64_t capacity) {
    room_ = capacity > kept ? capacity - kept : 0;
  }
  bool Pressed(uint64_t inserts) const {
    const uint64_t since = inserts - mark_;  // the counter only grows
    return since > 0 && 2 * since >= room_;
  }

 private:
  uint64_t mark_ = 0;
  uint64_t room_ = UINT64_MAX;  // no read yet: never pressed
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_FILL_WATCH_H_
