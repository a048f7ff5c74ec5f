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

/* Why a thread that blocked was off the CPU, from switch-out to wakeup
 * (the wait from wakeup to running is run-queue latency). 0 is what an
 * unlisted syscall maps to. */
enum rl_off_reason {
	RL_OFF_OTHER = 0,   /* pipes, ttys, wait4, signals, stopped, ... */
	RL_OFF_LOCK = 1,    /* futex and other user-space locks */
	RL_OFF_NETWORK = 2, /* socket calls; poll/epoll/select */
	RL_OFF_DISK = 3,    /* fsync family; I/O wait or a file in a syscall */
	RL_OFF_SLEEP = 4,   /* nanosleep, clock_nanosleep */
	RL_OFF_MEMORY = 5,  /* D state outside a syscall: page faults, swap */
	RL_OFF_REASONS = 6,
};

/* Classes of syscall numbers (off_sys_class[nr], written by the agent
 * before load: BPF has no arch headers): a reason, or this one for calls
 * on a file descriptor (read, write, ...) whose reason is the type of the
 * file in their first argument: socket, regular or block file, other. */
#define RL_OFF_BY_FD 6
#define RL_OFF_MAX_NR 512

struct rl_sched_val {
	__u64 oncpu_ns;    /* time on a CPU, summed at each switch-out */
	__u64 voluntary;   /* switched out while blocking */
	__u64 involuntary; /* switched out while still runnable (preempted) */
	__u64 rq_sum_ns;   /* total run-queue wait */
	__u64 exited;      /* the last thread of the process has exited */
	__u64 off_ns[RL_OFF_REASONS]; /* blocked, switch-out to wakeup */
	__u64 rq_hist[RL_SCHED_HIST_SLOTS]; /* waits; count = sum */
	/* On a CPU but not running: the CPU's clock advanced while its task
	 * clock did not (hypervisor steal, IRQ time where accounted). */
	__u64 steal_ns;
};

/* A run-queue wait of a thread of the victim while the culprit held the
 * CPU, by workload: the victim's process name and cgroup (its tgid too
 * only when series carry pids: culprit_by_pid), the culprit's process
 * name (all zero: idle, unknown, or folded for lack of room). Keyed by
 * tgid pairs, a fork storm made more pairs in one refresh than the table
 * holds; by names, it makes one. */
struct rl_culprit_key {
	__u64 victim_cgroup;
	char victim[16];
	char culprit[16];
	__u32 victim_tgid;
	__u32 pad;
};

enum rl_sched_map {
	RL_SCHED_MAP_STATS = 0,
	RL_SCHED_MAP_TASKS = 1,
	RL_SCHED_MAP_CULPRITS = 2,
	RL_SCHED_MAP_COUNT = 3,
};

#endif /* REDLINE_BPF_SCHED_H */
