/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Helpers shared by redline's BPF programs (BPF side only). */
#ifndef REDLINE_BPF_COMMON_BPF_H
#define REDLINE_BPF_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "map_errors.h"

#ifndef EEXIST
#define EEXIST 17
#endif

/* Latency slots on Prometheus native histogram boundaries: rl_log2,
 * rl_hist_slot (schema 0) and rl_fine_slot (schema 1). */
#define RL_HIST_INLINE static __always_inline
#include "hist_edges.h"

/* One more in a per-CPU event counter array. Atomic although per-CPU:
 * syscall-exit programs run with migration, not preemption, disabled, so
 * two of them may interleave on one CPU (rare; off the hot path). */
#define RL_COUNT_EVENT(counters_map, idx)                              \
	do {                                                           \
		__u32 __k = (idx);                                     \
		__u64 *__d = bpf_map_lookup_elem(&(counters_map), &__k); \
		if (__d)                                               \
			__sync_fetch_and_add(__d, 1);                  \
	} while (0)

/* Not in vmlinux.h (macros): the codes map updates return. */
#define RL_ENOENT 2
#define RL_E2BIG 7
#define RL_ENOMEM 12
#define RL_EBUSY 16

static __always_inline __u32 rl_update_kind(long err)
{
	switch (err) {
	case -RL_E2BIG:
		return RL_UPDATE_E2BIG;
	case -RL_ENOMEM:
		return RL_UPDATE_ENOMEM;
	case -RL_EBUSY:
		return RL_UPDATE_EBUSY;
	case -RL_ENOENT:
		return RL_UPDATE_ENOENT;
	default:
		return RL_UPDATE_OTHER;
	}
}

/* Counts a failed update of map number map_idx (the concern's enum) with
 * the code err (0: the helper gave none) in the concern's per-CPU
 * update-error array. The update is lost; nothing waits. */
static __always_inline void rl_update_error(void *errors, __u32 map_idx,
					    long err)
{
	__u32 k = map_idx * RL_UPDATE_KINDS + rl_update_kind(err);
	__u64 *d = bpf_map_lookup_elem(errors, &k);

	if (d) /* atomic: see RL_COUNT_EVENT */
		__sync_fetch_and_add(d, 1);
}

/* Entries each map of this object gained, by the concern's map index.
 * .bss is mmapped: the agent polls these between refreshes without a
 * syscall and reads early when a map fills faster than refreshes drain it
 * (an exec storm adds ~18 syscall entries per process). */
#define RL_INSERT_SLOTS 8
__u64 rl_inserts[RL_INSERT_SLOTS];

static __always_inline void rl_count_insert(__u32 map_idx)
{
	if (map_idx < RL_INSERT_SLOTS)
		__sync_fetch_and_add(&rl_inserts[map_idx], 1);
}

/* The value at key, inserted as *zero if absent; NULL, counted, when the
 * map has no room. A racing insert by another CPU (-EEXIST) is fine. */
static __always_inline void *rl_lookup_or_init(void *map, const void *key,
					       const void *zero, void *errors,
					       __u32 map_idx)
{
	void *v = bpf_map_lookup_elem(map, key);
	long err;

	if (v)
		return v;
	err = bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		rl_update_error(errors, map_idx, err);
		return NULL;
	}
	if (!err)
		rl_count_insert(map_idx);
	v = bpf_map_lookup_elem(map, key);
	if (!v) /* deleted by the agent between the two */
		rl_update_error(errors, map_idx, -RL_ENOENT);
	return v;
}

#endif /* REDLINE_BPF_COMMON_BPF_H */
