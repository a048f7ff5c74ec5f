/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The MySQL walk (bpf/l7_mysql.bpf.h says what it counts): a read or
 * write, packet by packet, the first RL_MY_HDR bytes of each read from
 * user memory where it starts. Included by l7_mysql.bpf.h only.
 *
 * As PostgreSQL's, every loop is a bpf_loop whose state lives in
 * rl_l7_runs, so each callback is verified once.
 */
#ifndef REDLINE_BPF_L7_MYSQL_WALK_BPF_H
#define REDLINE_BPF_L7_MYSQL_WALK_BPF_H

struct my_walk {
	struct rl_l7_window *w;
	struct rl_l7_runs *r; /* also the walk's position */
	__u32 len;
	__u32 requests; /* walking requests, else responses */
};

/* Byte i of the packet whose first bytes the walk read (i < RL_MY_HDR). */
#define MY_H(s, i) ((__u8)RL_WAT((s)->w->b + RL_MY_HDR_AT, (i)))

static __always_inline void my_emit(struct rl_l7_runs *r, __u8 op)
{
	if (!r->first)
		r->first = op;
	else
		rl_l7_scan_add(r, op);
}

/* The command of the statement text after the command byte at body
 * (blen bytes of body, the command byte included). */
static __always_inline __u8 my_keyword(struct my_walk *s, __u32 body,
				       __u32 blen)
{
	__u32 size = s->len - (body + 1), got;

	if (body + 1 >= s->len || blen < 2)
		return RL_PG_CMD_OTHER;
	if (size > blen - 1)
		size = blen - 1;
	if (size > RL_PG_BODY)
		size = RL_PG_BODY;
	got = rl_l7_gather(s->w, RL_MY_AT, body + 1, size, s->r);
	if (!got)
		return RL_PG_CMD_OTHER;
	return rl_pg_keyword(s->w, RL_MY_AT, RL_MY_AT + got, s->r);
}

static __always_inline __u32 my_le32(struct my_walk *s, __u32 i)
{
	return MY_H(s, i) | MY_H(s, i + 1) << 8 | MY_H(s, i + 2) << 16 |
	       (__u32)MY_H(s, i + 3) << 24;
}

/* A client's packet whose body (blen bytes) is at data offset body: got
 * bytes of the packet read, its header included. */
