/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The request protocols l7.bpf.c classifies, one row each, and the only
 * place its protocol-agnostic state machine reaches them from.
 *
 * Adding a protocol: write bpf/l7_<proto>.bpf.h against
 * bpf/l7_classifier.bpf.h (and its fuzz target), give it an
 * RL_L7_PROTO_* in bpf/l7.h, include it here and add its row. A row is
 *
 *	X(proto, request peek, request start, next requests,
 *	  response peek, response start, next responses, names, every)
 *
 *	request peek	bytes copied from data that may start a request
 *	request start	__u8 f(const char *b, __u32 off, __u32 n): the
 *			operation of a request starting at b[off], 0 if none
 *	next requests	void f(w, struct rl_l7_scan *s): the requests
 *			pipelined behind the first one (struct rl_l7_scan)
 *	response peek	bytes copied from data that may start a response
 *	response start	__u8 f(const char *b, __u32 n): the outcome of a
 *			response starting at b[0], RL_L7_INTERIM, or 0
 *	next responses	void f(w, struct rl_l7_scan *s): the responses that
 *			follow the first one in the same data
 *	names		whether a response start alone names a connection
 *			of unknown protocol
 *	every		whether, once the protocol is known, every read and
 *			write is walked whatever its first bytes (as if a
 *			start were RL_L7_INTERIM): for a protocol whose
 *			peer reads a message in pieces (MySQL: a server
 *			reads a packet's 4-byte header, then its body),
 *			and whose walk keeps its place across data itself
 *
 * A connection's protocol is 0 until a row recognises a request start on
 * it (or, where the row says so, a response start: the answer to junk or
 * to a request line split across reads); rows are tried in table order
 * until then, so a protocol whose starts are easily matched by chance
 * goes last. Macros and if
 * chains on a small constant, not function pointers: BPF has no indirect
 * calls, and every row is inlined where it is used.
 */
#ifndef REDLINE_BPF_L7_PROTO_BPF_H
#define REDLINE_BPF_L7_PROTO_BPF_H

#include "l7_classifier.bpf.h"
#include "l7_dns.bpf.h"
#include "l7_http.bpf.h"
#include "l7_memcached.bpf.h"
#include "l7_mysql.bpf.h"
#include "l7_pg.bpf.h"
#include "l7_redis.bpf.h"

#define RL_L7_PROTOS(X)                                                        \
	X(RL_L7_PROTO_HTTP, RL_L7_PEEK, http_method_at, http_next_requests,    \
	  RL_L7_SMALL_PEEK, http_response, rl_l7_scan_none, true, false)       \
	X(RL_L7_PROTO_REDIS, RL_L7_WINDOW, redis_request_at,                   \
	  redis_next_requests, RL_L7_WINDOW, redis_response,                   \
	  redis_next_responses, false, false)                                  \
	X(RL_L7_PROTO_PG, RL_L7_SMALL_PEEK, pg_request_at, pg_next_requests,   \
	  RL_L7_SMALL_PEEK, pg_response, pg_next_responses, false, false)      \
	X(RL_L7_PROTO_MEMCACHED, RL_L7_SMALL_PEEK, mc_request_at,              \
	  mc_next_requests, RL_L7_SMALL_PEEK, mc_response_start,               \
	  mc_next_responses, false, false)                                     \
	X(RL_L7_PROTO_MYSQL, RL_L7_SMALL_PEEK, my_request_at,                  \
	  my_next_requests, RL_L7_SMALL_PEEK, my_response, my_next_responses,  \
	  true, true)                                                          \
	X(RL_L7_PROTO_DNS, RL_DNS_PEEK + 2, dns_tcp_request_at,                \
	  rl_l7_scan_none, RL_DNS_PEEK + 2, dns_tcp_response, rl_l7_scan_none, \
	  false, false)

#define RL_L7_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Bytes to copy from data that may start a request: the protocol's, or
 * on a connection not yet known the most any row needs. */
static __always_inline __u32 rl_l7_request_peek(__u8 proto)
{
	__u32 max = 0;

#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs, rs_next, names, every)    \
	if (proto == (p))                                                      \
		return rq_peek;                                                \
	max = RL_L7_MAX(max, rq_peek);
	RL_L7_PROTOS(RL_L7_ROW)
#undef RL_L7_ROW
	return max;
}

/* Ditto for data that may start a response: on a connection not yet
 * known, only rows whose responses name the protocol look. */
static __always_inline __u32 rl_l7_response_peek(__u8 proto)
{
	__u32 max = 0;

#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs, rs_next, names, every)    \
	if (proto == (p))                                                      \
		return rs_peek;                                                \
	if (names)                                                             \
		max = RL_L7_MAX(max, rs_peek);
	RL_L7_PROTOS(RL_L7_ROW)
#undef RL_L7_ROW
	return max;
}

/* The operation of a request starting at b[0], or 0. *proto is the
 * connection's protocol; if 0, it becomes the first row's that sees one. */
static __always_inline __u8 rl_l7_request(__u8 *proto, const char *b, __u32 n)
{
	__u8 op;

#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs, rs_next, names, every)    \
	if (!*proto || *proto == (p)) {                                        \
		op = rq(b, 0, n);                                              \
		if (op) {                                                      \
			*proto = (p);                                          \
			return op;                                             \
		}                                                              \
	}
	RL_L7_PROTOS(RL_L7_ROW)
#undef RL_L7_ROW
	return 0;
}

/* Whether every read and write of a connection of protocol proto (known)
 * is walked. */
static __always_inline bool rl_l7_every(__u8 proto)
{
#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs, rs_next, names, every)    \
	if (proto == (p))                                                      \
		return every;
	RL_L7_PROTOS(RL_L7_ROW)
#undef RL_L7_ROW
	return false;
}

/* The requests pipelined behind the first one (proto known). */
static __always_inline void
rl_l7_next_requests(__u8 proto, struct rl_l7_window *w, struct rl_l7_scan *s)
{
#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs, rs_next, names, every)    \
	if (proto == (p))                                                      \
		next(w, s);
	RL_L7_PROTOS(RL_L7_ROW)
#undef RL_L7_ROW
}

/* The responses after the first one in the same data (proto known). */
static __always_inline void
rl_l7_next_responses(__u8 proto, struct rl_l7_window *w, struct rl_l7_scan *s)
{
#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs, rs_next, names, every)    \
	if (proto == (p))                                                      \
		rs_next(w, s);
	RL_L7_PROTOS(RL_L7_ROW)
#undef RL_L7_ROW
}

/* The outcome of a response starting at b[0], RL_L7_INTERIM, or 0; *proto
 * as for rl_l7_request: the answer to junk, or to a request line split
 * across reads, names the protocol too. */
static __always_inline __u8 rl_l7_response(__u8 *proto, const char *b, __u32 n)
{
	__u8 outcome;

#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs, rs_next, names, every)    \
	if ((!*proto && (names)) || *proto == (p)) {                           \
		outcome = rs(b, n);                                            \
		if (outcome) {                                                 \
			*proto = (p);                                          \
			return outcome;                                        \
		}                                                              \
	}
	RL_L7_PROTOS(RL_L7_ROW)
#undef RL_L7_ROW
	return 0;
}

#endif /* REDLINE_BPF_L7_PROTO_BPF_H */
