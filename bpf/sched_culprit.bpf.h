/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Noisy neighbours (bpf/sched.bpf.c; BPF side only): each run-queue wait
 * is split among the processes that held the CPU while the thread waited.
 *
 * Every switch ends the slice of the task switched out: a per-CPU ring
 * keeps the last few (whose process name, until when). A wait that ends at
 * a switch-in covers the newest slices of this CPU: each overlap is added
 * to the (victim, culprit) pair of workloads (struct rl_culprit_key); what
 * the ring does not cover (older slices, a wait begun on another CPU
 * before a migration) and idle go to the empty culprit name, as do pairs
 * the full table has no room for.
 */
#ifndef REDLINE_BPF_SCHED_CULPRIT_BPF_H
#define REDLINE_BPF_SCHED_CULPRIT_BPF_H

#include "common.bpf.h"
#include "sched.h"

#define RL_SLICES 64 /* a power of two */

struct cpu_slices {
	__u64 end[RL_SLICES];
	char comm[RL_SLICES][16]; /* the process's; all zero: idle */
	__u32 head;
	__u32 pad;
};

/* Set by the agent before load: victims keyed by tgid too. */
const volatile __u32 culprit_by_pid;

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
	if (prev->pid)
		__builtin_memcpy(c->comm[h], prev->group_leader->comm, 16);
	else
		__builtin_memset(c->comm[h], 0, 16);
}

/* The victim's half of its pairs' keys. */
static __always_inline void victim_key(struct task_struct *t,
				       struct rl_culprit_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->victim_cgroup = t->cgroups->dfl_cgrp->kn->id;
	__builtin_memcpy(k->victim, t->group_leader->comm, 16);
	if (culprit_by_pid)
		k->victim_tgid = t->tgid;
}

static __always_inline void blame_one(struct rl_culprit_key *k, __u64 ns)
{
	static const __u64 zero;
	__u64 *v;

	v = bpf_map_lookup_elem(&culprits, k);
	if (!v && bpf_map_update_elem(&culprits, k, &zero, BPF_NOEXIST)) {
		/* full (or a racing insert): folded */
		__builtin_memset(k->culprit, 0, sizeof(k->culprit));
		v = rl_lookup_or_init(&culprits, k, &zero, &sched_update_errors,
				      RL_SCHED_MAP_CULPRITS);
	} else if (!v) {
		v = bpf_map_lookup_elem(&culprits, k);
	}
	if (v)
		__sync_fetch_and_add(v, ns);
}

static __always_inline int comm_set(const char *c)
{
	return *(const __u64 *)c || *(const __u64 *)(c + 8);
}

/* victim (its key's victim half) waited for this CPU over [from, to): who
 * ran then. A global function: the verifier checks it once, not in every
 * caller and state. */
__noinline int blame(const struct rl_culprit_key *victim, __u64 from,
		     __u64 to)
{
	__u32 zero = 0, h, cur, before;
	struct cpu_slices *c = bpf_map_lookup_elem(&cpu_slices, &zero);
	__u64 covered = 0, start, end, lo, hi;
	struct rl_culprit_key k;

	if (!c || !victim)
		return 0;
	k = *victim;
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
		if (hi > lo && comm_set(c->comm[cur])) {
			__builtin_memcpy(k.culprit, c->comm[cur], 16);
			blame_one(&k, hi - lo);
			covered += hi - lo;
		}
		if (start <= from)
			break;
	}
	if (to - from > covered) {
		__builtin_memset(k.culprit, 0, sizeof(k.culprit));
		blame_one(&k, to - from - covered);
	}
	return 0;
}

#endif /* REDLINE_BPF_SCHED_CULPRIT_BPF_H */