static __always_inline void my_request(struct my_walk *s, __u32 body,
				       __u32 blen, __u32 got)
{
	struct rl_l7_runs *r = s->r;
	__u32 id;
	__u8 cmd;

	if (MY_H(s, 3) == 1 && !(r->state & RL_MY_SEEN) && got >= 8 &&
	    (my_le32(s, 4) & (RL_MY_CLIENT_SSL | RL_MY_CLIENT_COMPRESS))) {
		/* The login (or SSLRequest) asks for TLS or compression:
		 * what follows is no packet the walk can read. */
		rl_l7_stmt_put(r->conn, RL_MY_OFF_ID, 1);
		r->state = RL_MY_REQ_OFF;
		return;
	}
	/* Not sequence 0: the rest of a command longer than a packet, or a
	 * file the server asked for (LOAD DATA LOCAL). */
	if (MY_H(s, 3) || !blen || got < 5)
		return;
	r->state |= RL_MY_SEEN;
	switch (MY_H(s, 4)) {
	case RL_COM_QUERY:
		my_emit(r, my_keyword(s, body, blen));
		break;
	case RL_COM_STMT_PREPARE:
		/* Kept until the server's answer names the statement. */
		rl_l7_stmt_put(r->conn, RL_MY_LAST, my_keyword(s, body, blen));
		my_emit(r, RL_PG_CMD_prepare);
		break;
	case RL_COM_STMT_EXECUTE:
	case RL_COM_BULK_EXECUTE:
		id = my_le32(s, 5);
		/* The ids below RL_MY_LAST are the walk's own entries. */
		cmd = got >= 9 && (id == RL_MY_LAST || id < RL_MY_OFF_ID)
			  ? rl_l7_stmt_get(r->conn, id)
			  : 0;
		my_emit(r, cmd ? cmd : RL_PG_CMD_execute);
		break;
	case RL_COM_STMT_FETCH:
		my_emit(r, RL_PG_CMD_fetch);
		break;
	case RL_COM_STMT_RESET:
		my_emit(r, RL_PG_CMD_reset);
		break;
	case RL_COM_PING:
		my_emit(r, RL_MY_CMD_ping);
		break;
	case RL_COM_INIT_DB:
		my_emit(r, RL_MY_CMD_init_db);
		break;
	case RL_COM_STATISTICS:
		my_emit(r, RL_MY_CMD_statistics);
		break;
	case RL_COM_CHANGE_USER:
		my_emit(r, RL_MY_CMD_change_user);
		break;
	case RL_COM_FIELD_LIST:
		my_emit(r, RL_MY_CMD_field_list);
		break;
	case RL_COM_SET_OPTION:
		my_emit(r, RL_MY_CMD_set_option);
		break;
	case RL_COM_PROCESS_KILL:
		my_emit(r, RL_MY_CMD_process_kill);
		break;
	case RL_COM_RESET_CONNECTION:
		my_emit(r, RL_MY_CMD_reset_connection);
		break;
	case RL_COM_QUIT:		 /* no answer: the server closes */
	case RL_COM_STMT_CLOSE:		 /* no answer */
	case RL_COM_STMT_SEND_LONG_DATA: /* no answer */
	case RL_COM_BINLOG_DUMP: /* answered until the connection ends */
	case RL_COM_BINLOG_DUMP_GTID:
	case RL_COM_REGISTER_SLAVE:
		break;
	default:
		my_emit(r, RL_PG_CMD_OTHER);
	}
}

/* Bytes of a length-encoded integer whose first byte is c. */
static __always_inline __u32 my_lenenc_size(__u8 c)
{
	return c < 0xfb ? 1 : c == 0xfc ? 3 : c == 0xfd ? 4 : c == 0xfe ? 9 : 1;
}

/* Whether an OK packet (body from byte 4, got bytes read) says more
 * results follow: its status comes after two length-encoded integers. */
static __always_inline bool my_ok_more(struct my_walk *s, __u32 got)
{
	__u32 i = 5 + my_lenenc_size(MY_H(s, 5));

	i += my_lenenc_size(MY_H(s, i & (RL_MY_HDR - 1)));
	if (i >= got || i >= RL_MY_HDR)
		return false;
	return MY_H(s, i) & RL_MY_SERVER_MORE_RESULTS;
}

/* Ditto for a classic EOF packet (warnings, then status). */
static __always_inline bool my_eof_more(struct my_walk *s, __u32 got)
{
	return got > 7 && (MY_H(s, 7) & RL_MY_SERVER_MORE_RESULTS);
}

/* The outcome of an ERR packet: the class of its SQLSTATE ('#' and five
 * characters after the error code). */
static __always_inline __u8 my_error(struct my_walk *s, __u32 got)
{
	if (got < 10 || MY_H(s, 7) != '#')
		return RL_MY_OUT_ERROR;
	return rl_l7_find(my_class_step, RL_L7_N(my_classes_lc),
			  s->w->b + RL_MY_HDR_AT, 8, 2, RL_MY_OUT_ERROR);
}

/* The response's last packet: its outcome, unless more results follow. */
static __always_inline void my_end(struct rl_l7_runs *r, __u8 outcome,
				   bool more)
{
	if (more) {
		r->state = RL_MY_NEXT;
		return;
	}
	rl_l7_scan_add(r, outcome);
	r->state = RL_MY_IDLE;
}

/* Whether a response's first packet is a column count: a length-encoded
 * integer, perhaps followed by MariaDB's metadata-follows byte (0 or 1)
 * when the client cached result set metadata. */
