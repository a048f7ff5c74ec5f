/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The l7 connection state machine: per TCP socket, the requests pending a
 * response; what a message that starts a request or a response does to
 * them. Knows no protocol (bpf/l7_proto.bpf.h's table does) and no hook
 * (bpf/l7.bpf.c says where sockets, reads and writes come from). Included
 * once, by l7.bpf.c: it holds the maps.
 */
#ifndef REDLINE_BPF_L7_CONN_BPF_H
#define REDLINE_BPF_L7_CONN_BPF_H

#include "l7.h"
#include "l7_h2.h"
#include "l7_proto.bpf.h"

#define FIFO RL_L7_FIFO /* runs of pending requests per connection */

/* Messages a connection may carry before a row of the table recognises
 * one; then it is forgotten (TLS, databases, anything else: no peek per
 * message for the rest of its life), counted as unclassified. A junk line
 * or a request line split across two reads costs HTTP one try each. */
#define RL_L7_CLASSIFY_TRIES 8

/* SLO latency thresholds (bpf/slo.h), written by the agent at any time. */
__u64 slo_threshold_ns[RL_SLO_SLOTS];

/* A read this short starts no request a row knows ("GET /" is the
 * shortest), but may be the first bytes of one read alone: Go's net/http
 * server reads one byte while a handler runs (to notice a client that
 * went away), so every keep-alive request that arrives meanwhile comes
 * as "G" then "ET /x HTTP/1.1...". */
#define RL_L7_LEAD 3

/* Pending requests are runs: n[i] requests of operation op[i] that one
 * message started at start_ns[i] (a pipelining client sends 16 GETs in
 * one write; they take one entry, not 16). */
struct conn {
	__u8 role;
	__u8 family;
	__u16 port;
	__u8 head;  /* oldest run of pending requests */
	__u8 count; /* runs */
	__u8 op[FIFO];
	__u8 n[FIFO];
	__u8 proto;    /* RL_L7_PROTO_*, 0 until a row of the table knows */
	__u8 tries;    /* messages seen while proto is 0 */
	__u8 state[2]; /* the protocol's, per direction (rl_l7_runs.state) */
	__u8 tls;      /* ciphertext on the socket: bpf/l7_tls.bpf.h */
	/* The first bytes of a request read alone (lead_len of them): the
	 * next read in that direction continues it. */
	__u8 lead_len;
	char lead[RL_L7_LEAD];
	__u8 pad[3];
	/* Bytes of a message's last value still to come, per direction
	 * (0: read, 1: written): the data that follows starts inside it. */
	__u32 skip[2];
	__u8 addr[16];
	__u64 gen;	    /* the socket's cookie: a recycled address is
			     * another socket with another cookie */
	union {
		struct {
			/* server: first read since the last response */
			__u64 idle_read_ns;
			__u64 start_ns[FIFO];
		};
		/* HTTP/2 (proto RL_L7_PROTO_H2): its requests are the
		 * agent's to pair, these fields its frame walk's. */
		struct rl_h2_state h2;
	};
};

/* Keyed by the struct sock pointer: whoever does the I/O (the process
 * that accepted, a child forked after accept, one that got the fd over a
 * unix socket) finds the same state. Created at ESTABLISHED, freed at
 * CLOSE (l7.bpf.c); a plain hash, so a full table is counted, never a
 * live connection silently evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct conn);
} conns SEC(".maps");

/* Where a connection's state lives, set by the agent at load. 1: in the
 * socket's own storage (conn_store): found from the socket with no hash
 * to compute, freed by the kernel with it, memory only for the sockets
 * tracked. Needs a BTF sock wherever state is found, which only the sock
 * tracepoints give: the sys_exit fallback has the sock as a number from
 * the fd table, and TLS uprobes (kprobe-type programs) may not call the
 * socket storage helpers; with either, 0: the conns hash. */
const volatile __u8 conn_sk;
/* Sockets conn_store may hold at once: the hash's max_entries, as bound
 * to the other path. */
const volatile __u32 conn_cap = 65536;

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn);
} conn_store SEC(".maps");

