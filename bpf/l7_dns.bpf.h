/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The DNS message classifier (RFC 1035 4.1): a pure function of a copied
 * message, as bpf/l7_classifier.bpf.h's are (tests/fuzz compiles it for
 * user space). bpf/l7_dns_udp.bpf.h feeds it datagrams; over TCP it is a
 * row of bpf/l7_proto.bpf.h's table (below).
 *
 * A message counts only as a standard query (QR 0, OPCODE 0) or the
 * response to one, with exactly one question whose name is uncompressed
 * labels (a question is never compressed: nothing precedes it) within the
 * copy; a query carries no answer or authority records, and at most two
 * additional ones (EDNS's OPT, TSIG). Anything else on port 53 (junk,
 * NOTIFY, UPDATE, a truncated header) is no request.
 */
#ifndef REDLINE_BPF_L7_DNS_BPF_H
#define REDLINE_BPF_L7_DNS_BPF_H

#include "l7_classifier.bpf.h"
#include "l7_dns.h"

#define RL_DNS_HEADER 12
#define RL_DNS_MAX_NAME 255 /* wire bytes, RFC 1035 2.3.4 */
/* Bytes worth copying from a datagram: header, name, type and class. */
#define RL_DNS_PEEK (RL_DNS_HEADER + RL_DNS_MAX_NAME + 4)

struct rl_dns_msg {
	__u32 question; /* FNV-1a of the name's wire bytes and the type */
	__u16 id;
	__u8 response; /* QR */
	__u8 qtype;    /* enum rl_dns_qtype */
	__u8 rcode;    /* enum rl_dns_rcode (responses) */
	__u8 pad[3];
};

static __always_inline __u8 rl_dns_qtype(__u32 t)
{
#define RL_DNS_Q_CASE(name, code)                                              \
	if (t == (code))                                                       \
		return RL_DNS_Q_##name;
	RL_DNS_QTYPES(RL_DNS_Q_CASE)
#undef RL_DNS_Q_CASE
	return RL_DNS_Q_OTHER;
}

static __always_inline __u8 rl_dns_rcode(__u32 r)
{
#define RL_DNS_R_CASE(name, code)                                              \
	if (r == (code))                                                       \
		return RL_DNS_R_##name;
	RL_DNS_RCODES(RL_DNS_R_CASE)
#undef RL_DNS_R_CASE
	return RL_DNS_R_OTHER;
}

/* b[i], masked to the window where the verifier sees it: barrier_var, or
 * clang drops a mask it proves redundant from bounds the verifier does
 * not track. */
static __always_inline __u32 rl_dns_byte(const char *b, __u32 i)
{
	barrier_var(i);
	return (__u8)RL_WAT(b, i);
}

#define RL_DNS_BYTE(b, i) rl_dns_byte(b, i)
#define RL_DNS_U16(b, i) (RL_DNS_BYTE(b, i) << 8 | RL_DNS_BYTE(b, (i) + 1))

/* The question's walk: bpf_loop steps, each callback verified once (an
 * open loop over 128 labels, then 257 bytes, made the verifier walk every
 * label count times every hash length: over a million instructions). */
struct rl_dns_walk {
	const char *b;
	__u32 n;   /* bytes in b */
	__u32 pos; /* the next label's length byte */
	__u32 end; /* past the name's zero byte; 0 while not found */
	__u32 h;
};

/* A label: at most 128 of 1..63 bytes, then a zero. */
static long rl_dns_label(__u32 i, void *data)
{
	struct rl_dns_walk *w = (struct rl_dns_walk *)data;
	__u32 len;

	if (w->pos >= w->n)
		return 1;
	len = rl_dns_byte(w->b, w->pos);
	if (!len) {
		w->end = w->pos + 1;
		return 1;
	}
	if (len > 63)
		return 1; /* a compression pointer, or reserved */
	w->pos += len + 1;
	return 0;
}

/* FNV-1a over the name and the type: the response repeats both, byte for
 * byte (0x20 case randomisation included). */
static long rl_dns_hash(__u32 i, void *data)
{
	struct rl_dns_walk *w = (struct rl_dns_walk *)data;

	if (RL_DNS_HEADER + i >= w->end + 2)
		return 1;
	w->h = (w->h ^ rl_dns_byte(w->b, RL_DNS_HEADER + i)) * 16777619u;
	return 0;
}

/* The message in b[0..n) (b a scratch window; past RL_DNS_PEEK bytes
 * nothing is read): 1 and *m filled if it is a query or a response as
 * above, else 0. */
static __always_inline int rl_dns_parse(const char *b, __u32 n,
					struct rl_dns_msg *m)
{
	struct rl_dns_walk w = { .b = b, .n = n, .pos = RL_DNS_HEADER };
	__u32 flags;

	if (n > RL_DNS_PEEK) /* the rest (records, EDNS) is not read */
		n = RL_DNS_PEEK;
	if (n < RL_DNS_HEADER + 5)
		return 0;
	w.n = n;
	flags = RL_DNS_U16(b, 2);
	if ((flags & 0x7800) || RL_DNS_U16(b, 4) != 1)
		return 0; /* not OPCODE QUERY, or not one question */
	m->response = flags >> 15;
	if (!m->response &&
	    (RL_DNS_U16(b, 6) || RL_DNS_U16(b, 8) || RL_DNS_U16(b, 10) > 2))
		return 0;
	bpf_loop(128, rl_dns_label, &w, 0);
	if (!w.end || w.end - RL_DNS_HEADER > RL_DNS_MAX_NAME || w.end + 4 > n)
		return 0;
	w.h = 2166136261u;
	bpf_loop(RL_DNS_MAX_NAME + 2, rl_dns_hash, &w, 0);
	m->question = w.h;
	m->id = (__u16)RL_DNS_U16(b, 0);
	m->qtype = rl_dns_qtype(RL_DNS_U16(b, w.end));
	m->rcode = m->response ? rl_dns_rcode(flags & 0xf) : 0;
	return 1;
}

/* DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message after a 2-byte
 * length. A client writes both at once (dig: one writev); a server may
 * read the length alone, then the message (unbound): so a query or
 * response is recognised with its length (which must cover it) or, in a
 * read of its own, without. Responses complete queries in order, as the
 * engine's other protocols (RFC 7766 lets a server reorder; those that do
 * are counted as answered in order). Returns the question type (a query,
 * if want_response is 0) or the outcome (a response), 0 if none. */
RL_L7_GLOBAL __u8 rl_dns_tcp_start(struct rl_l7_window *w, __u32 n,
				   __u32 want_response)
{
	struct rl_dns_msg m = {};
	__u32 len;

	if (!w || n < 2)
		return 0;
	len = rl_dns_byte(w->b, 0) << 8 | rl_dns_byte(w->b, 1);
	if (!(len >= RL_DNS_HEADER + 5 &&
	      rl_dns_parse(w->b + 2, len < n - 2 ? len : n - 2, &m)) &&
	    !rl_dns_parse(w->b, n, &m))
		return 0;
	if (m.response != !!want_response)
		return 0;
	return m.response ? m.rcode : m.qtype;
}

static __always_inline __u8 dns_tcp_request_at(const char *b, __u32 off,
					       __u32 n)
{
	return rl_dns_tcp_start((struct rl_l7_window *)b, n, 0);
}

static __always_inline __u8 dns_tcp_response(const char *b, __u32 n)
{
	return rl_dns_tcp_start((struct rl_l7_window *)b, n, 1);
}

#endif /* REDLINE_BPF_L7_DNS_BPF_H */