static __always_inline bool my_column_count(struct my_walk *s, __u32 blen,
					    __u8 c)
{
	__u32 n = c < 0xfb ? 1 : c == 0xfc ? 3 : c == 0xfd ? 4 : 0;

	if (!n)
		return false;
	return blen == n || (blen == n + 1 && MY_H(s, 4 + n) <= 1);
}

/* A response's first packet (or a further result's), c its first byte. */
static __always_inline void my_first(struct my_walk *s, __u32 blen, __u32 got,
				     __u8 c)
{
	struct rl_l7_runs *r = s->r;
	__u8 cmd;

	if (c == 0 && blen == 12 && got >= 16 && !MY_H(s, 13)) {
		/* Perhaps COM_STMT_PREPARE's answer (id, columns, params,
		 * a zero, warnings): its definitions follow, at sequence ids
		 * 2 and on, and are stepped over. */
		cmd = rl_l7_stmt_get(r->conn, RL_MY_LAST);
		if (cmd)
			rl_l7_stmt_put(r->conn, my_le32(s, 5), cmd);
		my_end(r, RL_MY_OUT_OK, false);
	} else if (c == 0) {
		my_end(r, RL_MY_OUT_OK, my_ok_more(s, got));
	} else if (c == 0xfe && blen < 9) {
		my_end(r, RL_MY_OUT_OK, my_eof_more(s, got));
	} else if (c == 0xff) {
		my_end(r, my_error(s, got), false);
	} else if (c == 0xfe) {
		/* An authentication switch (COM_CHANGE_USER): an OK or ERR
		 * ends the exchange. */
		r->state = RL_MY_AUTH;
	} else if (c == 0xfb) {
		/* LOAD DATA LOCAL: the client sends the file, the server's
		 * OK after it ends the response. */
		r->state = RL_MY_NEXT;
	} else if (my_column_count(s, blen, c)) {
		r->state = RL_MY_RESULT;
	} else {
		/* One packet of its own kind: COM_STATISTICS' string, the
		 * first column of COM_FIELD_LIST (the rest, at sequence ids 2
		 * and on, are stepped over). */
		my_end(r, RL_MY_OUT_OK, false);
	}
}

/* A server's packet: blen bytes of body, got of the packet read. */
static __always_inline void my_response_packet(struct my_walk *s, __u32 blen,
					       __u32 got)
{
	struct rl_l7_runs *r = s->r;
	__u8 c = MY_H(s, 4);

	if (!blen || got < 5)
		return;
	if (!MY_H(s, 3) && c == 0x0a && !(r->state & RL_MY_PHASE)) {
		r->state = RL_MY_HANDSHAKE; /* the server's greeting */
		return;
	}
	if (c == 0xff && MY_H(s, 5) == 0xff && MY_H(s, 6) == 0xff) {
		/* MariaDB's progress report (error code 0xffff): the answer
		 * proper follows. */
		if ((r->state & RL_MY_PHASE) == RL_MY_IDLE && MY_H(s, 3) == 1)
			r->state = RL_MY_NEXT;
		return;
	}
	switch (r->state & RL_MY_PHASE) {
	case RL_MY_OFF:
		return;
	case RL_MY_HANDSHAKE: /* not an answer to a request */
		if (c == 0 || c == 0xff)
			r->state = rl_l7_stmt_get(r->conn, RL_MY_OFF_ID)
				       ? RL_MY_OFF
				       : RL_MY_IDLE;
		return;
	case RL_MY_AUTH:
		if (c == 0)
			my_end(r, RL_MY_OUT_OK, false);
		else if (c == 0xff)
			my_end(r, my_error(s, got), false);
		return;
	case RL_MY_RESULT:
		if (c == 0xff)
			my_end(r, my_error(s, got), false);
		else if (c == 0xfe && blen < 7 &&
			 (MY_H(s, 7) & RL_MY_SERVER_CURSOR_EXISTS))
			/* A cursor's definitions: rows come by COM_STMT_FETCH.
			 */
			my_end(r, RL_MY_OUT_OK, false);
		else if (c == 0xfe && blen < 7)
			r->state = RL_MY_ROWS; /* classic EOF: rows follow */
		else if (c == 0xfe && blen < RL_MY_PKT_MAX)
			my_end(r, RL_MY_OUT_OK, my_ok_more(s, got));
		return;
	case RL_MY_ROWS:
		if (c == 0xff)
			my_end(r, my_error(s, got), false);
		else if (c == 0xfe && blen < 9)
			my_end(r, RL_MY_OUT_OK, my_eof_more(s, got));
		return;
	case RL_MY_IDLE:
		/* Not a response's first packet: the definitions after a
		 * prepared statement's OK, or nothing asked for. */
		if (MY_H(s, 3) != 1)
			return;
	}
	my_first(s, blen, got, c);
}

