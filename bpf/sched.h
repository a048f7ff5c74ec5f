/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between bpf/sched.bpf.c and the agent. Plain C, fixed-size types,
 * explicit padding: the agent static_asserts every size and offset.
 */
#ifndef REDLINE_BPF_SCHED_H
#define REDLINE_BPF_SCHED_H

/* Run-queue wait slots, the layout of the syscall histograms
 * (hist_edges.h, schema 0). */
#define RL_SCHED_HIST_SLOTS 40

/* A process as the scheduler sees it. The name and cgroup are part of the
 * key, so an exec (new name) or a cgroup move starts a new entry and
 * counts are never attributed to what a process became later. */
struct rl_sched_key {
	__u32 tgid;
	__u32 pad;
	__u64 cgroup_id;
	char comm[16];
};

struct rl_sched_val {
	__u64 oncpu_ns;    /* time on a CPU, summed at each switch-out */
	__u64 voluntary;   /* switched out while blocking */
	__u64 involuntary; /* switched out while still runnable (preempted) */
	__u64 rq_sum_ns;   /* total run-queue wait */
	__u64 exited;      /* the last thread of the process has exited */
	__u64 rq_hist[RL_SCHED_HIST_SLOTS]; /* waits; count = sum */
};

enum rl_sched_map {
	RL_SCHED_MAP_STATS = 0,
	RL_SCHED_MAP_TASKS = 1,
	RL_SCHED_MAP_COUNT = 2,
};

#endif /* REDLINE_BPF_SCHED_H */
