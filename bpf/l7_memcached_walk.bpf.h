/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The memcached walk (bpf/l7_memcached.bpf.h says what it counts): a read
 * or write, line by line, each line read from user memory where it starts
 * and tokenized once. Every loop is a bpf_loop whose state lives in
 * rl_l7_runs (global-function argument memory, untracked by the verifier).
 * Included by l7_memcached.bpf.h only.
 */
#ifndef REDLINE_BPF_L7_MEMCACHED_WALK_BPF_H
#define REDLINE_BPF_L7_MEMCACHED_WALK_BPF_H

/* One line's tokens, in rl_l7_runs.scratch. */
struct mc_line {
	__u32 pos;	/* next byte (window index) */
	__u32 end;	/* past the bytes read */
	__u32 num;	/* the wanted token's number */
	__u16 last;	/* window index of the last token */
	__u8 last_len;	/* its length (capped) */
	__u8 first_len; /* the first token's (capped) */
	__u8 tok;	/* tokens started */
	__u8 want;	/* index of the token whose number is wanted */
	__u8 nl;	/* the line ended: pos is past its '\n' */
	__u8 bad;	/* the wanted token is not a number (or too big) */
};

struct mc_line_ctx {
	const char *b;
	struct mc_line *m;
};

static long mc_line_byte(__u32 i, void *data)
{
	struct mc_line_ctx *x = (struct mc_line_ctx *)data; /* C++: fuzz */
	struct mc_line *m = x->m;
	char c;

	if (m->pos >= m->end)
		return 1;
	c = RL_WAT(x->b, m->pos);
	m->pos++;
	if (c == '\n') {
		m->nl = 1;
		return 1;
	}
	if (c == ' ' || c == '\r') {
		m->last_len |= 0x80; /* token closed: lengths stay < 128 */
		return 0;
	}
	if (!m->tok || (m->last_len & 0x80)) { /* a token starts */
		m->tok++;
		m->last = m->pos - 1;
		m->last_len = 0;
	}
	if (m->last_len < 127)
		m->last_len++;
	if (m->tok == 1)
		m->first_len = m->last_len;
	if (m->tok == m->want + 1) {
		if (c < '0' || c > '9' || m->num > RL_MC_DATA_MAX / 10)
			m->bad = 1;
		else
			m->num = m->num * 10 + (c - '0');
	}
	return 0;
}

/* Tokenizes the line at window index pos (bytes up to end), wanting the
 * number of token want (RL_MC_NONE: none); whether it ended in them. A
 * global function: verified once. */
RL_L7_GLOBAL int rl_mc_line(struct rl_l7_window *w, __u32 pos, __u32 end,
			    __u32 want, struct rl_l7_runs *r)
{
	struct mc_line *m;
	struct mc_line_ctx x;

	if (!w || !r)
		return 0;
	m = (struct mc_line *)r->scratch;
	__builtin_memset(m, 0, sizeof(*m));
	m->pos = pos;
	m->end = end;
	m->want = want;
	x.b = w->b;
	x.m = m;
	bpf_loop(RL_MC_LINE_MAX, mc_line_byte, &x, 0);
	m->last_len &= 0x7f;
	return m->nl;
}

/* The first word of the line just tokenized, as a command (0 if none) or
 * a response word (MC_W_NONE). */
RL_L7_GLOBAL int rl_mc_word(struct rl_l7_window *w, __u32 pos, __u32 commands,
			    struct rl_l7_runs *r)
{
	struct mc_line *m;

	if (!w || !r)
		return 0;
	m = (struct mc_line *)r->scratch;
	/* Commands are lower case (memcached answers ERROR to "GET"): that
	 * alone keeps HTTP's GET out; the search itself folds case. */
	if (commands && (RL_WAT(w->b, pos) < 'a' || RL_WAT(w->b, pos) > 'z'))
		return 0;
	if (commands)
		return rl_l7_find(mc_command_step, RL_L7_N(mc_commands), w->b,
				  pos, m->first_len, 0);
	return rl_l7_find(mc_word_step, RL_L7_N(mc_words), w->b, pos,
			  m->first_len, MC_W_NONE);
}

