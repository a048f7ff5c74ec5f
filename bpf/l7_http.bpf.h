/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/1.x classifier (the contract is bpf/l7_classifier.bpf.h, the row in
 * bpf/l7_proto.bpf.h):
 *	request start	a request line ("GET /x HTTP/1.1"): the method
 *	next requests	after each header block's end ("\r\n\r\n"), at
 *			most RL_L7_FIFO - 1 of them in the first
 *			RL_L7_PEEK bytes
 *	response start	a status line ("HTTP/1.1 404 ..."): the status
 *			class, or interim for 1xx but 101
 *	next responses	none: a client reading several answers at once
 *			sees the first (the others' requests are pending
 *			at close)
 */
#ifndef REDLINE_BPF_L7_HTTP_BPF_H
#define REDLINE_BPF_L7_HTTP_BPF_H

#include "l7_classifier.bpf.h"

/* The blank line ending a header block at offset i. */
static __always_inline bool http_is_header_end(const char *b, __u32 i)
{
	return RL_AT(b, i) == '\r' && RL_AT(b, i + 1) == '\n' &&
	       RL_AT(b, i + 2) == '\r' && RL_AT(b, i + 3) == '\n';
}

/* The method of a request line starting at off ("GET /x HTTP/1.1"), or
 * RL_HTTP_UNKNOWN (0) if the bytes there do not start one. The target must
 * follow: origin form "/", absolute form "http://", authority form
 * (CONNECT host:port) or asterisk form (OPTIONS *). */
static __always_inline __u8 http_method_at(const char *b, __u32 off, __u32 n)
{
	__u32 len = 0;
	__u8 m = 0;
	char t;

	if (off + 5 > n)
		return 0;
	switch (RL_AT(b, off)) {
	case 'G':
		if (RL_AT(b, off + 1) == 'E' && RL_AT(b, off + 2) == 'T')
			m = RL_HTTP_GET, len = 3;
		break;
	case 'H':
		if (RL_AT(b, off + 1) == 'E' && RL_AT(b, off + 2) == 'A' &&
		    RL_AT(b, off + 3) == 'D')
			m = RL_HTTP_HEAD, len = 4;
		break;
	case 'P':
		if (RL_AT(b, off + 1) == 'O' && RL_AT(b, off + 2) == 'S' &&
		    RL_AT(b, off + 3) == 'T')
			m = RL_HTTP_POST, len = 4;
		else if (RL_AT(b, off + 1) == 'U' && RL_AT(b, off + 2) == 'T')
			m = RL_HTTP_PUT, len = 3;
		else if (RL_AT(b, off + 1) == 'A' && RL_AT(b, off + 2) == 'T' &&
			 RL_AT(b, off + 3) == 'C' && RL_AT(b, off + 4) == 'H')
			m = RL_HTTP_PATCH, len = 5;
		break;
	case 'D':
		if (RL_AT(b, off + 1) == 'E' && RL_AT(b, off + 2) == 'L' &&
		    RL_AT(b, off + 3) == 'E' && RL_AT(b, off + 4) == 'T' &&
		    RL_AT(b, off + 5) == 'E')
			m = RL_HTTP_DELETE, len = 6;
		break;
	case 'C':
		if (RL_AT(b, off + 1) == 'O' && RL_AT(b, off + 2) == 'N' &&
		    RL_AT(b, off + 3) == 'N' && RL_AT(b, off + 4) == 'E' &&
		    RL_AT(b, off + 5) == 'C' && RL_AT(b, off + 6) == 'T')
			m = RL_HTTP_CONNECT, len = 7;
		break;
	case 'O':
		if (RL_AT(b, off + 1) == 'P' && RL_AT(b, off + 2) == 'T' &&
		    RL_AT(b, off + 3) == 'I' && RL_AT(b, off + 4) == 'O' &&
		    RL_AT(b, off + 5) == 'N' && RL_AT(b, off + 6) == 'S')
			m = RL_HTTP_OPTIONS, len = 7;
		break;
	case 'T':
		if (RL_AT(b, off + 1) == 'R' && RL_AT(b, off + 2) == 'A' &&
		    RL_AT(b, off + 3) == 'C' && RL_AT(b, off + 4) == 'E')
			m = RL_HTTP_TRACE, len = 5;
		break;
	}
	if (!m || off + len + 2 > n || RL_AT(b, off + len) != ' ')
		return 0;
	t = RL_AT(b, off + len + 1);
	if (t == '/' || t == '*' || (t >= 'a' && t <= 'z') ||
	    (t >= 'A' && t <= 'Z') || (t >= '0' && t <= '9') || t == '[')
		return m;
	return 0;
}

