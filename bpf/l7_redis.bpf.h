/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Redis classifier, RESP2 and RESP3 (the contract is
 * bpf/l7_classifier.bpf.h, the row in bpf/l7_proto.bpf.h):
 *	request start	an array of bulk strings ("*3\r\n$3\r\nSET\r\n..."):
 *			the command, from bpf/l7_redis.h's list or other
 *	next requests	the commands pipelined behind it, walked value by
 *			value (a bulk's length says where the next starts)
 *	response start	any reply: ok, or an error ("-WRONGTYPE ...",
 *			RESP3 "!") by its prefix
 *	next responses	the replies that follow it in the same read
 * Inline commands ("PING\r\n", telnet style) are not requests: no client
 * library sends them, and they would match any text protocol. A reply
 * alone never names a connection Redis: its first bytes ('+', ':', '$')
 * are too easily matched by chance.
 *
 * Only the command name is read from a request and only the error prefix
 * from a reply; keys and values never leave the kernel.
 */
#ifndef REDLINE_BPF_L7_REDIS_BPF_H
#define REDLINE_BPF_L7_REDIS_BPF_H

#include "l7_classifier.bpf.h"
#include "l7_redis.h"
#include "l7_words.bpf.h"

#define RL_REDIS_LINE_MAX 128 /* a simple string or error line we follow */
#define RL_REDIS_BULK_MAX (512 << 20) /* proto-max-bulk-len's default */

#define RL_REDIS_CMD_ROW(name)                                                 \
	{RL_PACK8(#name, 0), RL_PACK8(#name, 8), RL_REDIS_CMD_##name, {0}},
static const struct rl_l7_word redis_commands[] = {
    RL_REDIS_COMMANDS(RL_REDIS_CMD_ROW)};
#undef RL_REDIS_CMD_ROW

/* Error prefixes are upper case: matched case-insensitively as commands
 * are. */
#define RL_REDIS_OUT_ROW(name)                                                 \
	{RL_PACK8_LC(#name, 0),                                                \
	 RL_PACK8_LC(#name, 8),                                                \
	 RL_REDIS_OUT_##name,                                                  \
	 {0}},
static const struct rl_l7_word redis_errors_lc[] = {
    RL_REDIS_ERRORS(RL_REDIS_OUT_ROW)};
#undef RL_REDIS_OUT_ROW

RL_L7_SEARCH_STEP(redis_command_step, redis_commands)
RL_L7_SEARCH_STEP(redis_error_step, redis_errors_lc)

/* The command named by the len bytes at b[off]; other if not listed. */
static __always_inline __u8 redis_command(const char *b, __u32 off, __u32 len)
{
	return rl_l7_find(redis_command_step, RL_L7_N(redis_commands), b, off,
			  len, RL_REDIS_CMD_OTHER);
}

struct redis_word_ctx {
	const char *b;
	__u32 off, n, len;
};

static long redis_word_byte(__u32 i, void *data)
{
	struct redis_word_ctx *x = (struct redis_word_ctx *)data; /* C++ */
	char c;

	if (x->off + i >= x->n)
		return 1; /* cut: no word end seen */
	c = RL_WAT(x->b, x->off + i);
	if (c != ' ' && c != '\r')
		return 0;
	x->len = i;
	return 1;
}

/* The outcome of an error whose text starts at b[off]: its first word
 * (upper case in the list: "WRONGTYPE"), matched case-insensitively. The
 * word's end is found by a bpf_loop: an open loop's 17 exits would each
 * carry their own length through the search. */
static __always_inline __u8 redis_error(const char *b, __u32 off, __u32 n)
{
	struct redis_word_ctx x = {.b = b, .off = off, .n = n, .len = 17};

	bpf_loop(RL_L7_WORD_MAX + 1, redis_word_byte, &x, 0);
	/* Lower case both sides: fold the list's words the same way. */
	return rl_l7_find(redis_error_step, RL_L7_N(redis_errors_lc), b, off,
			  x.len, RL_REDIS_OUT_ERROR);
}

/* A number being parsed. The walk keeps it in rl_l7_runs's scratch, where
 * the verifier tracks no values: a digit accumulator it tracked would grow
 * its range tenfold per byte, and the callback be verified once per byte
 * of every number of every path. */
struct redis_num {
	__s64 x;
	__u32 off, n, next;
	__u8 neg, pad[3];
};

struct redis_number_ctx {
	const char *b;
	struct redis_num *m;
};

/* Byte i + 1 of a header line (a bpf_loop callback, like every scan
 * here: an open loop's exits are each verified to the program's end). */
static long redis_number_byte(__u32 i, void *data)
{
	struct redis_number_ctx *x = (struct redis_number_ctx *)data; /* C++ */
	struct redis_num *m = x->m;
	__u32 p = m->off + 1 + i;
	char c;

	if (p + 1 >= m->n)
		return 1; /* the line's end is not in the data */
	c = RL_WAT(x->b, p);
	if (c == '\r') {
		if (RL_WAT(x->b, p + 1) == '\n' && i > m->neg)
			m->next = p + 2;
		return 1;
	}
	if (c == '-' && i == 0) {
		m->neg = 1;
		return 0;
	}
	/* Ten digits cannot overflow. */
	if (c < '0' || c > '9' || i >= 10 + m->neg)
		return 1;
	m->x = m->x * 10 + (c - '0');
	return 0;
}

/* The integer of the header line at b[off] ("*3\r\n", "$-1\r\n": type byte,
 * optional '-', 1 to 10 digits, CRLF); *next is the byte after it. m is
 * where the parse keeps its state. */
static __always_inline bool redis_number_in(const char *b, __u32 off, __u32 n,
					    __s64 *v, __u32 *next,
					    struct redis_num *m)
{
	struct redis_number_ctx x = {.b = b, .m = m};
	char d1 = RL_WAT(b, off + 1), d2 = RL_WAT(b, off + 2);

	/* Headers are mostly one or two digits ("*3", "$3", "$16"): read
	 * straight, where the loop's callback runs once per byte. */
	if (d1 >= '0' && d1 <= '9') {
		if (d2 == '\r' && off + 3 < n && RL_WAT(b, off + 3) == '\n') {
			*v = d1 - '0';
			*next = off + 4;
			return true;
		}
		if (d2 >= '0' && d2 <= '9' && RL_WAT(b, off + 3) == '\r' &&
		    off + 4 < n && RL_WAT(b, off + 4) == '\n') {
			*v = (d1 - '0') * 10 + (d2 - '0');
			*next = off + 5;
			return true;
		}
	}
	m->x = 0;
	m->off = off;
	m->n = n;
	m->next = 0;
	m->neg = 0;
	bpf_loop(13, redis_number_byte, &x, 0);
	if (!m->next)
		return false;
	*v = m->neg ? -m->x : m->x;
	*next = m->next;
	return true;
}

/* Ditto, its state on the stack: for a message's first bytes. */
static __always_inline bool redis_number(const char *b, __u32 off, __u32 n,
					 __s64 *v, __u32 *next)
{
	struct redis_num m;

	return redis_number_in(b, off, n, v, next, &m);
}

struct redis_line_ctx {
	const char *b;
	__u32 off, n, next;
};

static long redis_line_byte(__u32 i, void *data)
{
	struct redis_line_ctx *x = (struct redis_line_ctx *)data; /* C++ */
	__u32 p = x->off + 1 + i;

	if (p + 1 >= x->n)
		return 1;
	if (RL_WAT(x->b, p) != '\r' || RL_WAT(x->b, p + 1) != '\n')
		return 0;
	x->next = p + 2;
	return 1;
}

/* The end of the line that starts at b[off] (a simple string, an error,
 * an integer, RESP3's scalars): *next is the byte after its CRLF. A
 * bpf_loop: an open loop's exits would each be verified on their own. */
static __always_inline bool redis_line(const char *b, __u32 off, __u32 n,
				       __u32 *next)
{
	struct redis_line_ctx x = {.b = b, .off = off, .n = n};

	bpf_loop(RL_REDIS_LINE_MAX, redis_line_byte, &x, 0);
	*next = x.next;
	return x.next != 0;
}

/* The first byte of a reply (RESP2 and RESP3 types) but a push ('>'): an
 * out-of-band message, not the answer to a request. */
static __always_inline bool redis_reply_type(char t)
{
	switch (t) {
	case '+':
	case '-':
	case ':':
	case '$':
	case '*':
	case '_':
	case ',':
	case '#':
	case '!':
	case '=':
	case '(':
	case '%':
	case '~':
	case '|':
		return true;
	}
	return false;
}

/* The command of a request starting at b[off], 0 if none starts there:
 * "*<count>\r\n$<len>\r\n<name>". */
static __always_inline __u8 redis_request_at(const char *b, __u32 off, __u32 n)
{
	__u32 p, q;
	__s64 v;

	if (RL_WAT(b, off) != '*' || !redis_number(b, off, n, &v, &p) ||
	    v < 1 || v > 1024 * 1024)
		return 0;
	if (RL_WAT(b, p) != '$' || !redis_number(b, p, n, &v, &q) || v < 1 ||
	    v > 64 || q + v > n)
		return 0;
	return redis_command(b, q, v);
}

/* The outcome of the reply starting at b[off]. */
static __always_inline __u8 redis_outcome(const char *b, __u32 off, __u32 n)
{
	char t = RL_WAT(b, off);
	__u32 p;
	__s64 v;

	if (t == '-')
		return redis_error(b, off + 1, n);
	if (t != '!') /* RESP3 bulk error: "!<len>\r\n<prefix> ..." */
		return RL_REDIS_OUT_OK;
	if (!redis_number(b, off, n, &v, &p))
		return RL_REDIS_OUT_ERROR;
	return redis_error(b, p, n);
}

static __always_inline __u8 redis_response(const char *b, __u32 n)
{
	if (n < 3 || !redis_reply_type(b[0]))
		return 0;
	return redis_outcome(b, 0, n);
}

struct redis_walk {
	const struct rl_l7_window *w;
	struct rl_l7_runs *r; /* also the walk's position */
	__u32 n;	      /* valid bytes in w */
	__u32 requests;	      /* walking requests, else responses */
};

/* One value of the walk (bpf_loop callback): a header or line at s->off,
 * and a bulk string's payload after it. A message is complete when the
 * values it still needs reach 0 (an array of n adds n, a map 2n). */
static long redis_walk_value(__u32 i, void *data)
{
	struct redis_walk *s = (struct redis_walk *)data; /* C++: fuzz */
	struct rl_l7_runs *r = s->r;
	struct redis_num *num = (struct redis_num *)r->scratch;
	const char *b = s->w->b;
	__u32 off = r->off, next = 0;
	__s64 v = 0;
	char t;

	if (off >= s->n || r->need > (1 << 21))
		return 1;
	t = RL_WAT(b, off);
	if (!r->need) { /* a message starts */
		if (s->requests ? t != '*' : !redis_reply_type(t) && t != '>')
			return 1;
		r->need = 1;
		/* The first message's command or outcome is its start's (the
		 * caller's): not looked up again. */
		r->name = s->requests && r->past_first;
		r->cur = s->requests	  ? RL_REDIS_CMD_OTHER
			 : t == '>'	  ? 0 /* a push: no request's answer */
			 : !r->past_first ? RL_REDIS_OUT_OK
					  : redis_outcome(b, off, s->n);
	}
	switch (t) {
	case '*':
	case '~':
	case '>':
	case '%':
	case '|':
		if (!redis_number_in(b, off, s->n, &v, &next, num) ||
		    v > (1 << 20))
			return 1;
		if (v > 0)
			r->need += (t == '%' || t == '|') ? 2 * v : v;
		if (t == '|') /* an attribute precedes the value it describes */
			r->need++;
		break;
	case '$':
	case '!':
	case '=':
		if (!redis_number_in(b, off, s->n, &v, &next, num) ||
		    v > RL_REDIS_BULK_MAX)
			return 1;
		if (v >= 0) {
			if (r->name)
				r->cur = next + v <= s->n
					     ? redis_command(b, next, v)
					     : RL_REDIS_CMD_OTHER;
			next += v + 2;
		}
		r->name = 0;
		break;
	default:
		if (!redis_line(b, off, s->n, &next))
			return 1;
		r->name = 0;
	}
	r->off = next;
	if (--r->need)
		return next >= s->n;
	if (r->past_first && r->cur) /* the first: reported by its start */
		if (!rl_l7_scan_add(r, r->cur))
			return 1;
	r->past_first = 1;
	if (next > s->n)
		r->end = next;
	return next >= s->n;
}

/* Walks the window from its first message, reporting the ones after it
 * in r. A value the window cuts short stops the walk, but for the last
 * one's end (r->end: the rest of a large value comes in the next data):
 * pipelined requests past the first RL_L7_WINDOW bytes of one read are
 * counted by their replies, command unknown. A global function: the
 * verifier checks it once, on its own, not once per path of every program
 * that reaches it. */
RL_L7_GLOBAL int rl_redis_walk(const struct rl_l7_window *w, __u32 n,
			       __u32 requests, struct rl_l7_runs *r)
{
	struct redis_walk s = {};

	if (!w || !r)
		return 0;
	s.w = w;
	s.r = r;
	s.n = n < RL_L7_WINDOW ? n : RL_L7_WINDOW;
	s.requests = requests != 0;
	r->off = r->need = 0;
	r->cur = r->name = r->past_first = 0;
	/* At most one value per 4 bytes (":1\r\n"). */
	bpf_loop(RL_L7_WINDOW / 4, redis_walk_value, &s, 0);
	return 0;
}

static __always_inline void redis_next_requests(struct rl_l7_window *w,
						struct rl_l7_scan *s)
{
	rl_redis_walk(w, s->n, 1, &s->r);
}

static __always_inline void redis_next_responses(struct rl_l7_window *w,
						 struct rl_l7_scan *s)
{
	rl_redis_walk(w, s->n, 0, &s->r);
}

#endif /* REDLINE_BPF_L7_REDIS_BPF_H */
