/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS over UDP: one exchange per datagram pair, not a connection. A query
 * is remembered by (socket, id, question) with the labels of the request
 * and when it was seen; the response that repeats them completes it. The
 * server is a socket bound to a DNS port (53, or the agent's --dns-ports):
 * it reads queries and writes responses. A client is a socket that writes
 * a query to such a port (its connected peer, or the address of a
 * sendto/sendmsg) and reads the response. A query never answered stays
 * until the agent finds it older than RL_DNS_TIMEOUT_NS: counted as a
 * timeout, and deleted.
 *
 * Knows no hook: l7.bpf.c fills a struct rl_dns_io from the socket and
 * the syscall's arguments and calls rl_dns_datagram. Included once, by
 * l7.bpf.c, after bpf/l7_conn.bpf.h (the stats map, record's helpers).
 */
#ifndef REDLINE_BPF_L7_DNS_UDP_BPF_H
#define REDLINE_BPF_L7_DNS_UDP_BPF_H

#include "l7_conn.bpf.h"
#include "l7_dns.bpf.h"

/* DNS's UDP ports, set by the agent before load; 0: unused. */
const volatile __u16 dns_ports[RL_DNS_MAX_PORTS] = {RL_DNS_PORT};

/* Whether port (host order, 0: none) is one of them. */
static __always_inline bool dns_port(__u16 port)
{
	_Static_assert(RL_DNS_MAX_PORTS == 4, "dns_port compares 4");
	/* Written out, not a loop: an accumulator spilled on the stack
	 * frames that 6.1 caps at 512 bytes per call chain. */
	return port && (port == dns_ports[0] || port == dns_ports[1] ||
			port == dns_ports[2] || port == dns_ports[3]);
}

/* Preallocated: an insert never allocates in the socket's path; full is
 * counted (RL_L7_MAP_DNS). The agent deletes what times out. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct rl_dns_pending_key);
	__type(value, struct rl_dns_pending);
} dns_pending SEC(".maps");

/* A client's responses read before the write of their query was seen:
 * the tracepoint of a write fires as it returns, by when the server on
 * loopback may have answered and another thread of the client (dnsperf's
 * receiver) read the answer on another CPU; on an unconnected socket's
 * first query, before anything said the socket asks (so every read of an
 * unconnected socket is looked at, see dns_maybe in l7.bpf.c). Each waits
 * here, by its query's key, for the query, which then completes with
 * duration ~0 (dns_claim_early); the agent counts one older than
 * RL_DNS_EARLY_NS as a response without a query (RL_L7_DNS_UNMATCHED) and
 * deletes it. A full table: counted so at once. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct rl_dns_pending_key);
	__type(value, struct rl_dns_early);
} dns_early SEC(".maps");

/* One datagram, as the hook found it. */
struct rl_dns_io {
	__u64 sk;	/* struct sock address */
	__u64 ubuf;	/* its first bytes in user memory */
	__u32 len;	/* bytes at ubuf (the datagram, or its first
			 * segment) */
	__u16 local_port; /* host order */
	__u16 peer_port;  /* host order; client queries: the server's */
	__u8 dir;	  /* RL_L7_IN or RL_L7_OUT */
	__u8 family;	  /* of addr: AF_INET, AF_INET6, 0 unknown */
	__u8 server;	  /* bound to a DNS port */
	__u8 pad[5];
	__u8 addr[16]; /* client queries: the server's address */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rl_dns_io);
} dns_io_scratch SEC(".maps");

/* This CPU's scratch io, cleared and filled with what the socket says. */
static __always_inline struct rl_dns_io *dns_io_slot(struct sock *sk,
						     __u32 dir, __u16 local)
{
	__u32 zero = 0;
	struct rl_dns_io *io = bpf_map_lookup_elem(&dns_io_scratch, &zero);

	if (!io)
		return NULL;
	__builtin_memset(io, 0, sizeof(*io));
	io->sk = (__u64)sk;
	io->dir = dir;
	io->local_port = local;
	/* Compared again, not passed: one value fewer live across the
	 * callers' loops (stack spills, see dns_port). */
	io->server = dns_port(local);
	return io;
}

/* The request's labels, taken from the process reading or writing the
 * query (who will read or write the response). */
static __always_inline void dns_labels(struct rl_l7_key *k,
				       const struct rl_dns_io *io, __u8 role,
				       __u8 qtype)
{
	k->cgroup_id = bpf_get_current_cgroup_id();
	bpf_probe_read_kernel_str(
	    k->comm, sizeof(k->comm),
	    bpf_get_current_task_btf()->group_leader->comm);
	k->role = role;
	k->proto = RL_L7_PROTO_DNS;
	k->op = qtype;
	if (role == RL_L7_SERVER) {
		k->port = io->local_port;
	} else {
		k->port = io->peer_port;
		k->family = io->family;
		__builtin_memcpy(k->addr, io->addr, sizeof(k->addr));
	}
}

/* A client's query q (key k) whose response came first (dns_early):
 * completed now, timed from now (what counting it costs, not the time
 * since the write's tracepoint): the answer was read before the write
 * returned, so the true duration is below the write's own, which this
 * hook cannot see. */
static __always_inline bool dns_claim_early(const struct rl_dns_pending_key *k,
					    struct rl_dns_pending *q)
{
	struct rl_dns_early *e = bpf_map_lookup_elem(&dns_early, k);
	__u8 rcode;

	if (!e)
		return false;
	rcode = e->rcode;
	/* Deleted first: of two CPUs racing for it, one counts it. */
	if (bpf_map_delete_elem(&dns_early, k))
		return false;
	q->key.outcome = rcode;
	record_key(&q->key, bpf_ktime_get_ns(), 1);
	return true;
}

/* A DNS datagram (or not): a query is remembered, a response completes
 * its query. A global function: verified once, whichever hook calls it. */
__attribute__((noinline)) int rl_dns_datagram(struct rl_dns_io *io)
{
	struct rl_l7_window *w = RL_L7_WINDOW_OF_CALLER();
	struct rl_dns_pending_key k = {};
	struct rl_dns_pending *p, q = {};
	struct rl_dns_msg m = {};
	__u8 server;
	__u32 n;
	long err;

	if (!io || !w)
		return 0;
	n = io->len < RL_DNS_PEEK ? io->len : RL_DNS_PEEK;
	if (n < RL_DNS_HEADER + 5)
		return 0;
	barrier_var(n);
	n &= 511; /* RL_DNS_PEEK < 512: a bound the verifier keeps */
	if (bpf_probe_read_user(w->b, n, (const void *)io->ubuf) ||
	    !rl_dns_parse(w->b, n, &m))
		return 0;
	server = io->server;
	/* A server reads queries and writes responses, a client the other
	 * way round: anything else (a resolver's port 53 socket that also
	 * asks, junk) is not ours. */
	if (m.response != (server ? io->dir == RL_L7_OUT : io->dir == RL_L7_IN))
		return 0;
	k.sk = io->sk;
	k.question = m.question;
	k.id = m.id;
	k.role = server ? RL_L7_SERVER : RL_L7_CLIENT;
	if (!m.response) {
		if (!server && !io->peer_port)
			return 0;
		dns_labels(&q.key, io, k.role, m.qtype);
		q.start_ns = bpf_ktime_get_ns();
		if (!server && dns_claim_early(&k, &q))
			return 0;
		/* A retry with the same id and question restarts the
		 * wait: its answer is the one the client takes. */
		err = bpf_map_update_elem(&dns_pending, &k, &q, BPF_ANY);
		if (err)
			rl_update_error(&l7_update_errors, RL_L7_MAP_DNS, err);
		return 0;
	}
	p = bpf_map_lookup_elem(&dns_pending, &k);
	if (!p) {
		struct rl_dns_early e = {.ts_ns = bpf_ktime_get_ns(),
					 .rcode = m.rcode};

		/* A server's query is read before it answers it: only a
		 * client's can come late. */
		if (server ||
		    bpf_map_update_elem(&dns_early, &k, &e, BPF_NOEXIST))
			RL_COUNT_EVENT(l7_counters, RL_L7_DNS_UNMATCHED);
		return 0;
	}
	q = *p;
	/* Deleted first: of two CPUs racing for it (a duplicate answer),
	 * one counts it. */
	if (bpf_map_delete_elem(&dns_pending, &k))
		return 0;
	q.key.outcome = m.rcode;
	record_key(&q.key, q.start_ns, 1);
	return 0;
}

#endif /* REDLINE_BPF_L7_DNS_UDP_BPF_H */