static __always_inline bool rl_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The status code of a status line ("HTTP/1.1 404 Not Found"), or 0. */
static __always_inline __u32 http_status(const char *b, __u32 n)
{
	__u32 code;

	if (n < 12 || b[0] != 'H' || b[1] != 'T' || b[2] != 'T' ||
	    b[3] != 'P' || b[4] != '/' || b[5] != '1' || b[6] != '.' ||
	    (b[7] != '0' && b[7] != '1') || b[8] != ' ')
		return 0;
	if (!rl_digit(b[9]) || !rl_digit(b[10]) || !rl_digit(b[11]))
		return 0;
	if (n > 12 && b[12] != ' ' && b[12] != '\r')
		return 0;
	code = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	return code >= 100 && code <= 599 ? code : 0;
}

/* The outcome of a response starting at b[0]: its status class (1..5),
 * RL_L7_INTERIM for an interim one (1xx; not 101 Switching Protocols, the
 * last HTTP answer on the connection), or 0 if b starts no status line. */
static __always_inline __u8 http_response(const char *b, __u32 n)
{
	__u32 status = http_status(b, n);

	if (!status)
		return 0;
	if (status < 200 && status != 101)
		return RL_L7_INTERIM;
	return status / 100;
}

/* HTTP's own scan state: where header blocks end in the window. */
struct http_scan {
	const struct rl_l7_window *w;
	__u32 n;	      /* valid bytes, at most RL_L7_PEEK */
	__u32 found;	      /* entries of at[] */
	__u32 at[RL_L7_FIFO]; /* offsets just past each block's end */
};

/* A header block's end at p, with bytes after it (where a pipelined
 * request would start). */
static __always_inline bool http_end_at(struct http_scan *s, __u32 p)
{
	if (p == 0 || p + 4 >= s->n || !http_is_header_end(s->w->b, p))
		return false;
	s->at[s->found & (RL_L7_FIFO - 1)] = p + 4;
	return ++s->found >= RL_L7_FIFO - 1;
}

/* Word i of the window: most words hold no '\r' and cost one test (the
 * "has a zero byte" trick on w ^ "\r\r\r\r\r\r\r\r"; its false
 * positives are checked byte by byte, it has no false negatives). */
static long http_scan_word(__u32 i, void *data)
{
	const __u64 ones = 0x0101010101010101ULL, cr = 0x0d * ones;
	struct http_scan *s = (struct http_scan *)data; /* C++: fuzz */
	__u32 base = (i * 8) & (2 * RL_L7_PEEK - 8);
	__u64 w, v;

	if (base + 4 >= s->n)
		return 1;
	w = *(const __u64 *)&s->w->b[base];
	v = w ^ cr;
	if (!((v - ones) & ~v & (ones << 7)))
		return 0;
	for (__u32 j = 0; j < 8; j++)
		if (http_end_at(s, base + j))
			return 1;
	return 0;
}

/* Where requests pipelined behind the first may start: after each header
 * block's end, the first RL_L7_FIFO - 1 in the first RL_L7_PEEK bytes. */
static __always_inline void http_block_ends(struct http_scan *s)
{
	if (s->n <= RL_L7_SMALL_PEEK)
		return; /* too short for two requests: spare the scan */
	/* A connection not yet classified peeks the largest window; HTTP
	 * reads its own (RL_AT wraps at RL_L7_PEEK). */
	if (s->n > RL_L7_PEEK)
		s->n = RL_L7_PEEK;
	/* bpf_loop (5.17): the callback is verified once, where an open
	 * loop over the window is verified per iteration and blows the
	 * verifier's budget. */
	bpf_loop(RL_L7_PEEK / 8, http_scan_word, s, 0);
}

/* Pipelined requests start after a header block. One that carries a body
 * is followed by the body, not a request line: the request behind it is
 * then counted by its response, with method unknown. A global function:
 * verified once, on its own. */
RL_L7_GLOBAL int
rl_http_next_requests(const struct rl_l7_window *w, __u32 n,
		      struct rl_l7_runs *r)
{
	struct http_scan s = {};
	__u32 found;
	__u8 op;

	if (!w || !r)
		return 0;
	s.w = w;
	s.n = n;
	http_block_ends(&s);
	found = s.found;
	for (__u32 j = 0; j < RL_L7_FIFO - 1; j++) {
		if (j >= found)
			break;
		op = http_method_at(w->b, s.at[j & (RL_L7_FIFO - 1)], s.n);
		if (op)
			rl_l7_scan_add(r, op);
	}
	return 0;
}

static __always_inline void http_next_requests(struct rl_l7_window *w,
					       struct rl_l7_scan *s)
{
	rl_http_next_requests(w, s->n, &s->r);
}

#endif /* REDLINE_BPF_L7_HTTP_BPF_H */
