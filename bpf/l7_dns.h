/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS label sets and the exchange table's layout, shared by the kernel
 * (bpf/l7_dns.bpf.h, bpf/l7_dns_udp.bpf.h) and the agent
 * (agent/model/request_protocols.cc, agent/probes/l7_probe.cc): one list
 * each, so a code means the same on both sides. Plain C.
 *
 * Operation: the question's type (RFC 1035 3.2.2, RFC 3596 AAAA, RFC 2782
 * SRV, RFC 9460 SVCB/HTTPS); any other type is `other`. Outcome: the
 * response's RCODE (RFC 1035 4.1.1, RFC 6895), `other` for the rest, and
 * `timeout` for a query the agent found unanswered after
 * RL_DNS_TIMEOUT_NS (never set by the kernel). The query's name never
 * leaves the kernel: only a hash of it, to match a response to its query.
 */
#ifndef REDLINE_BPF_L7_DNS_H
#define REDLINE_BPF_L7_DNS_H

#include "l7.h"

/* The well-known port: a UDP socket bound to it serves DNS, one that
 * sends to it asks. The agent may name up to RL_DNS_MAX_PORTS ports
 * (--dns-ports), 53 by default. */
#define RL_DNS_PORT 53
#define RL_DNS_MAX_PORTS 4

#define RL_DNS_QTYPES(X)                                                       \
	X(A, 1)                                                                \
	X(NS, 2)                                                               \
	X(CNAME, 5)                                                            \
	X(SOA, 6)                                                              \
	X(PTR, 12)                                                             \
	X(MX, 15)                                                              \
	X(TXT, 16)                                                             \
	X(AAAA, 28)                                                            \
	X(SRV, 33)                                                             \
	X(SVCB, 64)                                                            \
	X(HTTPS, 65)                                                           \
	X(ANY, 255)

enum rl_dns_qtype {
	RL_DNS_Q_UNKNOWN = 0, /* the question was not seen */
	RL_DNS_Q_OTHER = 1,
#define RL_DNS_Q_ENUM(name, code) RL_DNS_Q_##name,
	RL_DNS_QTYPES(RL_DNS_Q_ENUM)
#undef RL_DNS_Q_ENUM
	    RL_DNS_Q_COUNT,
};

#define RL_DNS_RCODES(X)                                                       \
	X(NOERROR, 0)                                                          \
	X(FORMERR, 1)                                                          \
	X(SERVFAIL, 2)                                                         \
	X(NXDOMAIN, 3)                                                         \
	X(NOTIMP, 4)                                                           \
	X(REFUSED, 5)

enum rl_dns_rcode {
	RL_DNS_R_UNKNOWN = 0,
#define RL_DNS_R_ENUM(name, code) RL_DNS_R_##name,
	RL_DNS_RCODES(RL_DNS_R_ENUM)
#undef RL_DNS_R_ENUM
	    RL_DNS_R_OTHER,
	RL_DNS_R_TIMEOUT, /* set by the agent only */
	RL_DNS_R_COUNT,
};

/* A query still unanswered this long is counted as a timeout by the agent
 * and forgotten (glibc's resolver gives up on a server after 5 s). */
#define RL_DNS_TIMEOUT_NS 10000000000ULL

/* A client's response read before its query's write was seen waits this
 * long for the query (then the agent counts it as a response without a
 * query): see dns_early in bpf/l7_dns_udp.bpf.h. */
#define RL_DNS_EARLY_NS 1000000000ULL

/* A query waiting for its response: the socket (struct sock address) it
 * was read from (server) or written to (client), its id, and a hash of its
 * question (name bytes and type), which the response repeats. */
struct rl_dns_pending_key {
	__u64 sk;
	__u32 question; /* FNV-1a of the name's wire bytes and the type */
	__u16 id;
	__u8 role; /* RL_L7_SERVER or RL_L7_CLIENT */
	__u8 pad;
};

/* The request's labels as the query left them (outcome 0 until the
 * response), and when it was seen. */
struct rl_dns_pending {
	struct rl_l7_key key;
	__u64 start_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
};

/* A client's response that came before its query (dns_early). */
struct rl_dns_early {
	__u64 ts_ns; /* when it was read (bpf_ktime_get_ns) */
	__u8 rcode;  /* its outcome */
	__u8 pad[7];
};

#endif /* REDLINE_BPF_L7_DNS_H */
