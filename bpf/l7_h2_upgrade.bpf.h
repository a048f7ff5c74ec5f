/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The h2c upgrade (RFC 7540 3.2): whether a 101 Switching Protocols
 * switches its connection to HTTP/2, and where its frames start. Pure:
 * the first bytes of the 101 in, no map or helper but bpf_loop, so that
 * tests/unit/bpf compiles it too. bpf/l7_h2.bpf.h copies those bytes
 * (rl_h2_upgrade_at), then rl_h2_data takes the connection over with
 * RL_H2_AT_UPGRADE.
 */
#ifndef REDLINE_BPF_L7_H2_UPGRADE_BPF_H
#define REDLINE_BPF_L7_H2_UPGRADE_BPF_H

#include "l7_classifier.bpf.h"

/* Where frames start in data (RL_H2_OFF_UNKNOWN: not found). */
#define RL_H2_OFF_MASK 0xffff
#define RL_H2_OFF_UNKNOWN RL_H2_OFF_MASK

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

/* For a 101 Switching Protocols in b[0, n) (n at most
 * RL_H2_UPGRADE_PEEK): where its frames start if it switches to h2c (past
 * its header block; RL_H2_OFF_UNKNOWN if that end is not in b), 0 if it
 * switches to anything else. The 101's own Upgrade header is checked, not
 * the request's: a server MUST name the protocol it switches to there
 * (RFC 9110 7.8), and a client's request may offer several (and is not
 * kept). */
static __always_inline __u32 rl_h2_upgrade_end(const char *b, __u32 n)
{
	struct h2_upgrade_scan s = {};

	s.b = b;
	s.n = n;
	bpf_loop(RL_H2_UPGRADE_PEEK, h2_upgrade_byte, &s, 0);
	if (!s.h2c)
		return 0;
	return s.end ? s.end : RL_H2_OFF_UNKNOWN;
}

#endif /* REDLINE_BPF_L7_H2_UPGRADE_BPF_H */
