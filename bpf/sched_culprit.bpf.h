/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Noisy neighbours (bpf/sched.bpf.c; BPF side only): each run-queue wait
 * is split among the processes that held the CPU while the thread waited.
 *
 * Every switch ends the slice of the task switched out: a per-CPU ring
 * keeps the last few (who, until when). A wait that ends at a switch-in
 * covers the newest slices of this CPU: each overlap is added to the
 * (victim, culprit) pair, by tgid; what the ring does not cover (older
 * slices, a wait begun on another CPU before a migration) and idle go to
 * culprit 0, as do pairs the full table has no room for. The agent names
 * tgids from the sched_stats keys.
 */
#ifndef REDLINE_BPF_SCHED_CULPRIT_BPF_H
#define REDLINE_BPF_SCHED_CULPRIT_BPF_H

#include "common.bpf.h"
#include "sched.h"

#define RL_SLICES 64 /* a power of two */

struct cpu_slices {
	__u64 end[RL_SLICES];
	__u32 tgid[RL_SLICES];
	__u32 head;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_slices);
} cpu_slices SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct rl_culprit_key);
	__type(value, __u64);
} culprits SEC(".maps");

/* prev (0: idle) held this CPU until t. */
static __always_inline void slice_ends(struct task_struct *prev, __u64 t)
{
	__u32 zero = 0, h;
	struct cpu_slices *c = bpf_map_lookup_elem(&cpu_slices, &zero);

	if (!c)
		return;
	h = (c->head + 1) & (RL_SLICES - 1);
	c->head = h;
	c->end[h] = t;
	c->tgid[h] = prev->pid ? prev->tgid : 0;
}

static __always_inline void blame_one(__u32 victim, __u32 culprit, __u64 ns)
{
	static const __u64 zero;
	struct rl_culprit_key k = { .victim = victim, .culprit = culprit };
	__u64 *v;

	v = bpf_map_lookup_elem(&culprits, &k);
	if (!v && bpf_map_update_elem(&culprits, &k, &zero, BPF_NOEXIST)) {
		k.culprit = 0; /* full (or a racing insert): folded */
		v = rl_lookup_or_init(&culprits, &k, &zero, &sched_update_errors,
				      RL_SCHED_MAP_CULPRITS);
	} else if (!v) {
		v = bpf_map_lookup_elem(&culprits, &k);
	}
	if (v)
		__sync_fetch_and_add(v, ns);
}

/* victim waited for this CPU over [from, to): who ran then. A global
 * function: the verifier checks it once, not in every caller and state. */
__noinline int blame(__u32 victim, __u64 from, __u64 to)
{
	__u32 zero = 0, h, cur, before;
	struct cpu_slices *c = bpf_map_lookup_elem(&cpu_slices, &zero);
	__u64 covered = 0, start, end, lo, hi;

	if (!c)
		return 0;
	h = c->head;
	for (int i = 0; i < RL_SLICES - 1; i++) {
		cur = (h - i) & (RL_SLICES - 1);
		before = (h - i - 1) & (RL_SLICES - 1);
		end = c->end[cur];
		start = c->end[before];
		if (end <= from || start >= end)
			break;
		lo = start > from ? start : from;
		hi = end < to ? end : to;
		if (hi > lo && c->tgid[cur]) {
			blame_one(victim, c->tgid[cur], hi - lo);
			covered += hi - lo;
		}
		if (start <= from)
			break;
	}
	if (to - from > covered)
		blame_one(victim, 0, to - from - covered);
	return 0;
}

#endif /* REDLINE_BPF_SCHED_CULPRIT_BPF_H */
