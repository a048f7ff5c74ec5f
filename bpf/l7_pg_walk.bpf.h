/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The PostgreSQL walk (bpf/l7_pg.bpf.h says what it counts): a read or
 * write, message by message, each header read from user memory where the
 * message starts. Included by l7_pg.bpf.h only.
 *
 * Every loop is a bpf_loop whose state lives in rl_l7_runs (the walk's
 * global-function argument, whose values the verifier does not track), so
 * each callback is verified once, not once per value of a growing offset.
 */
#ifndef REDLINE_BPF_L7_PG_WALK_BPF_H
#define REDLINE_BPF_L7_PG_WALK_BPF_H

#include "l7_pg_scan.bpf.h"

struct pg_walk {
	struct rl_l7_window *w;
	struct rl_l7_runs *r; /* also the walk's position */
	__u64 ubuf;	      /* the data */
	__u32 len;
	__u32 requests; /* walking requests, else responses */
};

/* Copies up to RL_PG_BODY bytes (max) of the data at off to the window's
 * upper half; the number copied. */
static __always_inline __u32 pg_fetch(struct pg_walk *s, __u32 off, __u32 max)
{
	__u32 size = s->len - off;

	if (off >= s->len)
		return 0;
	if (size > max)
		size = max;
	if (size > RL_PG_BODY)
		size = RL_PG_BODY;
	return rl_l7_gather(s->w, RL_PG_AT, off, size, s->r);
}

static __always_inline void pg_emit(struct rl_l7_runs *r, __u8 cmd)
{
	if (!r->first)
		r->first = cmd;
	else
		rl_l7_scan_add(r, cmd);
}

/* A frontend message of type t and body length blen at off. */
static __always_inline void pg_request(struct pg_walk *s, char t, __u32 off,
				       __u32 blen)
{
	struct rl_l7_runs *r = s->r;
	struct pg_scan *m = (struct pg_scan *)r->scratch;
	__u32 got, at = RL_PG_AT;
	__u8 g = r->state, cmd;

	switch (t) {
	case 'Q':
		got = pg_fetch(s, off + 5, blen);
		pg_emit(r, got ? rl_pg_keyword(s->w, at, at + got, r)
			       : RL_PG_CMD_OTHER);
		r->state = 0;
		break;
	case 'P': /* name, query */
		got = pg_fetch(s, off + 5, blen);
		cmd = RL_PG_CMD_OTHER;
		if (rl_pg_name(s->w, at, at + got, r)) {
			__u32 hash = m->hash;

			cmd = rl_pg_keyword(s->w, m->pos, at + got, r);
			rl_l7_stmt_put(r->conn, hash, cmd);
		}
		r->state = (g & RL_PG_GROUP_EXEC) | RL_PG_GROUP_PARSE | cmd;
		break;
	case 'B': /* portal, statement */
		got = pg_fetch(s, off + 5, blen);
		if (rl_pg_name(s->w, at, at + got, r) &&
		    rl_pg_name(s->w, m->pos, at + got, r))
			r->state = (g & ~RL_PG_GROUP_CMD) |
				   rl_pg_stmt_get(r->conn, m->hash);
		break;
	case 'E':
		r->state = g | RL_PG_GROUP_EXEC;
		break;
	case 'S':
		cmd = g & RL_PG_GROUP_CMD;
		if (!(g & RL_PG_GROUP_EXEC))
			cmd = g & RL_PG_GROUP_PARSE ? RL_PG_CMD_PARSE
						    : RL_PG_CMD_OTHER;
		pg_emit(r, cmd ? cmd : RL_PG_CMD_OTHER);
		r->state = 0;
		break;
	case 'F': /* FunctionCall: answered by ReadyForQuery too */
		pg_emit(r, RL_PG_CMD_OTHER);
		break;
	}
}

/* The outcome of an ErrorResponse of body length blen at off: its code's
 * class. */
static __always_inline __u8 pg_error(struct pg_walk *s, __u32 off, __u32 blen)
{
	__u32 got = pg_fetch(s, off + 5, blen);

	return rl_pg_error_class(s->w, RL_PG_AT, RL_PG_AT + got, s->r);
}