/* Bytes of a packet of body length blen that the walk reads before it
 * takes it: an ERR's class, an EOF's or OK's status are in the first 12. */
static __always_inline __u32 my_need(__u32 blen)
{
	return blen < RL_MY_KEEP - 4 ? blen + 4 : RL_MY_KEEP;
}

/* Keeps the n (< RL_MY_KEEP) first bytes of a packet, in the window at
 * RL_MY_HDR_AT, for the next data, which has the rest. */
static __always_inline void my_keep(struct my_walk *s, __u32 n)
{
	struct rl_l7_runs *r = s->r;

	for (__u32 i = 0; i < RL_MY_KEEP / 4; i++)
		rl_l7_stmt_put(r->conn, RL_MY_SPLIT_ID - i,
			       MY_H(s, 4 * i) | MY_H(s, 4 * i + 1) << 8 |
				   MY_H(s, 4 * i + 2) << 16 |
				   (__u32)MY_H(s, 4 * i + 3) << 24);
	r->state = (r->state & ~RL_MY_SPLIT) | n << RL_MY_SPLIT_SHIFT;
}

/* The packet whose first k bytes ended the data before (state's
 * RL_MY_SPLIT): put together, taken, and stepped over. */
static __always_inline void my_joined(struct my_walk *s)
{
	struct rl_l7_runs *r = s->r;
	char *h = s->w->b + RL_MY_HDR_AT;
	__u32 k = (r->state & RL_MY_SPLIT) >> RL_MY_SPLIT_SHIFT, have, got;
	__u32 blen, next, kept[RL_MY_KEEP / 4];

	r->state &= ~RL_MY_SPLIT;
	if (!k || k >= RL_MY_KEEP) {
		r->state |= RL_MY_LOST;
		return;
	}
	for (__u32 i = 0; i < RL_MY_KEEP / 4; i++)
		kept[i] = rl_l7_stmt_get(r->conn, RL_MY_SPLIT_ID - i);
	have = s->len < RL_MY_HDR - k ? s->len : RL_MY_HDR - k;
	if (rl_l7_gather(s->w, RL_MY_HDR_AT + k, 0, have, r) != have) {
		r->state |= RL_MY_LOST;
		return;
	}
	for (__u32 i = 0; i < RL_MY_KEEP; i++)
		if (i < k)
			h[i] = kept[i / 4] >> (8 * (i & 3));
	got = k + have;
	blen = MY_H(s, 0) | MY_H(s, 1) << 8 | MY_H(s, 2) << 16;
	if (got >= 4 && k > 4 + blen) { /* kept bytes evicted: unknown */
		r->state |= RL_MY_LOST;
		return;
	}
	if (got < 4 || got < my_need(blen)) { /* still too few */
		my_keep(s, got);
		r->off = s->len;
		return;
	}
	my_response_packet(s, blen, got);
	next = 4 + blen - k;
	r->off = next;
	if (next > s->len)
		r->end = next;
}

