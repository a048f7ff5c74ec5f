/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a protocol classifier (bpf/l7_<proto>.bpf.h) sees and returns.
 *
 * l7.bpf.c copies the first bytes a read or write moved into a per-CPU
 * window and asks the connection's protocol, through the table in
 * bpf/l7_proto.bpf.h, whether they start a request or a response.
 * Classifiers are pure functions of the window (no maps, no helper but
 * bpf_loop), so tests/fuzz compiles them for user space unchanged.
 *
 * Every access is masked to the window (RL_AT) so the verifier can bound
 * it; n is the number of valid bytes, the rest is stale.
 */
#ifndef REDLINE_BPF_L7_CLASSIFIER_BPF_H
#define REDLINE_BPF_L7_CLASSIFIER_BPF_H

#define RL_L7_PEEK 128	    /* the window: room for pipelined requests */
#define RL_L7_SMALL_PEEK 16 /* enough for a start line's first words */

#define RL_AT(b, i) ((b)[(i) & (RL_L7_PEEK - 1)])

/* Pending requests per connection; a power of two: indexes are masked. */
#define RL_L7_FIFO 4

/* Returned by a response start that completes no request (HTTP's 100
 * Continue: the final response follows). Outcomes proper are 1..254. */
#define RL_L7_INTERIM 0xff

/* The requests pipelined behind the first one in the window (a client may
 * send several before reading a response; the server reads them in one
 * go): a protocol's next-requests operation fills at[] with the offsets
 * where each may start, and l7.bpf.c checks each with its request start. */
struct rl_l7_scan {
	const char *b; /* the window: 2 * RL_L7_PEEK bytes, 8-aligned, so a
			* word load at an offset masked with
			* 2 * RL_L7_PEEK - 8 needs no other bound */
	__u32 n;       /* valid bytes in it, at most RL_L7_PEEK */
	__u32 found;   /* entries of at[]: at most RL_L7_FIFO - 1, the first
			* request takes a slot of the FIFO */
	__u32 at[RL_L7_FIFO];
};

#endif /* REDLINE_BPF_L7_CLASSIFIER_BPF_H */