struct mc_walk {
	struct rl_l7_window *w;
	struct rl_l7_runs *r; /* also the walk's position */
	__u64 ubuf;	      /* the data */
	__u32 len;
	__u32 requests; /* walking requests, else responses */
};

/* Copies up to RL_MC_LINE_MAX bytes of the data at off to the window's
 * upper half; the number copied. */
static __always_inline __u32 mc_fetch(struct mc_walk *s, __u32 off)
{
	__u32 size = s->len - off;

	if (off >= s->len)
		return 0;
	if (size > RL_MC_LINE_MAX)
		size = RL_MC_LINE_MAX;
	return rl_l7_gather(s->w, RL_MC_AT, off, size, s->r);
}

static __always_inline bool mc_noreply(struct mc_walk *s)
{
	struct mc_line *m = (struct mc_line *)s->r->scratch;
	__u64 w0, w1;

	if (m->last_len != 7)
		return false;
	rl_l7_pack(s->w->b, m->last, 7, 0x20, &w0, &w1);
	return w0 == RL_PACK8_LC("noreply", 0);
}

/* The number of token k of the line at window index at (got bytes);
 * false if it is not one. */
static __always_inline bool mc_number(struct mc_walk *s, __u32 at, __u32 got,
				      __u32 k, __u32 *v)
{
	struct mc_line *m = (struct mc_line *)s->r->scratch;

	if (!rl_mc_line(s->w, at, at + got, k, s->r) || m->bad || m->tok <= k)
		return false;
	*v = m->num;
	return true;
}

static __always_inline void mc_emit(struct rl_l7_runs *r, __u8 op)
{
	if (!r->first)
		r->first = op;
	else
		rl_l7_scan_add(r, op);
}

/* A request line at off of the line's length; *next past it and its data
 * block. false: stop the walk. */
static __always_inline bool mc_request(struct mc_walk *s, __u32 off, __u32 at,
				       __u32 got, __u32 *next)
{
	struct mc_line *m = (struct mc_line *)s->r->scratch;
	__u32 line = m->pos - at, data = 0, k = RL_MC_NONE;
	__u8 cmd = rl_mc_word(s->w, at, 1, s->r), word;

	if (!cmd) {
		word = rl_mc_word(s->w, at, 0, s->r);
		if (word == MC_W_META_SET)
			k = 2;
		else if (word != MC_W_META)
			return false;
	}
	switch (cmd) {
	case RL_MC_CMD_set:
	case RL_MC_CMD_add:
	case RL_MC_CMD_replace:
	case RL_MC_CMD_append:
	case RL_MC_CMD_prepend:
	case RL_MC_CMD_cas:
		k = 4;
	}
	if (cmd && !mc_noreply(s))
		mc_emit(s->r, cmd);
	if (k != RL_MC_NONE) {
		if (!mc_number(s, at, got, k, &data))
			return false;
		data += 2;
	}
	*next = off + line + data;
	return true;
}

/* A response line; false: stop the walk. */
static __always_inline bool mc_response(struct mc_walk *s, __u32 off, __u32 at,
					__u32 got, __u32 *next)
{
	struct rl_l7_runs *r = s->r;
	struct mc_line *m = (struct mc_line *)r->scratch;
	__u32 line = m->pos - at, data = 0, k = RL_MC_NONE;
	char c = RL_WAT(s->w->b, at);
	__u8 word = rl_mc_word(s->w, at, 0, r), out = 0;

	switch (word) {
	case MC_W_VALUE:
		r->state |= RL_MC_HIT;
		k = 3;
		break;
	case MC_W_META_VA:
		k = 1;
		break;
	case MC_W_END:
		out = r->state ? RL_MC_OUT_ok : RL_MC_OUT_miss;
		break;
	case MC_W_STAT:
		r->state |= RL_MC_STATS;
		break;
	case MC_W_OK:
		out = RL_MC_OUT_ok;
		break;
	case MC_W_NOT_STORED:
		out = RL_MC_OUT_not_stored;
		break;
	case MC_W_EXISTS:
		out = RL_MC_OUT_exists;
		break;
	case MC_W_MISS:
		out = RL_MC_OUT_miss;
		break;
	case MC_W_ERROR:
		out = RL_MC_OUT_error;
		break;
	case MC_W_CLIENT_ERROR:
		out = RL_MC_OUT_client_error;
		break;
	case MC_W_SERVER_ERROR:
		out = RL_MC_OUT_server_error;
		break;
	case MC_W_META:
		break;
	default: /* incr/decr: the new value */
		if (c < '0' || c > '9')
			return false;
		out = RL_MC_OUT_ok;
	}
	if (out) {
		rl_l7_scan_add(r, out);
		r->state = 0;
	}
	if (k != RL_MC_NONE) {
		if (!mc_number(s, at, got, k, &data))
			return false;
		data += 2;
	}
	*next = off + line + data;
	return true;
}

