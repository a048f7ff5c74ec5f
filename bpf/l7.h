/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between bpf/l7.bpf.c and the agent. Plain C, fixed-size types,
 * explicit padding: the agent static_asserts every size and offset.
 */
#ifndef REDLINE_BPF_L7_H
#define REDLINE_BPF_L7_H

#include "slo.h"

/* Request durations: native histogram buckets of schema 1, two per power
 * of two of seconds (hist_edges.h rl_fine_slot): slot 0 holds 0 ns, slot s
 * (2^((s-61)/2), 2^((s-60)/2)] s, the last slot everything above 512 s. */
#define RL_L7_HIST_SLOTS 80

/* Syscall numbers the agent marks in sys_kind (no arch headers in BPF). */
#define RL_L7_MAX_NR 512

/* What a syscall is to the classifier: direction and buffer shape. */
#define RL_L7_IN 0x10  /* data read from the socket */
#define RL_L7_OUT 0x20 /* data written to it */
#define RL_L7_BUF 1    /* (fd, buf, len): read, write, recvfrom, sendto */
#define RL_L7_IOV 2    /* (fd, iov, cnt): readv, writev */
#define RL_L7_MSG 3    /* (fd, msghdr): recvmsg, sendmsg */
#define RL_L7_MMSG 4   /* (fd, mmsghdr vector, vlen): recvmmsg, sendmmsg;
			* each message as a msghdr */
#define RL_L7_OPAQUE 5 /* (fd, ...): sendfile: bytes sent from no user
			* buffer; only counted (an HTTP/2 walk skips them) */
#define RL_L7_TO 0x08  /* flag: the 5th argument is an address: sendto */

/* Protocols a connection can be classified as (0: not yet known). Each has
 * a classifier header bpf/l7_<proto>.bpf.h, a row in bpf/l7_proto.bpf.h's
 * table, and a label set in the agent. */
#define RL_L7_PROTO_HTTP 1
#define RL_L7_PROTO_REDIS 2 /* labels: bpf/l7_redis.h */
#define RL_L7_PROTO_PG 3    /* PostgreSQL; labels: bpf/l7_pg.h */
#define RL_L7_PROTO_MEMCACHED 4 /* labels: bpf/l7_memcached.h */
#define RL_L7_PROTO_MYSQL 5 /* MySQL/MariaDB; labels: bpf/l7_mysql.h */
#define RL_L7_PROTO_DNS 6   /* over UDP; labels: bpf/l7_dns.h */
#define RL_L7_PROTO_H2 7    /* HTTP/2: frames to the agent (bpf/l7_h2.h),
			     * which counts its requests as HTTP2 or GRPC */
#define RL_L7_PROTO_GRPC 8  /* gRPC over HTTP/2: written by the agent only */

/* From the handshake: SYN_RECV -> ESTABLISHED (the socket accept returns)
 * or SYN_SENT -> ESTABLISHED (connect). */
#define RL_L7_SERVER 1 /* accepted: requests are read, responses written */
#define RL_L7_CLIENT 2 /* connected: requests are written, responses read */

/* HTTP methods; 0 when the request line was not seen (see unparsed). */
enum rl_http_method {
	RL_HTTP_UNKNOWN = 0,
	RL_HTTP_GET,
	RL_HTTP_HEAD,
	RL_HTTP_POST,
	RL_HTTP_PUT,
	RL_HTTP_DELETE,
	RL_HTTP_CONNECT,
	RL_HTTP_OPTIONS,
	RL_HTTP_TRACE,
	RL_HTTP_PATCH,
	RL_HTTP_METHOD_COUNT,
};

/* Per workload, role, protocol, operation, outcome and peer: the peer is
 * the remote address and port for clients, the local port for servers. */
struct rl_l7_key {
	__u64 cgroup_id;
	char comm[16];
	__u8 addr[16]; /* client: IPv4 in the first 4 bytes or IPv6 */
	__u16 port;    /* host order: remote (client) or local (server) */
	__u8 family;   /* client: 2 or 10; server: 0 */
	__u8 role;
	__u8 proto;   /* RL_L7_PROTO_* */
	__u8 op;      /* the protocol's operation, 0 if its start was not
		       * seen (HTTP: enum rl_http_method) */
	__u8 outcome; /* the protocol's outcome (HTTP: status class, 1..5
		       * for 1xx..5xx) */
	__u8 tls;     /* 1: plaintext read at a TLS library (tls.bpf.c) */
};

struct rl_l7_val {
	__u64 requests; /* responses seen, i.e. completed requests */
	__u64 timed;	/* of which the request start was seen */
	__u64 sum_ns;
	__u64 hist[RL_L7_HIST_SLOTS];
	__u64 within[RL_SLO_SLOTS]; /* timed, at most SLO threshold i */
};

/* Per-CPU event counters, exported as redline_http_unparsed_total etc. */
enum rl_l7_counter {
	RL_L7_RESPONSE_WITHOUT_REQUEST = 0, /* request line not seen: split
					     * across reads, beyond the peek
					     * window, or sent before start */
	RL_L7_PIPELINE_OVERFLOW = 1, /* more pending requests than tracked */
	RL_L7_REQUEST_WITHOUT_RESPONSE = 2, /* pending at close: no answer,
					     * or answers that arrived in one
					     * read (pipelined, client side) */
	RL_L7_UNCLASSIFIED = 3, /* connections no protocol recognised in
				 * their first messages: given up */
	RL_L7_DNS_UNMATCHED = 4, /* a DNS response whose query was not seen
				  * (sent before start, or timed out) */
	RL_L7_H2_EVENTS_LOST = 5, /* HTTP/2 events the ring buffer had no
				   * room for (their connection is lost) */
	RL_L7_COUNTER_COUNT = 6,
};

/* Maps whose failed updates are counted (bpf/map_errors.h). */
enum rl_l7_map {
	RL_L7_MAP_STATS = 0, /* l7_stats full: request not counted */
	RL_L7_MAP_CONNS = 1, /* connection table full: connection not seen */
	RL_L7_MAP_DNS = 2,   /* DNS queries awaiting a response: full */
	RL_L7_MAP_COUNT = 3,
};

#endif /* REDLINE_BPF_L7_H */
