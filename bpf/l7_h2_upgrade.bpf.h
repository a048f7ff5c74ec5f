/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The h2c upgrade (RFC 7540 3.2) in the kernel: whether a 101 Switching
 * Protocols switches its connection to HTTP/2, and where its frames
 * start. Then rl_h2_data (bpf/l7_h2.bpf.h) takes the connection over with
 * RL_H2_AT_UPGRADE. Included by l7_conn.bpf.h, after l7_h2.bpf.h.
 */
#ifndef REDLINE_BPF_L7_H2_UPGRADE_BPF_H
#define REDLINE_BPF_L7_H2_UPGRADE_BPF_H

#include "l7_h2.bpf.h"

/* Bytes of a 101 Switching Protocols looked at for its Upgrade header
 * and its end: a status line and a few header lines. */
#define RL_H2_UPGRADE_PEEK 512

struct h2_upgrade_scan {
	const char *b;
	__u32 n;   /* bytes in b */
	__u32 end; /* past the blank line ending the 101's header block */
	__u32 h2c; /* an "h2c" token ends a header value */
};

/* Byte i of a 101 (from its status line's end): "h2c" as a whole value or
 * list element ("Upgrade: h2c"), or the header block's end. */
static long h2_upgrade_byte(__u32 i, void *data)
{
	struct h2_upgrade_scan *s = (struct h2_upgrade_scan *)data;
	const char *b = s->b;
	char p, e;

	i += 12; /* "HTTP/1.1 101" */
	if (i + 4 > s->n)
		return 1;
	if (RL_WAT(b, i) == '\r' && RL_WAT(b, i + 1) == '\n' &&
	    RL_WAT(b, i + 2) == '\r' && RL_WAT(b, i + 3) == '\n') {
		s->end = i + 4;
		return 1;
	}
	if ((RL_WAT(b, i) | 0x20) != 'h' || RL_WAT(b, i + 1) != '2' ||
	    (RL_WAT(b, i + 2) | 0x20) != 'c')
		return 0;
	p = RL_WAT(b, i - 1);
	e = RL_WAT(b, i + 3);
	if ((p == ' ' || p == ':' || p == ',') &&
	    (e == '\r' || e == ' ' || e == ','))
		s->h2c = 1;
	return 0;
}

/* For a 101 Switching Protocols at the data's start: where the frames
 * start if it switches to h2c (past its header block; RL_H2_OFF_UNKNOWN
 * if that end is not in its first RL_H2_UPGRADE_PEEK bytes), 0 if it
 * switches to anything else. The 101's own Upgrade header
 * is checked, not the request's: a server MUST name the protocol it
 * switches to there (RFC 9110 7.8), and a client's request may offer
 * several (and is not kept). Not inlined: off l7_exit's stack, as
 * rl_h2_data. */
static __noinline __u32 rl_h2_upgrade_at(struct rl_l7_scan *ctx)
{
	struct rl_l7_window *w = RL_L7_WINDOW_OF_CALLER();
	struct h2_upgrade_scan s = {};
	__u32 n;

	if (!ctx || !w)
		return 0;
	n = ctx->len < RL_H2_UPGRADE_PEEK ? ctx->len : RL_H2_UPGRADE_PEEK;
	if (rl_l7_gather(w, 0, 0, n, &ctx->r) != n)
		return 0;
	s.b = w->b;
	s.n = n;
	bpf_loop(RL_H2_UPGRADE_PEEK, h2_upgrade_byte, &s, 0);
	if (!s.h2c)
		return 0;
	return s.end ? s.end : RL_H2_OFF_UNKNOWN;
}

#endif /* REDLINE_BPF_L7_H2_UPGRADE_BPF_H */