/* Whether the data ends with a ReadyForQuery: where a walk that lost its
 * place (or gave up on a long read of rows) finds the end of a response
 * again. */
static __always_inline bool pg_ends_ready(struct pg_walk *s)
{
	const char *z = s->w->b + RL_PG_HDR_AT;

	if (s->len < 6 ||
	    rl_l7_gather(s->w, RL_PG_HDR_AT, s->len - 6, 6, s->r) != 6)
		return false;
	return z[0] == 'Z' && !z[1] && !z[2] && !z[3] && z[4] == 5 &&
	       (z[5] == 'I' || z[5] == 'T' || z[5] == 'E');
}

static __always_inline void pg_resync(struct pg_walk *s)
{
	struct rl_l7_runs *r = s->r;
	__u8 err = r->state & ~RL_PG_LOST;

	if (!pg_ends_ready(s)) {
		r->state |= RL_PG_LOST;
		return;
	}
	rl_l7_scan_add(r, err ? err : RL_PG_OUT_OK);
	r->state = 0;
}

/* One message (a bpf_loop callback): 1 to stop. */
static long pg_walk_message(__u32 i, void *data)
{
	struct pg_walk *s = (struct pg_walk *)data; /* C++: fuzz */
	struct rl_l7_runs *r = s->r;
	__u32 off = r->off, blen, next;
	const char *h = s->w->b + RL_PG_HDR_AT;

	if (off >= s->len)
		return 1;
	if (off + 5 > s->len ||
	    rl_l7_gather(s->w, RL_PG_HDR_AT, off, 5, r) != 5) {
		if (!s->requests) /* a header split across reads */
			r->state |= RL_PG_LOST;
		return 1;
	}
	blen = pg_be32_at(h, 1);
	if (s->requests) {
		if (blen < 4 || blen >= RL_PG_MSG_MAX)
			return 1;
		pg_request(s, h[0], off, blen - 4);
	} else {
		if (!pg_response_message(h[0], blen)) {
			r->state |= RL_PG_LOST;
			return 1;
		}
		if (h[0] == 'E' && !r->state)
			r->state = pg_error(s, off, blen - 4);
		if (h[0] == 'Z') {
			rl_l7_scan_add(r, r->state ? r->state : RL_PG_OUT_OK);
			r->state = 0;
		}
	}
	next = off + 1 + blen;
	r->off = next;
	if (next > s->len) /* the rest comes in the next data */
		r->end = next;
	return next >= s->len;
}

/* Walks the len bytes at ubuf (the first of them in w) from their first
 * message, reporting in r the requests that end in them (the first in
 * r->first) or the responses that do. A global function: the verifier
 * checks it once, on its own. */
RL_L7_GLOBAL int rl_pg_walk(struct rl_l7_window *w, __u64 ubuf, __u32 len,
			    __u32 requests, struct rl_l7_runs *r)
{
	struct pg_walk s = {};
	long hops;

	if (!w || !r)
		return 0;
	s.w = w;
	s.r = r;
	s.ubuf = ubuf;
	s.len = len;
	s.requests = requests != 0;
	r->off = 0;
	if (!s.requests && (r->state & RL_PG_LOST)) {
		pg_resync(&s);
		return 0;
	}
	hops = bpf_loop(RL_PG_HOPS, pg_walk_message, &s, 0);
	if (s.requests) {
		if (!r->first)
			r->first = RL_L7_INTERIM;
	} else if ((r->state & RL_PG_LOST) ||
		   (hops >= RL_PG_HOPS && r->off < len && !r->end)) {
		/* Lost in this read, or rows past the walk's reach. */
		pg_resync(&s);
	}
	return 0;
}

static __always_inline void pg_next_requests(struct rl_l7_window *w,
					     struct rl_l7_scan *s)
{
	rl_pg_walk(w, s->ubuf, s->len, 1, &s->r);
}

static __always_inline void pg_next_responses(struct rl_l7_window *w,
					      struct rl_l7_scan *s)
{
	rl_pg_walk(w, s->ubuf, s->len, 0, &s->r);
}

#endif /* REDLINE_BPF_L7_PG_WALK_BPF_H */