/* Entries of conn_store, for conn_cap: one counter all CPUs add to (at
 * connection set-up and teardown, rare next to I/O), read before the add
 * (this BPF target has no fetch-and-add), so two CPUs adding at once may
 * pass the bound by one each. Signed: two threads forgetting one socket
 * at once (conn_forget) may both be told their bpf_sk_storage_delete
 * succeeded (it returns 0 whenever its lockless lookup found the entry,
 * unlike a hash delete) and take it down twice; the count then errs low
 * and the bound lets one more in, where an unsigned count would wrap and
 * refuse every socket after. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} conn_live SEC(".maps");

/* Entries of conns (or conn_store), as +1 at insert and -1 at delete on
 * whichever CPU: the sum is exact without walking the map's buckets. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} conn_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct rl_l7_key);
	__type(value, struct rl_l7_val);
} l7_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RL_L7_COUNTER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} l7_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RL_L7_MAP_COUNT *RL_UPDATE_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} l7_update_errors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rl_l7_window);
} scratch SEC(".maps");

/* The scan of one read or write (struct rl_l7_scan): per CPU, not on the
 * stack, which 6.1 limits to 512 bytes over the whole chain of calls
 * (l7_exit, on_data, rl_l7_on_request, a walk, its callback, a scan, its
 * callback), as later kernels do. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rl_l7_scan);
} scan_scratch SEC(".maps");

static const struct rl_l7_val zero_val;

/* Ditto for the scan: per CPU here, per thread for uprobes (tls.bpf.c
 * defines its own). */
#ifndef RL_L7_SCAN_OF_CALLER
#define RL_L7_SCAN_OF_CALLER()                                                 \
	((struct rl_l7_scan *)bpf_map_lookup_elem(&scan_scratch, &(__u32){0}))
#endif

/* Zeroed but for the runs' op[] and cnt[] (96 of its 192 bytes), which
 * are written before they are read: only below r.found. */
static __always_inline struct rl_l7_scan *scan_slot(void)
{
	struct rl_l7_scan *s = RL_L7_SCAN_OF_CALLER();

	if (s) {
		__builtin_memset(s, 0, offsetof(struct rl_l7_scan, r.op));
		__builtin_memset(&s->r.off, 0,
				 sizeof(*s) - offsetof(struct rl_l7_scan, r.off));
	}
	return s;
}

/* Where peek copies a message's first bytes: per CPU, for programs that
 * run with preemption off. An includer whose programs can be preempted
 * mid-copy (uprobes: bpf/tls.bpf.c) defines its own, per thread. */
#ifndef RL_L7_WINDOW_OF_CALLER
#define RL_L7_WINDOW_OF_CALLER()                                               \
	((struct rl_l7_window *)bpf_map_lookup_elem(&scratch, &(__u32){0}))
#endif

#include "l7_h2.bpf.h"

static __always_inline void conn_count_add(__u64 d)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&conn_count, &zero);

	if (n) /* atomic: see RL_COUNT_EVENT */
		__sync_fetch_and_add(n, d);
}

/* The end of the connection at key: its pending requests never got an
 * answer we saw. */
static __always_inline void conn_ended(__u64 key, const struct conn *c)
{
	__u64 pending = 0;

	for (__u32 i = 0; i < FIFO; i++)
		if (i < c->count)
			pending += c->n[(c->head + i) & (FIFO - 1)];
	if (c->proto == RL_L7_PROTO_H2) {
		/* The agent frees its decoders; pending requests are its. */
		struct rl_h2_event *ev = bpf_ringbuf_reserve(
		    &h2_events, RL_H2_EVENT_HEAD, 0);

		pending = 0;
		if (ev) {
			__builtin_memset(ev, 0, RL_H2_EVENT_HEAD);
			ev->sk = key;
			ev->gen = c->gen;
			/* When a gRPC call left without trailers ends. */
			ev->ts_ns = bpf_ktime_get_ns();
			ev->kind = RL_H2_EV_CLOSED;
			bpf_ringbuf_submit(ev, h2_wakeup());
		} else {
			RL_COUNT_EVENT(l7_counters, RL_L7_H2_EVENTS_LOST);
		}
	}
	if (pending) {
		__u32 k = RL_L7_REQUEST_WITHOUT_RESPONSE;
		__u64 *cnt = bpf_map_lookup_elem(&l7_counters, &k);

		if (cnt)
			__sync_fetch_and_add(cnt, pending);
	}
}

/* Forgets the connection at key in conns. */
static void conn_delete(__u64 key, const struct conn *c)
{
	conn_ended(key, c);
	if (!bpf_map_delete_elem(&conns, &key))
		conn_count_add((__u64)-1);
}

