/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between bpf/block.bpf.c and the agent. Plain C, fixed-size types,
 * explicit padding: the agent static_asserts every size and offset.
 */
#ifndef REDLINE_BPF_BLOCK_H
#define REDLINE_BPF_BLOCK_H

/* I/O latency slots, the layout of the syscall histograms (hist_edges.h). */
#define RL_BLOCK_HIST_SLOTS 40

/* dev is the kernel's MKDEV(major, minor) of the whole disk:
 * major << 20 | minor. op is the REQ_OP_* code (cmd_flags & 0xff). */
struct rl_disk_key {
	__u32 dev;
	__u32 op;
};

/* ios counts every completion, as /proc/diskstats does; hist only those
 * whose issue we saw (not those issued before we attached, nor the empty
 * write that carries a preflush, which is completed without being issued:
 * its flush is the separate REQ_OP_FLUSH request). */
struct rl_disk_val {
	__u64 ios;
	__u64 bytes;
	__u64 sum_ns;   /* issue to completion */
	__u64 queue_ns; /* insert to issue, where the I/O was queued */
	__u64 hist[RL_BLOCK_HIST_SLOTS]; /* issue to completion; count = sum */
};

/* Bytes by the workload that issued the I/O (known at insert or issue). */
struct rl_disk_owner_key {
	__u32 dev;
	__u32 op;
	__u64 cgroup_id;
	char comm[16];
};

struct rl_disk_owner_val {
	__u64 bytes;
	__u64 ios;
};

enum rl_block_map {
	RL_BLOCK_MAP_STATS = 0,
	RL_BLOCK_MAP_OWNERS = 1,
	RL_BLOCK_MAP_INFLIGHT = 2,
	RL_BLOCK_MAP_COUNT = 3,
};

#endif /* REDLINE_BPF_BLOCK_H */
