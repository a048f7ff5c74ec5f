/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * PostgreSQL classifier, frontend/backend protocol v3 (the contract is
 * bpf/l7_classifier.bpf.h, the row in bpf/l7_proto.bpf.h).
 *
 * A request is what the server answers with ReadyForQuery: a simple Query
 * ('Q'), or an extended-protocol group closed by Sync ('S': Parse, Bind,
 * Describe, Execute..., Sync), or a FunctionCall. Its duration runs to
 * that ReadyForQuery, not to CommandComplete: a Query of several
 * statements has several CommandCompletes, one that fails has none, and a
 * client waits for ReadyForQuery before its next request anyway. Its
 * outcome is the SQLSTATE class of the ErrorResponse before the
 * ReadyForQuery, or ok.
 *
 * The command is the first SQL keyword of the Query, or of the statement
 * a group executes: named in its Parse, or in an earlier one (a prepared
 * statement: its name's hash is remembered per connection, in
 * l7_stmts). A group with a Parse but no Execute is "parse".
 *
 * Every message has a length, so a read or write is walked message by
 * message, past the window where need be (a header is 5 bytes read from
 * user memory). The startup packet, SSLRequest and authentication are not
 * requests (no type byte, or a type a request does not start with), and a
 * reply alone never names a connection PostgreSQL.
 *
 * Only the first keyword of a statement is read, and its name hashed;
 * statement text, parameters and rows never leave the kernel.
 */
#ifndef REDLINE_BPF_L7_PG_BPF_H
#define REDLINE_BPF_L7_PG_BPF_H

#include "l7_classifier.bpf.h"
#include "l7_pg.h"
#include "l7_stmts.bpf.h"
#include "l7_words.bpf.h"

#define RL_PG_HOPS 256		/* messages walked in one read or write */
#define RL_PG_MSG_MAX (1 << 30) /* the server's MaxAllocSize */
/* A message that starts a request is at most this long: bounds what can
 * be taken for one (a MySQL packet header, say) on a new connection. */
#define RL_PG_START_MAX (1 << 24)
#define RL_PG_NAME_MAX 128 /* a statement name hashed (pgx: ~75 bytes) */
#define RL_PG_SKIP_MAX 64  /* blanks and comments before a keyword */
#define RL_PG_BODY 256	   /* bytes of a body read: name, keyword */
/* Where in the window a body is read to, and a header (or the data's
 * end): past the first RL_L7_WINDOW bytes, which hold the data's start. */
#define RL_PG_AT 1024
#define RL_PG_HDR_AT 1536

/* Per-direction state carried from one read or write to the next
 * (rl_l7_runs.state). Requests: the group's command so far and whether it
 * had a Parse and an Execute. Responses: the outcome of the error a
 * ReadyForQuery still to come closes, and whether the walk lost its
 * place (then only a ReadyForQuery ending the data finds it again). */
#define RL_PG_GROUP_CMD 0x3f
#define RL_PG_GROUP_PARSE 0x40
#define RL_PG_GROUP_EXEC 0x80
#define RL_PG_LOST 0x80