static __always_inline void conn_live_add(__s64 d)
{
	__u32 zero = 0;
	__s64 *n = bpf_map_lookup_elem(&conn_live, &zero);

	if (n)
		__sync_fetch_and_add(n, d);
}

/* Forgets sk's connection c, wherever conn_sk keeps it. sk is a BTF
 * pointer when conn_sk is set (the verifier follows only that branch, the
 * flag being read-only data). */
static void conn_forget(struct sock *sk, const struct conn *c)
{
	if (!conn_sk) {
		conn_delete((__u64)sk, c);
		return;
	}
	conn_ended((__u64)sk, c);
	if (!bpf_sk_storage_delete(&conn_store, sk)) {
		conn_count_add((__u64)-1);
		conn_live_add(-1);
	}
}

/* cnt requests of the labels k, started at start_ns (0: not seen).
 * Inlined: a frame of its own takes the fallback (sys_exit) past 512
 * bytes of stack over its 6 calls on 6.1. */
static __always_inline void record_key(const struct rl_l7_key *k,
				       __u64 start_ns, __u64 cnt)
{
	struct rl_l7_val *v;
	__u64 d;

	v = rl_lookup_or_init(&l7_stats, k, &zero_val, &l7_update_errors,
			      RL_L7_MAP_STATS);
	if (!v)
		return;
	__sync_fetch_and_add(&v->requests, cnt);
	if (!start_ns)
		return;
	d = bpf_ktime_get_ns() - start_ns;
	__sync_fetch_and_add(&v->timed, cnt);
	__sync_fetch_and_add(&v->sum_ns, d * cnt);
	__sync_fetch_and_add(&v->hist[rl_fine_slot(d)], cnt);
	for (int i = 0; i < RL_SLO_SLOTS; i++) {
		__u64 t = slo_threshold_ns[i];

		if (t && d <= t)
			__sync_fetch_and_add(&v->within[i], cnt);
	}
}

/* Labels are the process doing the I/O now, as every other concern names
 * it: the group leader's name (a worker thread may be "worker-3") and the
 * cgroup of the current task. */
static void record(const struct conn *c, __u8 op, __u8 outcome, __u64 start_ns,
		   __u64 cnt)
{
	const char *comm = bpf_get_current_task_btf()->group_leader->comm;
	struct rl_l7_key k = {};

	k.cgroup_id = bpf_get_current_cgroup_id();
	/* Two direct (BTF) loads, not bpf_probe_read_kernel_str's call: the
	 * kernel keeps comm NUL-padded (strscpy_pad), so the bytes are the
	 * same. */
	*(__u64 *)&k.comm[0] = *(const __u64 *)&comm[0];
	*(__u64 *)&k.comm[8] = *(const __u64 *)&comm[8];
	k.role = c->role;
	k.proto = c->proto;
	k.op = op;
	k.outcome = outcome;
	k.tls = c->tls;
	k.port = c->port;
	if (c->role == RL_L7_CLIENT) {
		k.family = c->family;
		__builtin_memcpy(k.addr, c->addr, sizeof(k.addr));
	}
	record_key(&k, start_ns, cnt);
}

/* cnt requests of operation op, started now by one message. */
static __always_inline void push(struct conn *c, __u8 op, __u32 cnt, __u64 now)
{
	__u32 i = (c->head + c->count - 1) & (FIFO - 1);

	if (cnt > 255) /* 256 pipelined in one read, of 4 bytes each */
		cnt = 255;
	if (c->count && c->op[i] == op && c->start_ns[i] == now &&
	    c->n[i] + cnt <= 255) {
		c->n[i] += cnt;
		return;
	}
	if (c->count >= FIFO) {
		__u32 k = RL_L7_PIPELINE_OVERFLOW;
		__u64 *v = bpf_map_lookup_elem(&l7_counters, &k);

		if (v)
			__sync_fetch_and_add(v, cnt);
		return;
	}
	i = (c->head + c->count) & (FIFO - 1);
	c->op[i] = op;
	c->n[i] = cnt;
	c->start_ns[i] = now;
	c->count++;
}

/* The data's first bytes (up to max) in the window: one copy, or a
 * gather through the segments of a readv/writev/sendmsg/recvmsg. */
