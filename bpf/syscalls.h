/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between bpf/syscalls.bpf.c and the agent. Plain C, fixed-size
 * types, explicit padding: the agent static_asserts every size and offset.
 */
#ifndef REDLINE_BPF_SYSCALLS_H
#define REDLINE_BPF_SYSCALLS_H

#include "slo.h"

/* Latency slots on native histogram buckets of schema 0 (hist_edges.h):
 * slot 0 holds 0 ns, slot s (2^(s-31), 2^(s-30)] s, the last slot
 * everything above 256 s. */
#define RL_HIST_SLOTS 40

/* errno values the kernel returns: ret in [-RL_MAX_ERRNO, -1]. */
#define RL_MAX_ERRNO 4095

/* A process incarnation: a tgid plus the generation that starts when the
 * agent first sees it or when it execs. tgid alone is reused by the kernel;
 * (tgid, gen) never is. gen is bpf_ktime_get_ns() at creation. */
struct rl_proc_key {
	__u32 tgid;
	__u32 pad;
	__u64 gen;
};

struct rl_proc_info {
	char comm[16];
	__u64 cgroup_id;
	__u32 exited; /* set once the incarnation can make no more syscalls */
	__u32 pad;
};

struct rl_sys_key {
	__u32 tgid;
	__u32 nr;
	__u64 gen;
};

/* calls = sum of hist: one atomic add fewer on every syscall. within[i]:
 * calls that took at most SLO threshold i (bpf/slo.h), for the syscalls
 * the agent marked. last_ns: bpf_ktime_get_ns() when the last call ended;
 * the agent moves entries idle for long out of the map (reads cost per
 * entry). */
struct rl_sys_val {
	__u64 errors;
	__u64 sum_ns;
	__u64 hist[RL_HIST_SLOTS];
	__u64 within[RL_SLO_SLOTS];
	__u64 last_ns;
};

struct rl_err_key {
	__u32 tgid;
	__u32 nr;
	__u64 gen;
	__u32 err; /* positive errno */
	__u32 pad;
};

/* Index of the per-map drop counters (lost updates when a map is full). */
enum rl_syscalls_map {
	RL_MAP_SYS_STATS = 0,
	RL_MAP_SYS_ERRORS = 1,
	RL_MAP_PROCS = 2,
	RL_MAP_INFLIGHT = 3,
	RL_MAP_COUNT = 4,
};

#endif /* REDLINE_BPF_SYSCALLS_H */