#define RL_PG_KW_ROW(word, cmd)                                                \
	{RL_PACK8(#word, 0), RL_PACK8(#word, 8), RL_PG_CMD_##cmd, {0}},
static const struct rl_l7_word pg_keywords[] = {RL_PG_KEYWORDS(RL_PG_KW_ROW)};
#undef RL_PG_KW_ROW

#define RL_PG_CLASS_ROW(name, code)                                            \
	{RL_PACK8_LC(code, 0), 0, RL_PG_OUT_##name, {0}},
static const struct rl_l7_word pg_classes_lc[] = {
    RL_PG_CLASSES(RL_PG_CLASS_ROW)};
#undef RL_PG_CLASS_ROW

RL_L7_SEARCH_STEP(pg_keyword_step, pg_keywords)
RL_L7_SEARCH_STEP(pg_class_step, pg_classes_lc)

/* Prepared statements' commands, by connection and name hash. */
static __always_inline __u8 rl_pg_stmt_get(__u64 conn, __u32 hash)
{
	__u8 cmd = rl_l7_stmt_get(conn, hash);

	return cmd ? cmd : RL_PG_CMD_OTHER;
}

/* The big-endian int32 at b[off] (a window). */
static __always_inline __u32 pg_be32_at(const char *b, __u32 off)
{
	return (__u32)(__u8)RL_WAT(b, off) << 24 |
	       (__u32)(__u8)RL_WAT(b, off + 1) << 16 |
	       (__u32)(__u8)RL_WAT(b, off + 2) << 8 | (__u8)RL_WAT(b, off + 3);
}

static __always_inline bool pg_letter(char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* Whether a request may start with a message of type t and length len
 * (the length field: it counts itself, not the type byte), body's first
 * byte c: strict enough that no other protocol's first bytes pass. */
static __always_inline bool pg_request_message(char t, __u32 len, char c)
{
	if (len < 4 || len >= RL_PG_START_MAX)
		return false;
	switch (t) {
	case 'Q': /* query text, NUL; an empty one is a request too */
		if (len == 5)
			return c == 0;
		return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		       c == '(' || c == '/' || c == '-' || pg_letter(c);
	case 'P': /* name NUL, query NUL, int16 count */
		return len >= 8;
	case 'B': /* portal NUL, name NUL, three int16 counts at least */
		return len >= 12;
	case 'E': /* portal NUL, int32 rows */
		return len >= 9;
	case 'D': /* 'S' or 'P', name NUL */
		return len >= 6 && (c == 'S' || c == 'P');
	case 'C': /* Close: 'S' or 'P', name NUL */
		return len >= 6 && (c == 'S' || c == 'P');
	case 'S': /* Sync: nothing */
	case 'H': /* Flush: nothing */
		return len == 4;
	}
	return false;
}

/* Whether a backend message of type t and length len may start a read:
 * the answer to a request in progress. */
static __always_inline bool pg_response_message(char t, __u32 len)
{
	if (len < 4 || len >= RL_PG_MSG_MAX)
		return false;
	switch (t) {
	case '1': /* ParseComplete */
	case '2': /* BindComplete */
	case '3': /* CloseComplete */
	case 'A': /* NotificationResponse */
	case 'C': /* CommandComplete */
	case 'c': /* CopyDone */
	case 'D': /* DataRow */
	case 'd': /* CopyData */
	case 'E': /* ErrorResponse */
	case 'G': /* CopyInResponse */
	case 'H': /* CopyOutResponse */
	case 'I': /* EmptyQueryResponse */
	case 'N': /* NoticeResponse */
	case 'n': /* NoData */
	case 'S': /* ParameterStatus */
	case 's': /* PortalSuspended */
	case 'T': /* RowDescription */
	case 't': /* ParameterDescription */
	case 'V': /* FunctionCallResponse */
	case 'W': /* CopyBothResponse */
	case 'Z': /* ReadyForQuery */
		return true;
	}
	return false;
}

/* The request start: any message a request may begin with (the walk, not
 * this, finds where requests end and what they run: RL_PG_CMD_OTHER is a
 * placeholder it replaces). A global function, verified once: inline, its
 * cases multiplied the states of every path behind the table's (175k
 * instructions more). */
RL_L7_GLOBAL int rl_pg_start(const struct rl_l7_window *w, __u32 n)
{
	if (!w || n < 5)
		return 0;
	return pg_request_message(w->b[0], pg_be32_at(w->b, 1), RL_WAT(w->b, 5))
		   ? RL_PG_CMD_OTHER
		   : 0;
}

/* b is a window's first byte (rl_l7_request's contract: off is 0). */
static __always_inline __u8 pg_request_at(const char *b, __u32 off, __u32 n)
{
	return rl_pg_start((const struct rl_l7_window *)b, n);
}

/* The response start: any data on a PostgreSQL connection. It completes
 * nothing itself (RL_L7_INTERIM): the walk counts the ReadyForQuery
 * messages, and finds its place again in a read that starts inside a
 * message (rl_l7_response asks this row only once the connection is
 * known: a reply alone never names it). */
static __always_inline __u8 pg_response(const char *b, __u32 n)
{
	return n ? RL_L7_INTERIM : 0;
}

#include "l7_pg_walk.bpf.h"

#endif /* REDLINE_BPF_L7_PG_BPF_H */