static __always_inline struct rl_l7_window *peek(struct rl_l7_scan *ctx,
						 __u32 max, __u32 *n)
{
	struct rl_l7_window *pb = RL_L7_WINDOW_OF_CALLER();
	__u32 size = ctx->len < max ? ctx->len : max;

	if (!pb || !size)
		return NULL;
	if (ctx->r.iovcnt) {
		size = rl_l7_gather(pb, 0, 0, size, &ctx->r);
		if (!size)
			return NULL;
		*n = size;
		return pb;
	}
	barrier_var(size); /* or clang drops the mask as redundant */
	size &= 2 * RL_L7_WINDOW - 1;
	if (bpf_probe_read_user(pb->b, size, (const void *)ctx->ubuf))
		return NULL;
	*n = size;
	return pb;
}

/* The bytes past the data (len of them moved) that its last message
 * still has, to be skipped in the next data in direction d. */
static __always_inline void carry(struct conn *c, const struct rl_l7_scan *s,
				  __u32 len, __u32 d)
{
	if (s->r.end > len)
		c->skip[d & 1] = s->r.end - len;
}

/* The runs a walk reported, one per bpf_loop step: one callback verified
 * once, where an open loop over RL_L7_SCAN_RUNS runs made the verifier
 * walk push or complete as many times (32 runs: 540k instructions). */
struct runs_ctx {
	struct conn *c;
	struct rl_l7_scan *ctx;
	__u64 now;
};

static long push_run(__u32 j, void *data)
{
	struct runs_ctx *x = (struct runs_ctx *)data;

	if (j >= x->ctx->r.found)
		return 1;
	j &= RL_L7_SCAN_RUNS - 1;
	push(x->c, x->ctx->r.op[j], x->ctx->r.cnt[j], x->now);
	return 0;
}

/* Data that starts a request (its first bytes in w): queue it, and the
 * pipelined requests that follow it (a client may send several before
 * reading any response; the server reads them in one go). This and
 * rl_l7_on_response are global functions: verified once each, on their
 * own, instead of along every path of the program that reaches them (the
 * difference between 470k and 190k instructions processed). */
__attribute__((noinline)) int rl_l7_on_request(struct conn *c,
					       struct rl_l7_scan *ctx,
					       struct rl_l7_window *w, __u32 d,
					       __u32 op)
{
	__u64 now = bpf_ktime_get_ns();
	struct runs_ctx x;

	if (!c || !ctx || !w)
		return 0;
	rl_l7_next_requests(c->proto, w, ctx);
	if (ctx->r.first)
		op = ctx->r.first;
	if (op != RL_L7_INTERIM)
		push(c, op, 1, now);
	carry(c, ctx, ctx->len, d);
	if (!ctx->r.found) /* the usual case: one request */
		return 0;
	x.c = c;
	x.ctx = ctx;
	x.now = now;
	bpf_loop(RL_L7_SCAN_RUNS, push_run, &x, 0);
	return 0;
}

/* cnt responses of one outcome: complete the oldest pending requests. */
static void complete(struct conn *c, __u8 outcome, __u32 cnt)
{
	for (__u32 j = 0; j < FIFO + 1 && cnt; j++) {
		__u32 i = c->head & (FIFO - 1), k;

		if (!c->count) {
			/* Requests not seen (split, beyond the window, or
			 * sent before start): a server times its answer from
			 * when its input arrived. */
			__u32 e = RL_L7_RESPONSE_WITHOUT_REQUEST;
			__u64 *v = bpf_map_lookup_elem(&l7_counters, &e);

			if (v)
				__sync_fetch_and_add(v, cnt);
			record(c, 0, outcome, c->idle_read_ns, cnt);
			break;
		}
		k = c->n[i] < cnt ? c->n[i] : cnt;
		record(c, c->op[i], outcome, c->start_ns[i], k);
		cnt -= k;
		c->n[i] -= k;
		if (!c->n[i]) {
			c->head = (c->head + 1) & (FIFO - 1);
			c->count--;
		}
	}
	c->idle_read_ns = 0;
}

static long complete_run(__u32 j, void *data)
{
	struct runs_ctx *x = (struct runs_ctx *)data;

	if (j >= x->ctx->r.found)
		return 1;
	j &= RL_L7_SCAN_RUNS - 1;
	complete(x->c, x->ctx->r.op[j], x->ctx->r.cnt[j]);
	return 0;
}

/* Data that starts a response (its first bytes in w): complete its
 * request (unless the start is RL_L7_INTERIM), and those of the responses
 * that follow it in the same data. */
