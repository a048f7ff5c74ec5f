/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Helpers shared by redline's BPF programs (BPF side only). */
#ifndef REDLINE_BPF_COMMON_BPF_H
#define REDLINE_BPF_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#ifndef EEXIST
#define EEXIST 17
#endif

/* floor(log2(v)) for v > 0, without loops the verifier must unroll. */
static __always_inline __u32 rl_log2(__u64 v)
{
	__u32 r, shift;

	r = (v > 0xFFFFFFFFULL) << 5;
	v >>= r;
	shift = (v > 0xFFFF) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u32 rl_hist_slot(__u64 ns, __u32 slots)
{
	__u32 s = ns ? rl_log2(ns) : 0;

	return s < slots ? s : slots - 1;
}

/* Two slots per power of two: slot 2k holds [2^k, 1.5 * 2^k), slot 2k+1
 * holds [1.5 * 2^k, 2^(k+1)); 0 and 1 ns go to slot 0. */
static __always_inline __u32 rl_hist2_slot(__u64 ns, __u32 slots)
{
	__u32 k, s;

	if (ns < 2)
		return 0;
	k = rl_log2(ns);
	s = 2 * k + ((ns >> (k - 1)) & 1);
	return s < slots ? s : slots - 1;
}

/* Count a lost update in a per-CPU drop array, indexed by map id. */
#define RL_COUNT_DROP(drops_map, idx)                                  \
	do {                                                           \
		__u32 __k = (idx);                                     \
		__u64 *__d = bpf_map_lookup_elem(&(drops_map), &__k);  \
		if (__d)                                               \
			(*__d)++;                                      \
	} while (0)

#endif /* REDLINE_BPF_COMMON_BPF_H */