/* One line (a bpf_loop callback): 1 to stop. */
static long mc_walk_line(__u32 i, void *data)
{
	struct mc_walk *s = (struct mc_walk *)data; /* C++: fuzz */
	struct rl_l7_runs *r = s->r;
	__u32 off = r->off, got, next = 0, at = RL_MC_AT;
	bool go;

	got = mc_fetch(s, off);
	if (!got || !rl_mc_line(s->w, at, at + got, RL_MC_NONE, r))
		return 1; /* no whole line: the rest is not followed */
	go = s->requests ? mc_request(s, off, at, got, &next)
			 : mc_response(s, off, at, got, &next);
	if (!go)
		return 1;
	r->off = next;
	if (next > s->len) /* a data block's rest comes in the next data */
		r->end = next;
	return next >= s->len;
}

/* Walks the len bytes at ubuf from their first line, reporting in r the
 * requests in them (the first in r->first) or the answers. */
RL_L7_GLOBAL int rl_mc_walk(struct rl_l7_window *w, __u64 ubuf, __u32 len,
			    __u32 requests, struct rl_l7_runs *r)
{
	struct mc_walk s = {};

	if (!w || !r)
		return 0;
	s.w = w;
	s.r = r;
	s.ubuf = ubuf;
	s.len = len;
	s.requests = requests != 0;
	r->off = 0;
	bpf_loop(RL_MC_LINES, mc_walk_line, &s, 0);
	if (s.requests && !r->first)
		r->first = RL_L7_INTERIM;
	return 0;
}

/* The request start: a listed command (lower case) as the first word,
 * then a blank or the line's end (the walk finds what it is and whether it
 * is answered: RL_MC_CMD_get is a placeholder it replaces). No tokenizer
 * state: the call chain's stack is short on 6.1. */
RL_L7_GLOBAL int rl_mc_start(struct rl_l7_window *w, __u32 n)
{
	__u32 len = 0;
	char c;

	if (!w || n < 4)
		return 0;
	c = w->b[0];
	if (c < 'a' || c > 'z')
		return 0;
#pragma unroll
	for (__u32 i = 1; i < 11; i++) {
		c = w->b[i];
		if (i < n && (c == ' ' || c == '\r')) {
			len = i;
			break;
		}
	}
	if (!len)
		return 0;
	return rl_l7_find(mc_command_step, RL_L7_N(mc_commands), w->b, 0, len,
			  0)
		   ? RL_MC_CMD_get
		   : 0;
}

/* b is a window's first byte (rl_l7_request's contract: off is 0). */
static __always_inline __u8 mc_request_at(const char *b, __u32 off, __u32 n)
{
	return rl_mc_start((struct rl_l7_window *)b, n);
}

/* The response start: any data on a memcached connection; the walk finds
 * the answers (rl_l7_response asks this row only once the connection is
 * known: an answer alone never names it). */
static __always_inline __u8 mc_response_start(const char *b, __u32 n)
{
	return n ? RL_L7_INTERIM : 0;
}

static __always_inline void mc_next_requests(struct rl_l7_window *w,
					     struct rl_l7_scan *s)
{
	rl_mc_walk(w, s->ubuf, s->len, 1, &s->r);
}

static __always_inline void mc_next_responses(struct rl_l7_window *w,
					      struct rl_l7_scan *s)
{
	rl_mc_walk(w, s->ubuf, s->len, 0, &s->r);
}

#endif /* REDLINE_BPF_L7_MEMCACHED_WALK_BPF_H */