__attribute__((noinline)) int rl_l7_on_response(struct conn *c,
						struct rl_l7_scan *ctx,
						struct rl_l7_window *w, __u32 d,
						__u32 outcome)
{
	struct runs_ctx x = {};

	if (!c || !ctx || !w)
		return 0;
	if (outcome != RL_L7_INTERIM)
		complete(c, outcome, 1);
	rl_l7_next_responses(c->proto, w, ctx);
	carry(c, ctx, ctx->len, d);
	if (!ctx->r.found) /* the usual case: one response */
		return 0;
	x.c = c;
	x.ctx = ctx;
	bpf_loop(RL_L7_SCAN_RUNS, complete_run, &x, 0);
	return 0;
}

/* The request the lead read alone and the data's first bytes (n of them
 * in pb) start together, or 0. The rows read a whole window from its
 * start: the lead and the data are put there for them, and the data's
 * first RL_L7_PEEK bytes (kept past the peeks, which fill at most the
 * first RL_L7_WINDOW bytes) put back for the walks that follow. */
static __always_inline __u8 lead_request(struct conn *c,
					 struct rl_l7_window *pb, __u32 n,
					 __u8 *proto)
{
	char *t = pb->b + 2 * RL_L7_WINDOW;
	__u32 l = c->lead_len, m = n < RL_L7_PEEK - RL_L7_LEAD
					  ? n
					  : RL_L7_PEEK - RL_L7_LEAD;
	__u8 op;

	if (!l || l > RL_L7_LEAD)
		return 0;
	barrier_var(m); /* or clang drops the mask as redundant */
	m &= RL_L7_PEEK - 1;
	if (!m || bpf_probe_read_kernel(t, RL_L7_PEEK, pb->b))
		return 0;
	pb->b[0] = c->lead[0];
	pb->b[1] = c->lead[1];
	pb->b[2] = c->lead[2];
	op = bpf_probe_read_kernel(pb->b + (l & 3), m, t)
		 ? 0
		 : rl_l7_request(proto, pb->b, l + m);
	bpf_probe_read_kernel(pb->b, RL_L7_PEEK, t);
	return op;
}

/* One more message no row recognised on a connection of unknown protocol:
 * true when it is time to give up on it. */
static __always_inline bool unrecognised(struct conn *c)
{
	if (c->proto)
		return false;
	if (++c->tries < RL_L7_CLASSIFY_TRIES)
		return false;
	RL_COUNT_EVENT(l7_counters, RL_L7_UNCLASSIFIED);
	return true;
}

/* Classifies len bytes moved on connection c. how: the direction
 * (RL_L7_IN: read by this process, RL_L7_OUT: written) and, in bits 8 and
 * up, the number of iovec segments src points to (0: src is the buffer).
 * Packed: a BPF call takes 5 arguments. Returns true if the connection is
 * to be forgotten (no protocol). */