/* One packet (a bpf_loop callback): 1 to stop. */
static long my_walk_packet(__u32 i, void *data)
{
	struct my_walk *s = (struct my_walk *)data; /* C++: fuzz */
	struct rl_l7_runs *r = s->r;
	__u32 off = r->off, blen, next, got;

	if (off >= s->len)
		return 1;
	got = s->len - off;
	if (got > RL_MY_HDR)
		got = RL_MY_HDR;
	if (rl_l7_gather(s->w, RL_MY_HDR_AT, off, got, r) != got) {
		if (!s->requests)
			r->state |= RL_MY_LOST;
		return 1;
	}
	blen = MY_H(s, 0) | MY_H(s, 1) << 8 | MY_H(s, 2) << 16;
	if (got < 4 || (!s->requests && got < my_need(blen))) {
		/* Too few of the packet's first bytes to know it by: the
		 * rest are the next data's. */
		if (!s->requests)
			my_keep(s, got);
		return 1;
	}
	if (s->requests && got == 4 && off + 4 == s->len && blen &&
	    (!MY_H(s, 3) || (MY_H(s, 3) == 1 && !(r->state & RL_MY_SEEN)))) {
		/* A header alone (a server reads one, then the body): the
		 * body is the next data. A command's, or the login's. */
		rl_l7_stmt_put(r->conn, RL_MY_HEADER_ID,
			       blen | (__u32)MY_H(s, 3) << 24);
		r->state |= RL_MY_BODY;
		r->off = s->len;
		return 1;
	}
	if (s->requests)
		my_request(s, off + 4, blen, got);
	else
		my_response_packet(s, blen, got);
	next = off + 4 + blen;
	r->off = next;
	if (next > s->len) /* the rest comes in the next data */
		r->end = next;
	return next >= s->len;
}

/* Whether the data ends with a result set's end: a classic EOF (9 bytes)
 * or an OK with an 0xfe header and no counts (11), no more results. */
static __always_inline bool my_ends_result(struct my_walk *s)
{
	const char *z = s->w->b + RL_MY_HDR_AT;
	__u32 n = s->len < 11 ? s->len : 11;

	if (n < 9 || rl_l7_gather(s->w, RL_MY_HDR_AT, s->len - n, n, s->r) != n)
		return false;
	if (n == 11 && z[0] == 7 && !z[1] && !z[2] && (__u8)z[4] == 0xfe &&
	    !z[5] && !z[6] && !(z[7] & RL_MY_SERVER_MORE_RESULTS))
		return true;
	n -= 9; /* the EOF's first byte (masked reads: n is not tracked) */
	return RL_WAT(z, n) == 5 && !RL_WAT(z, n + 1) && !RL_WAT(z, n + 2) &&
	       (__u8)RL_WAT(z, n + 4) == 0xfe &&
	       !(RL_WAT(z, n + 7) & RL_MY_SERVER_MORE_RESULTS);
}

/* Whether the data starts with what can only be a response's first
 * packet (sequence 1: a small OK or ERR, or a column count). */
static __always_inline bool my_starts_response(struct my_walk *s)
{
	__u32 blen;
	__u8 c;

	if (s->len < 5 || rl_l7_gather(s->w, RL_MY_HDR_AT, 0, 5, s->r) != 5 ||
	    MY_H(s, 3) != 1)
		return false;
	blen = MY_H(s, 0) | MY_H(s, 1) << 8 | MY_H(s, 2) << 16;
	c = MY_H(s, 4);
	return (blen == 1 && c && c < 0xfb) ||
	       (c == 0 && blen >= 7 && blen < 64) ||
	       (c == 0xff && blen >= 9 && blen < 1024);
}

/* Data that starts the body of a command packet whose header came alone
 * (RL_MY_BODY; its length kept under RL_MY_HEADER_ID): the packet taken
 * as any other, and the rest of a body longer than the data (a large
 * statement the server reads in pieces) skipped in the data after. */
