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
 *	  response peek, response start)
 *
 *	request peek	bytes copied from data that may start a request
 *	request start	__u8 f(const char *b, __u32 off, __u32 n): the
 *			operation of a request starting at b[off], 0 if none
 *	next requests	void f(struct rl_l7_scan *s): where the requests
 *			pipelined behind the first one may start
 *	response peek	bytes copied from data that may start a response
 *	response start	__u8 f(const char *b, __u32 n): the outcome of a
 *			response starting at b[0], RL_L7_INTERIM, or 0
 *
 * A connection's protocol is 0 until a row recognises a request start on
 * it (or a response start: the answer to junk or to a request line split
 * across reads); rows are tried in table order until then, so a protocol
 * whose starts are easily matched by chance goes last. Macros and if
 * chains on a small constant, not function pointers: BPF has no indirect
 * calls, and every row is inlined where it is used.
 */
#ifndef REDLINE_BPF_L7_PROTO_BPF_H
#define REDLINE_BPF_L7_PROTO_BPF_H

#include "l7_classifier.bpf.h"
#include "l7_http.bpf.h"

#define RL_L7_PROTOS(X)                                                        \
	X(RL_L7_PROTO_HTTP, RL_L7_PEEK, http_method_at, http_next_requests,    \
	  RL_L7_SMALL_PEEK, http_response)

#define RL_L7_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Bytes to copy from data that may start a request: the protocol's, or
 * on a connection not yet known the most any row needs. */
static __always_inline __u32 rl_l7_request_peek(__u8 proto)
{
	__u32 max = 0;

#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs)                           \
	if (proto == (p))                                                      \
		return rq_peek;                                                \
	max = RL_L7_MAX(max, rq_peek);
	RL_L7_PROTOS(RL_L7_ROW)
#undef RL_L7_ROW
	return max;
}

/* Ditto for data that may start a response. */
static __always_inline __u32 rl_l7_response_peek(__u8 proto)
{
	__u32 max = 0;

#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs)                           \
	if (proto == (p))                                                      \
		return rs_peek;                                                \
	max = RL_L7_MAX(max, rs_peek);
	RL_L7_PROTOS(RL_L7_ROW)
#undef RL_L7_ROW
	return max;
}

/* The operation of a request of protocol proto starting at b[off], or 0. */
static __always_inline __u8 rl_l7_request_at(__u8 proto, const char *b,
					     __u32 off, __u32 n)
{
#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs)                           \
	if (proto == (p))                                                      \
		return rq(b, off, n);
	RL_L7_PROTOS(RL_L7_ROW)
#undef RL_L7_ROW
	return 0;
}

/* The operation of a request starting at b[0], or 0. *proto is the
 * connection's protocol; if 0, it becomes the first row's that sees one.
 * Apart from rl_l7_request_at because the test for "not yet known" in
 * on_request's loop over pipelined requests cost the verifier 17% more
 * instructions explored; here it is one test per message. */
static __always_inline __u8 rl_l7_request(__u8 *proto, const char *b, __u32 n)
{
	__u8 op;

#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs)                           \
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

/* Where requests pipelined behind the first one may start (proto known). */
static __always_inline void rl_l7_next_requests(__u8 proto,
						struct rl_l7_scan *s)
{
#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs)                           \
	if (proto == (p))                                                      \
		next(s);
	RL_L7_PROTOS(RL_L7_ROW)
#undef RL_L7_ROW
}

/* The outcome of a response starting at b[0], RL_L7_INTERIM, or 0; *proto
 * as for rl_l7_request: the answer to junk, or to a request line split
 * across reads, names the protocol too. */
static __always_inline __u8 rl_l7_response(__u8 *proto, const char *b, __u32 n)
{
	__u8 outcome;

#define RL_L7_ROW(p, rq_peek, rq, next, rs_peek, rs)                           \
	if (!*proto || *proto == (p)) {                                        \
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
