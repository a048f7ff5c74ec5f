/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The byte scans of the PostgreSQL walk (bpf/l7_pg_walk.bpf.h) over a
 * message body copied to the window: blanks and comments before a
 * statement's first keyword, the keyword, a NUL-terminated name and its
 * hash, an ErrorResponse's fields up to its code. Each is a bpf_loop whose
 * state lives in rl_l7_runs.scratch (global-function argument memory,
 * untracked by the verifier), behind a global function verified once.
 * Included by l7_pg_walk.bpf.h only.
 */
#ifndef REDLINE_BPF_L7_PG_SCAN_BPF_H
#define REDLINE_BPF_L7_PG_SCAN_BPF_H

/* A scan of bytes in the window (blanks, a word, a name, error fields). */
struct pg_scan {
	__u32 pos;  /* next byte */
	__u32 end;  /* past the last valid one */
	__u32 hash; /* a name's, so far */
	__u8 mode;  /* what pos is in (per scan) */
	__u8 found; /* the scan found what it looks for */
	__u8 pad[2];
};

struct pg_scan_ctx {
	const char *b;
	struct pg_scan *m;
};

/* Blanks, '(' and comments before a statement's first keyword: mode 0 in
 * text, 1 in a block comment, 2 in a line comment. */
static long pg_skip_byte(__u32 i, void *data)
{
	struct pg_scan_ctx *x = (struct pg_scan_ctx *)data; /* C++: fuzz */
	struct pg_scan *m = x->m;
	char c, d;

	if (m->pos >= m->end)
		return 1;
	c = RL_WAT(x->b, m->pos);
	d = m->pos + 1 < m->end ? RL_WAT(x->b, m->pos + 1) : 0;
	if (m->mode == 1) {
		if (c == '*' && d == '/') {
			m->mode = 0;
			m->pos++;
		}
	} else if (m->mode == 2) {
		if (c == '\n')
			m->mode = 0;
	} else if (c == '/' && d == '*') {
		m->mode = 1;
		m->pos++;
	} else if (c == '-' && d == '-') {
		m->mode = 2;
		m->pos++;
	} else if (pg_letter(c)) {
		m->found = 1;
		return 1;
	} else if (c != ' ' && c != '\t' && c != '\n' && c != '\r' &&
		   c != '(') {
		return 1;
	}
	m->pos++;
	return 0;
}

static long pg_word_byte(__u32 i, void *data)
{
	struct pg_scan_ctx *x = (struct pg_scan_ctx *)data; /* C++: fuzz */
	struct pg_scan *m = x->m;

	if (m->pos >= m->end || !pg_letter(RL_WAT(x->b, m->pos)))
		return 1;
	m->pos++;
	return 0;
}

/* A NUL-terminated name, hashed (FNV-1a) on the way. */
static long pg_name_byte(__u32 i, void *data)
{
	struct pg_scan_ctx *x = (struct pg_scan_ctx *)data; /* C++: fuzz */
	struct pg_scan *m = x->m;
	char c;

	if (m->pos >= m->end)
		return 1;
	c = RL_WAT(x->b, m->pos++);
	if (!c) {
		m->found = 1;
		return 1;
	}
	m->hash = (m->hash ^ (__u8)c) * 16777619;
	return 0;
}

/* An ErrorResponse's fields (type byte, text, NUL) up to the code ('C'):
 * mode 1 at a field's type byte. */
static long pg_field_byte(__u32 i, void *data)
{
	struct pg_scan_ctx *x = (struct pg_scan_ctx *)data; /* C++: fuzz */
	struct pg_scan *m = x->m;
	char c;

	if (m->pos >= m->end)
		return 1;
	c = RL_WAT(x->b, m->pos++);
	if (m->mode) {
		if (!c) /* the fields' end */
			return 1;
		if (c == 'C') {
			m->found = 1;
			return 1;
		}
		m->mode = 0;
	} else if (!c) {
		m->mode = 1;
	}
	return 0;
}

static __always_inline struct pg_scan *pg_scan_at(struct rl_l7_runs *r,
						  __u32 pos, __u32 end)
{
	struct pg_scan *m = (struct pg_scan *)r->scratch;

	m->pos = pos;
	m->end = end;
	m->hash = 2166136261u;
	m->mode = 0;
	m->found = 0;
	return m;
}

/* The scans below are global functions, each verified once on its own
 * rather than at every place the walk uses it. */

/* The command of the statement whose text starts at window index pos. */
RL_L7_GLOBAL int rl_pg_keyword(struct rl_l7_window *w, __u32 pos, __u32 end,
			       struct rl_l7_runs *r)
{
	struct pg_scan *m;
	struct pg_scan_ctx x;
	__u32 start;

	if (!w || !r)
		return RL_PG_CMD_OTHER;
	m = pg_scan_at(r, pos, end);
	x.b = w->b;
	x.m = m;
	bpf_loop(RL_PG_SKIP_MAX, pg_skip_byte, &x, 0);
	if (!m->found)
		return RL_PG_CMD_OTHER;
	start = m->pos;
	bpf_loop(RL_L7_WORD_MAX + 1, pg_word_byte, &x, 0);
	return rl_l7_find(pg_keyword_step, RL_L7_N(pg_keywords), w->b, start,
			  m->pos - start, RL_PG_CMD_OTHER);
}

/* Whether a NUL ends the name at window index pos within end; its hash
 * and the byte after the NUL are left in r's pg_scan. */
RL_L7_GLOBAL int rl_pg_name(struct rl_l7_window *w, __u32 pos, __u32 end,
			    struct rl_l7_runs *r)
{
	struct pg_scan *m;
	struct pg_scan_ctx x;

	if (!w || !r)
		return 0;
	m = pg_scan_at(r, pos, end);
	x.b = w->b;
	x.m = m;
	bpf_loop(RL_PG_NAME_MAX + 1, pg_name_byte, &x, 0);
	return m->found;
}

/* The class of the code of an ErrorResponse whose fields are at window
 * index pos to end. */
RL_L7_GLOBAL int rl_pg_error_class(struct rl_l7_window *w, __u32 pos, __u32 end,
				   struct rl_l7_runs *r)
{
	struct pg_scan *m;
	struct pg_scan_ctx x;

	if (!w || !r)
		return RL_PG_OUT_ERROR;
	m = pg_scan_at(r, pos, end);
	x.b = w->b;
	x.m = m;
	m->mode = 1;
	bpf_loop(RL_PG_BODY, pg_field_byte, &x, 0);
	if (!m->found || m->pos + 2 > end)
		return RL_PG_OUT_ERROR;
	return rl_l7_find(pg_class_step, RL_L7_N(pg_classes_lc), w->b, m->pos,
			  2, RL_PG_OUT_ERROR);
}

#endif /* REDLINE_BPF_L7_PG_SCAN_BPF_H */