static bool on_message(struct conn *c, __u64 src, __u32 len, __u32 how)
{
	__u32 dir = how & 0xf0, iovcnt = how >> 8;
	const char *ubuf = iovcnt ? NULL : (const char *)src;
	bool requests_in = c->role == RL_L7_SERVER;
	__u32 d = dir == RL_L7_IN ? 0 : 1, skip = c->skip[d];
	__u8 proto = c->proto, op, outcome;
	struct rl_l7_scan *ctx = scan_slot();
	struct rl_l7_window *pb;
	__u32 n;

	if (!ctx)
		return false;
	if (proto == RL_L7_PROTO_H2) {
		ctx->len = len;
		ctx->r.ubuf = (__u64)ubuf;
		ctx->r.iov = iovcnt ? src : 0;
		ctx->r.iovcnt = iovcnt;
		rl_h2_data(c, ctx, d, 0);
		return false;
	}
	if (skip) { /* the rest of a large value: no message starts here */
		if (len <= skip) {
			c->skip[d] = skip - len;
			return false;
		}
		c->skip[d] = 0;
		if (!iovcnt)
			ubuf += skip;
		len -= skip;
	}
	ctx->ubuf = (__u64)ubuf;
	ctx->len = len;
	ctx->r.ubuf = (__u64)ubuf;
	ctx->r.iov = iovcnt ? src : 0;
	ctx->r.iovcnt = iovcnt;
	ctx->r.base = iovcnt ? skip : 0;
	ctx->r.conn = c->gen;
	ctx->r.state = c->state[d & 1];
	if ((dir == RL_L7_IN) == requests_in) {
		/* One copy serves the operation and the search for pipelined
		 * requests. */
		pb = peek(ctx, rl_l7_request_peek(proto), &n);
		if (!pb)
			return false;
		ctx->n = n;
		/* HTTP/2 from its preface on (prior knowledge). */
		if ((!proto || proto == RL_L7_PROTO_HTTP) && pb->b[0] == 'P' &&
		    rl_h2_data(c, ctx, d,
			       RL_H2_PREFACE_LEN | RL_H2_AT_PREFACE))
			return false;
		op = rl_l7_request(&proto, pb->b, n);
		if (!op && c->lead_len)
			op = lead_request(c, pb, n, &proto);
		c->lead_len = 0;
		if (!op && n <= RL_L7_LEAD &&
		    (!proto || proto == RL_L7_PROTO_HTTP)) {
			/* Maybe a request's first bytes, read alone: kept
			 * for the next read, not a try. */
			c->lead[0] = RL_AT(pb->b, 0);
			c->lead[1] = RL_AT(pb->b, 1);
			c->lead[2] = RL_AT(pb->b, 2);
			c->lead_len = n;
			if (requests_in && !c->count && !c->idle_read_ns)
				c->idle_read_ns = bpf_ktime_get_ns();
			return false;
		}
		if (!op && proto && rl_l7_every(proto))
			op = RL_L7_INTERIM;
		if (op) {
			c->proto = proto;
			rl_l7_on_request(c, ctx, pb, d, op);
			c->state[d & 1] = ctx->r.state;
			return false;
		}
		if (requests_in && !c->count && !c->idle_read_ns)
			c->idle_read_ns = bpf_ktime_get_ns();
		return unrecognised(c);
	}
	pb = peek(ctx, rl_l7_response_peek(proto), &n);
	if (!pb)
		return false;
	ctx->n = n;
	outcome = rl_l7_response(&proto, pb->b, n);
	if (!outcome && proto && rl_l7_every(proto))
		outcome = RL_L7_INTERIM;
	if (!outcome)
		return unrecognised(c);
	/* Also on a connection whose requests were never recognised: the
	 * answer to junk, or to a request line split across reads, still
	 * names the protocol (HTTP) and is counted. */
	c->proto = proto;
	/* HTTP's outcome 1 is 101 Switching Protocols (other 1xx are
	 * interim). To h2c, HTTP/2 follows at once: its request is the
	 * agent's stream 1, counted with its HTTP/2 response, not here. */
	if (proto == RL_L7_PROTO_HTTP && outcome == 1) {
		n = rl_h2_upgrade_at(ctx);
		if (n && rl_h2_data(c, ctx, d, n | RL_H2_AT_UPGRADE))
			return false;
	}
	rl_l7_on_response(c, ctx, pb, d, outcome);
	c->state[d & 1] = ctx->r.state;
	return false;
}

/* len bytes moved by a syscall of kind (bpf/l7.h) whose buffer argument
 * is arg (and third argument arg3: readv/writev's count), on sk's
 * connection c. */
static __always_inline void on_data(struct sock *sk, struct conn *c,
				    __u32 kind, __u64 arg, __u64 arg3,
				    __u64 len)
{
	__u64 iovcnt = arg3;

	if ((kind & 0xf) == RL_L7_MSG) {
		const struct user_msghdr *mh = (const void *)arg;

		/* The fields alone: the stack is short (below). */
		if (bpf_probe_read_user(&arg, sizeof(arg), &mh->msg_iov) ||
		    bpf_probe_read_user(&iovcnt, sizeof(iovcnt),
					&mh->msg_iovlen))
			return;
		kind = (kind & ~0xf) | RL_L7_IOV;
	}
	if ((kind & 0xf) == RL_L7_OPAQUE) {
		if (c->proto == RL_L7_PROTO_H2 && len <= 0x7fffffff)
			rl_h2_unseen(c, (kind & 0xf0) == RL_L7_IN ? 0 : 1,
				     (__u32)len);
		return;
	}
	if ((kind & 0xf) != RL_L7_IOV)
		iovcnt = 0;
	else if (!iovcnt)
		return;
	if (iovcnt > RL_L7_IOV_MAX)
		iovcnt = RL_L7_IOV_MAX;
	if (arg && len && len <= 0x7fffffff &&
	    on_message(c, arg, len, (kind & 0xf0) | (__u32)iovcnt << 8))
		conn_forget(sk, c);
}

#endif /* REDLINE_BPF_L7_CONN_BPF_H */
