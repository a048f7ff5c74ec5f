// The kernel's request classifiers (bpf/l7_proto.bpf.h and the headers it
// includes) compiled for user space, unchanged: the helpers they may call,
// as the kernel runs them.
#ifndef REDLINE_TESTS_FUZZ_L7_CLASSIFIER_SHIM_H_
#define REDLINE_TESTS_FUZZ_L7_CLASSIFIER_SHIM_H_

#include <linux/types.h>

#include <cstring>
#include <map>
#include <utility>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

// Prepared statements per connection (bpf/l7_stmts.bpf.h, an LRU map in
// the kernel): a plain map here, cleared by tests that need a fresh one.
inline std::map<std::pair<__u64, __u32>, __u32>& PgStatements() {
  static std::map<std::pair<__u64, __u32>, __u32> statements;
  return statements;
}

extern "C" {
// Callbacks return 0 to go on, 1 to stop.
static inline long bpf_loop(__u32 nr_loops, long (*callback)(__u32, void*),
                            void* ctx, __u64 /*flags*/) {
  for (__u32 i = 0; i < nr_loops; ++i) {
    if (callback(i, ctx)) return i + 1;
  }
  return nr_loops;
}
// User memory is the process's own here.
static inline long bpf_probe_read_user(void* dst, __u32 size, const void* src) {
  std::memcpy(dst, src, size);
  return 0;
}
static inline void rl_l7_stmt_put(__u64 conn, __u32 id, __u32 v) {
  PgStatements()[{conn, id}] = v;
}
static inline __u32 rl_l7_stmt_get(__u64 conn, __u32 id) {
  auto it = PgStatements().find({conn, id});
  return it == PgStatements().end() ? 0 : it->second;
}
#define RL_L7_USER_SPACE 1
#include "bpf/l7.h"
#include "bpf/l7_proto.bpf.h"
}

#endif  // REDLINE_TESTS_FUZZ_L7_CLASSIFIER_SHIM_H_
