// The kernel's request classifiers (bpf/l7_proto.bpf.h and the headers it
// includes) compiled for user space, unchanged: the helpers they may call,
// as the kernel runs them.
#ifndef REDLINE_TESTS_FUZZ_L7_CLASSIFIER_SHIM_H_
#define REDLINE_TESTS_FUZZ_L7_CLASSIFIER_SHIM_H_

#include <linux/types.h>

#include <cstring>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

extern "C" {
// Callbacks return 0 to go on, 1 to stop.
static inline long bpf_loop(__u32 nr_loops, long (*callback)(__u32, void*),
                            void* ctx, __u64 /*flags*/) {
  for (__u32 i = 0; i < nr_loops; ++i) {
    if (callback(i, ctx)) return i + 1;
  }
  return nr_loops;
}
#include "bpf/l7.h"
#include "bpf/l7_proto.bpf.h"
}

#endif  // REDLINE_TESTS_FUZZ_L7_CLASSIFIER_SHIM_H_
