/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * MySQL/MariaDB classifier, client/server protocol (the contract is
 * bpf/l7_classifier.bpf.h, the row in bpf/l7_proto.bpf.h).
 *
 * Every packet is a 3-byte length and a sequence id. A request is a
 * command packet (sequence 0) that gets an answer: COM_QUERY (command:
 * the statement's first SQL keyword), COM_STMT_PREPARE ("prepare"; the
 * statement's keyword is kept for the id the server answers with),
 * COM_STMT_EXECUTE (the prepared statement's keyword, or "execute"),
 * COM_PING and the protocol's other commands. COM_STMT_CLOSE,
 * COM_STMT_SEND_LONG_DATA and COM_QUIT get no answer and are not
 * requests; nor are the handshake and authentication packets (their
 * sequence ids are not 0), nor a replication stream (COM_BINLOG_DUMP).
 *
 * The server's greeting names a connection MySQL (a reply alone names
 * no other protocol's). From then on every read and write is walked
 * (the table's "every"): MariaDB reads a packet's 4-byte header, then its
 * body, and the walk takes the body as the header's (RL_MY_BODY).
 *
 * A response starts with sequence id 1 and runs to its last packet:
 * an OK or ERR packet, or a result set's end: the second classic EOF
 * packet (5 bytes of body; column definitions, then EOF, rows, EOF) or,
 * with CLIENT_DEPRECATE_EOF, the OK packet with an 0xfe header (7 bytes
 * of body at least) after the rows. Telling those two apart by length
 * needs no look at the handshake. A response whose status says more
 * results follow (a multi-statement COM_QUERY, a CALL) goes on to the
 * next. The outcome is ok, or the SQLSTATE class of the ERR packet (an
 * ERR may end a result set part way too). The duration runs to the last
 * packet: a client has not got its answer before then.
 *
 * A read or write is walked packet by packet (the header and the fields
 * a walk needs read from user memory where each packet starts), so the
 * pipelined prepare-and-execute of MariaDB's connector is exact too. A
 * response's header split across reads is put together again (its first
 * bytes kept per connection). A walk that loses its place all the same
 * (a read past its reach of packets, a map entry evicted) finds it again
 * at data that ends with a result set's end, or at the next response's
 * first packet (the response the walk lost is counted, outcome
 * "unknown": the next one is not taken for it).
 *
 * Only the first keyword of a statement is read; statement text,
 * parameters and rows never leave the kernel.
 */
#ifndef REDLINE_BPF_L7_MYSQL_BPF_H
#define REDLINE_BPF_L7_MYSQL_BPF_H

#include "l7_classifier.bpf.h"
#include "l7_mysql.h"
#include "l7_pg.bpf.h" /* rl_pg_keyword: one SQL vocabulary */
#include "l7_stmts.bpf.h"
#include "l7_words.bpf.h"

#define RL_MY_HOPS                                                             \
	2048		       /* packets walked in one read or write: 16 KiB  \
				* of 8-byte rows */
#define RL_MY_PKT_MAX 0xffffff /* a longer payload continues in the next */
#define RL_MY_START_MAX                                                        \
	(1 << 20)    /* a command that starts a connection's                   \
		      * first request, at most */
#define RL_MY_HDR 32 /* bytes of a packet read at its start */
/* Where in the window a statement's text is read to, and a packet's
 * first bytes: past the first RL_L7_WINDOW bytes (the data's start). */
#define RL_MY_AT 1024
#define RL_MY_HDR_AT 1536
/* The statement id MariaDB's connector executes "the one just prepared"
 * by, and where the walk keeps the last prepared statement's command
 * until the server names its id. */
#define RL_MY_LAST 0xffffffffu

/* Response state carried from one read or write to the next
 * (rl_l7_runs.state): where in a response the walk is, or lost. */
#define RL_MY_PHASE 0x07
#define RL_MY_IDLE 0   /* a response starts at a sequence id 1 */
#define RL_MY_RESULT 1 /* a result set: column definitions, rows */
#define RL_MY_ROWS 2   /* past its classic EOF: rows up to the next */
#define RL_MY_NEXT 3   /* the next result of the same response */
#define RL_MY_HANDSHAKE                                                        \
	4	     /* after the greeting, up to the login's OK or            \
		      * ERR: no request yet */
#define RL_MY_AUTH 5 /* COM_CHANGE_USER's authentication exchange */
#define RL_MY_OFF 7  /* TLS or compression after the login: not walked */
/* A packet's first bytes split across reads: how many of them (up to
 * RL_MY_KEEP: what the walk needs to know a packet by) came at the end of
 * the last data, kept in l7_stmts under RL_MY_SPLIT_ID and the three ids
 * below it. */
#define RL_MY_KEEP 16
#define RL_MY_SPLIT_SHIFT 3
#define RL_MY_SPLIT (15 << RL_MY_SPLIT_SHIFT)
#define RL_MY_SPLIT_ID 0xfffffffeu
#define RL_MY_LOST 0x80
/* Request state: the data that follows is the body of a packet whose
 * header came alone (its body length kept under RL_MY_HEADER_ID). */
#define RL_MY_BODY 1
#define RL_MY_HEADER_ID 0xfffffff9u
/* Request state: a command was seen (a packet at sequence 1 is no longer
 * the login's); TLS or compression was asked for (nothing more is
 * walked; RL_MY_OFF_ID tells the response side). */
#define RL_MY_SEEN 0x40
#define RL_MY_REQ_OFF 0x80
#define RL_MY_OFF_ID 0xfffffff8u
#define RL_MY_CLIENT_COMPRESS 0x20
#define RL_MY_CLIENT_SSL 0x800

/* Commands (the first byte of a command packet's body). */
#define RL_COM_QUIT 0x01
#define RL_COM_INIT_DB 0x02
#define RL_COM_QUERY 0x03
#define RL_COM_FIELD_LIST 0x04
#define RL_COM_STATISTICS 0x09
#define RL_COM_PROCESS_KILL 0x0c
#define RL_COM_PING 0x0e
#define RL_COM_CHANGE_USER 0x11
#define RL_COM_BINLOG_DUMP 0x12
#define RL_COM_REGISTER_SLAVE 0x15
#define RL_COM_STMT_PREPARE 0x16
#define RL_COM_STMT_EXECUTE 0x17
#define RL_COM_STMT_SEND_LONG_DATA 0x18
#define RL_COM_STMT_CLOSE 0x19
#define RL_COM_STMT_RESET 0x1a
#define RL_COM_SET_OPTION 0x1b
#define RL_COM_STMT_FETCH 0x1c
#define RL_COM_BINLOG_DUMP_GTID 0x1e
#define RL_COM_RESET_CONNECTION 0x1f
#define RL_COM_BULK_EXECUTE 0xfa /* MariaDB */

#define RL_MY_SERVER_MORE_RESULTS 0x0008 /* in an OK or EOF's status */
#define RL_MY_SERVER_CURSOR_EXISTS 0x0040

#define RL_MY_CLASS_ROW(name, code)                                            \
	{RL_PACK8_LC(code, 0), 0, RL_MY_OUT_##name, {0}},
static const struct rl_l7_word my_classes_lc[] = {
    RL_MY_CLASSES(RL_MY_CLASS_ROW)};
#undef RL_MY_CLASS_ROW

RL_L7_SEARCH_STEP(my_class_step, my_classes_lc)

/* The little-endian 3-byte length at b[0]. */
static __always_inline __u32 my_len_at(const char *b)
{
	return (__u32)(__u8)b[0] | (__u32)(__u8)b[1] << 8 |
	       (__u32)(__u8)b[2] << 16;
}

/* Whether a command packet of body length len, command c, in the window
 * at b may start a connection's first request: strict, for the
 * connection is not known to be MySQL yet (a command that gets no answer
 * names none). */
static __always_inline bool my_command_packet(const char *b, __u8 c, __u32 len)
{
	char d = RL_WAT(b, 5);

	if (!len || len >= RL_MY_START_MAX)
		return false;
	switch (c) {
	case RL_COM_QUERY:
	case RL_COM_STMT_PREPARE:
		return len >= 2 &&
		       (d == ' ' || d == '\t' || d == '\n' || d == '\r' ||
			d == '(' || d == '/' || d == '-' || pg_letter(d));
	case RL_COM_STMT_EXECUTE: /* id, flags, an iteration count of 1 */
		return len >= 10 && (__u8)RL_WAT(b, 9) <= 7 &&
		       RL_WAT(b, 10) == 1 && !RL_WAT(b, 11) && !RL_WAT(b, 12) &&
		       !RL_WAT(b, 13);
	case RL_COM_STMT_RESET:
	case RL_COM_PROCESS_KILL:
		return len == 5;
	case RL_COM_STMT_FETCH:
		return len == 9;
	case RL_COM_SET_OPTION:
		return len == 3;
	case RL_COM_INIT_DB:	 /* a schema name */
	case RL_COM_FIELD_LIST:	 /* a table name */
	case RL_COM_CHANGE_USER: /* a user name */
		return len >= 2 && (pg_letter(d) || (d >= '0' && d <= '9') ||
				    d == '_' || d == '$' || (__u8)d >= 0x80);
	case RL_COM_PING:
	case RL_COM_STATISTICS:
	case RL_COM_RESET_CONNECTION:
		return len == 1;
	}
	return false;
}

/* The request start: a command packet (the walk, not this, finds what
 * each packet is: RL_PG_CMD_OTHER is a placeholder it replaces). A global
 * function, verified once. */
RL_L7_GLOBAL int rl_my_start(const struct rl_l7_window *w, __u32 n)
{
	if (!w || n < 5 || w->b[3])
		return 0;
	return my_command_packet(w->b, (__u8)w->b[4], my_len_at(w->b))
		   ? RL_PG_CMD_OTHER
		   : 0;
}

/* b is a window's first byte (rl_l7_request's contract: off is 0). */
static __always_inline __u8 my_request_at(const char *b, __u32 off, __u32 n)
{
	return rl_my_start((const struct rl_l7_window *)b, n);
}

/* The response start: the server's greeting (sequence 0, protocol 10,
 * a version string: "8.0.36", "5.5.5-10.11.6-MariaDB"), which names a
 * connection MySQL on both sides before any request. The table's "every"
 * has the walk see all the rest (l7_mysql_walk.bpf.h). */
static __always_inline __u8 my_response(const char *b, __u32 n)
{
	__u32 len = my_len_at(b);

	return n >= 6 && !b[3] && b[4] == 0x0a && b[5] >= '1' && b[5] <= '9' &&
		       len >= 16 && len < 1024
		   ? RL_L7_INTERIM
		   : 0;
}

#include "l7_mysql_walk.bpf.h"

#endif /* REDLINE_BPF_L7_MYSQL_BPF_H */