static __always_inline void my_body(struct my_walk *s)
{
	struct rl_l7_runs *r = s->r;
	char *h = s->w->b + RL_MY_HDR_AT;
	__u32 got = s->len < RL_MY_HDR - 4 ? s->len : RL_MY_HDR - 4;
	__u32 kept = rl_l7_stmt_get(r->conn, RL_MY_HEADER_ID);
	__u32 blen = kept & RL_MY_PKT_MAX;

	r->state &= ~RL_MY_BODY;
	r->first = RL_L7_INTERIM;
	if (!blen)
		blen = s->len; /* entry evicted: the data is the body */
	if (!got || rl_l7_gather(s->w, RL_MY_HDR_AT + 4, 0, got, r) != got)
		return;
	h[0] = blen;
	h[1] = blen >> 8;
	h[2] = blen >> 16;
	h[3] = kept >> 24;
	r->first = 0;
	my_request(s, 0, blen, got + 4);
	if (!r->first)
		r->first = RL_L7_INTERIM;
	if (blen > s->len)
		r->end = blen;
}

/* Walks the len bytes of data (the first of them in w) from their first
 * packet, reporting in r the requests that end in them (the first in
 * r->first) or the responses that do. A global function: the verifier
 * checks it once, on its own. */
/* What comes before the packets: true when they are walked. Out of
 * rl_my_walk's frame, as my_walk_end: 6.1 adds up the frames of every
 * call and bpf_loop callback down from a program (512 bytes at most), and
 * my_walk_packet's loop and rl_pg_keyword's are under rl_my_walk. */
static __attribute__((noinline)) bool my_walk_start(struct my_walk *s)
{
	struct rl_l7_runs *r = s->r;

	if (s->requests && (r->state & RL_MY_REQ_OFF)) {
		r->first = RL_L7_INTERIM;
		return false;
	}
	if (s->requests && (r->state & RL_MY_BODY)) {
		my_body(s);
		return false;
	}
	if (!s->requests && (r->state & RL_MY_LOST)) {
		if (my_ends_result(s)) {
			rl_l7_scan_add(r, RL_MY_OUT_OK);
			r->state = RL_MY_IDLE;
			return false;
		}
		if (!my_starts_response(s))
			return false;
		/* The response the walk lost ended unseen. */
		rl_l7_scan_add(r, RL_MY_OUT_UNKNOWN);
		r->state = RL_MY_IDLE;
	}
	if (!s->requests && (r->state & RL_MY_SPLIT)) {
		my_joined(s);
		if (r->off >= s->len || (r->state & RL_MY_LOST))
			return false;
	}
	return true;
}

/* After the packets, hops of them walked. */
static __attribute__((noinline)) void my_walk_end(struct my_walk *s,
						  long hops)
{
	struct rl_l7_runs *r = s->r;

	if (s->requests) {
		if (!r->first)
			r->first = RL_L7_INTERIM;
	} else if (!(r->state & RL_MY_LOST) && hops >= RL_MY_HOPS &&
		   r->off < s->len && !r->end) {
		/* Rows past the walk's reach: its end is looked for. */
		r->state |= RL_MY_LOST;
		if (my_ends_result(s)) {
			rl_l7_scan_add(r, RL_MY_OUT_OK);
			r->state = RL_MY_IDLE;
		}
	}
}

RL_L7_GLOBAL int rl_my_walk(struct rl_l7_window *w, __u32 len, __u32 requests,
			    struct rl_l7_runs *r)
{
	struct my_walk s = {};

	if (!w || !r)
		return 0;
	s.w = w;
	s.r = r;
	s.len = len;
	s.requests = requests != 0;
	r->off = 0;
	if (my_walk_start(&s))
		my_walk_end(&s, bpf_loop(RL_MY_HOPS, my_walk_packet, &s, 0));
	return 0;
}

static __always_inline void my_next_requests(struct rl_l7_window *w,
					     struct rl_l7_scan *s)
{
	rl_my_walk(w, s->len, 1, &s->r);
}

static __always_inline void my_next_responses(struct rl_l7_window *w,
					      struct rl_l7_scan *s)
{
	rl_my_walk(w, s->len, 0, &s->r);
}

#endif /* REDLINE_BPF_L7_MYSQL_WALK_BPF_H */
