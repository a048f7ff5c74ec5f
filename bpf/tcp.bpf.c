// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP health per workload and peer, from tcp and sock tracepoints only.
 *
 * Retransmits, resets and handshake completions happen in softirq or timer
 * context, where the current task is whoever was interrupted. So a socket's
 * owner is recorded in process context -- at connect (CLOSE -> SYN_SENT),
 * at listen (inherited by the connections the listener accepts) and at
 * every sendmsg (the process that actually writes, e.g. a worker that
 * accepted from its parent's listener) -- and freed when the socket goes
 * to CLOSE. Events on a socket without a known owner are counted under
 * comm "[unknown]", never given to the wrong process.
 */
#include "common.bpf.h"
#include <bpf/bpf_endian.h>
#include "tcp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define ENETUNREACH 101
#define ETIMEDOUT 110
#define ECONNREFUSED 111
#define EHOSTUNREACH 113
#define EBUSY 16
#define EAGAIN 11
#define ENOMEM 12

struct listen_key {
	__u32 netns;
	__u16 port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock * */
	__type(value, struct rl_tcp_owner);
} sk_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct listen_key);
	__type(value, struct rl_tcp_owner);
} listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct rl_tcp_key);
	__type(value, struct rl_tcp_val);
} tcp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RL_TCP_MAP_COUNT * RL_UPDATE_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} tcp_update_errors SEC(".maps");

static const struct rl_tcp_val zero_val;

static __always_inline bool is_tcp(const struct sock *sk)
{
	__u16 f = sk->__sk_common.skc_family;

	return sk->sk_protocol == IPPROTO_TCP && (f == AF_INET || f == AF_INET6);
}

static __always_inline void current_owner(struct rl_tcp_owner *o, __u32 dir)
{
	o->tgid = bpf_get_current_pid_tgid() >> 32;
	o->dir = dir;
	o->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	o->syn_sent_ns = 0;
	o->rtt_sampled_ns = 0;
	o->data_segs_seen = 0;
	o->retrans_seen = 0;
}

static __always_inline void listen_key_of(const struct sock *sk,
					  struct listen_key *k)
{
	k->netns = sk->__sk_common.skc_net.net->ns.inum;
	k->port = sk->__sk_common.skc_num;
	k->pad = 0;
}

/* The stats entry of (owner, peer of sk); created on first use. */
static struct rl_tcp_val *stats_for(const struct sock *sk,
				    const struct rl_tcp_owner *o)
{
	struct rl_tcp_key k;

	__builtin_memset(&k, 0, sizeof(k));
	k.family = sk->__sk_common.skc_family;
	if (o) {
		k.cgroup_id = o->cgroup_id;
		__builtin_memcpy(k.comm, o->comm, sizeof(k.comm));
		k.dir = o->dir;
	} else {
		__builtin_memcpy(k.comm, "[unknown]", 10);
	}
	if (k.dir == RL_TCP_SERVER) {
		k.port = sk->__sk_common.skc_num;
	} else {
		k.dir = RL_TCP_CLIENT;
		k.port = bpf_ntohs(sk->__sk_common.skc_dport);
		if (k.family == AF_INET)
			__builtin_memcpy(k.addr, &sk->__sk_common.skc_daddr, 4);
		else
			__builtin_memcpy(k.addr,
					 &sk->__sk_common.skc_v6_daddr, 16);
	}
	return rl_lookup_or_init(&tcp_stats, &k, &zero_val, &tcp_update_errors,
				 RL_TCP_MAP_STATS);
}

static __always_inline void set_owner(const struct sock *sk,
				      struct rl_tcp_owner *o)
{
	__u64 id = (__u64)sk;

	long err = bpf_map_update_elem(&sk_owners, &id, o, BPF_ANY);

	if (err)
		rl_update_error(&tcp_update_errors, RL_TCP_MAP_OWNERS, err);
}

static __always_inline struct rl_tcp_owner *owner_of(const struct sock *sk)
{
	__u64 id = (__u64)sk;

	return bpf_map_lookup_elem(&sk_owners, &id);
}

/* Moves the socket's data segments sent and retransmitted since the last
 * flush into its stats (the tcp_retransmits SLI). Called with the socket
 * locked (receive path, close), so no retransmit is half counted: the
 * kernel adds to data_segs_out when it sends and to total_retrans just
 * after. total_retrans also counts bare FINs, never in data_segs_out: a
 * flush's retransmits are capped at its data segments. */
static __always_inline void flush_segs(const struct sock *sk,
				       struct rl_tcp_owner *o,
				       struct rl_tcp_val *v)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	__u32 out, re, d_out, d_re;

	if (!tp)
		return;
	out = tp->data_segs_out;
	re = tp->total_retrans;
	d_out = out - o->data_segs_seen;
	d_re = re - o->retrans_seen;
	o->data_segs_seen = out;
	o->retrans_seen = re;
	if (d_re > d_out)
		d_re = d_out;
	if (d_out)
		__sync_fetch_and_add(&v->data_segs_out, d_out);
	if (d_re)
		__sync_fetch_and_add(&v->data_segs_retrans, d_re);
}

/* From ESTABLISHED on: handshake retransmits are the connect SLI's. */
static __always_inline void start_segs(const struct sock *sk,
				       struct rl_tcp_owner *o)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);

	if (!tp)
		return;
	o->data_segs_seen = tp->data_segs_out;
	o->retrans_seen = tp->total_retrans;
}

static __always_inline void handshake_done(const struct sock *sk, bool ok)
{
	struct rl_tcp_owner *o = owner_of(sk);
	struct rl_tcp_val *v = stats_for(sk, o);
	__u64 lat;

	if (!v)
		return;
	if (!ok) {
		/* tcp_reset()/tcp_write_err()/tcp_v4_err() set sk_err before
		 * tcp_done() moves the socket to CLOSE; 0 means the
		 * application closed it while connecting. */
		int err = sk->sk_err;

		__sync_fetch_and_add(&v->connects_failed, 1);
		if (err == ECONNREFUSED)
			__sync_fetch_and_add(&v->refused, 1);
		else if (err == ETIMEDOUT)
			__sync_fetch_and_add(&v->timed_out, 1);
		else if (err == EHOSTUNREACH || err == ENETUNREACH)
			__sync_fetch_and_add(&v->unreachable, 1);
		return;
	}
	__sync_fetch_and_add(&v->connects_ok, 1);
	if (o)
		start_segs(sk, o);
	if (!o || !o->syn_sent_ns)
		return;
	lat = bpf_ktime_get_ns() - o->syn_sent_ns;
	o->syn_sent_ns = 0;
	__sync_fetch_and_add(&v->connect_sum_ns, lat);
	__sync_fetch_and_add(&v->connect_hist[rl_hist_slot(lat)],
			     1);
}

static __always_inline void accepted(const struct sock *sk)
{
	struct listen_key lk;
	struct rl_tcp_owner *lo, o;
	struct rl_tcp_val *v;

	listen_key_of(sk, &lk);
	lo = bpf_map_lookup_elem(&listeners, &lk);
	if (lo) {
		o = *lo;
		o.dir = RL_TCP_SERVER;
		o.syn_sent_ns = 0;
		o.rtt_sampled_ns = 0;
		start_segs(sk, &o);
		set_owner(sk, &o);
	}
	v = stats_for(sk, lo ? &o : NULL);
	if (v)
		__sync_fetch_and_add(&v->accepts, 1);
}

static __always_inline void close_segs(const struct sock *sk)
{
	struct rl_tcp_owner *o = owner_of(sk);
	struct rl_tcp_val *v;

	if (!o)
		return;
	v = stats_for(sk, o);
	if (v)
		flush_segs(sk, o, v);
}

/* Smoothed RTT and the segment counters, at most once per second per
 * socket, on the clock `now` (ns): srtt moves slowly anyway. Called with
 * the socket locked (see flush_segs). */
static __always_inline void sample_rtt(struct sock *sk, struct rl_tcp_owner *o,
				       __u64 now)
{
	struct rl_tcp_val *v;
	struct tcp_sock *tp;
	__u64 srtt_ns;

	if (o->rtt_sampled_ns && now - o->rtt_sampled_ns < 1000000000ULL)
		return;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || !tp->srtt_us)
		return;
	o->rtt_sampled_ns = now;
	srtt_ns = (__u64)(tp->srtt_us >> 3) * 1000; /* srtt_us is << 3 */
	v = stats_for(sk, o);
	if (!v)
		return;
	__sync_fetch_and_add(&v->srtt_sum_ns, srtt_ns);
	__sync_fetch_and_add(&v->srtt_hist[rl_hist_slot(srtt_ns)], 1);
	flush_segs(sk, o, v);
}

/* The process that writes is the owner that matters (a worker serving a
 * connection its parent's listener accepted); one lookup per sendmsg.
 * The owner in hand, the socket's RTT is sampled here too, on the
 * socket's own microsecond clock (tcp_mstamp: refreshed by every segment
 * received and every transmit, so no clock read): where this tracepoint
 * exists (6.13+) the agent does not load tcp_probe, which would pay an
 * owner lookup for every segment received. srtt only moves on ACKs of
 * data the socket sent, so a socket that never writes keeps its
 * handshake's value: nothing is lost by sampling where it writes. */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(tcp_sendmsg_locked, struct sock *sk)
{
	struct rl_tcp_owner *cur = owner_of(sk), o;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct tcp_sock *tp;

	if (cur && cur->tgid == tgid) {
		tp = bpf_skc_to_tcp_sock(sk);
		if (tp)
			sample_rtt(sk, cur, tp->tcp_mstamp * 1000);
		return 0;
	}
	current_owner(&o, cur ? cur->dir : RL_TCP_CLIENT);
	if (cur) {
		o.syn_sent_ns = cur->syn_sent_ns;
		o.data_segs_seen = cur->data_segs_seen;
		o.retrans_seen = cur->retrans_seen;
	}
	set_owner(sk, &o);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state, const struct sock *sk, int oldstate,
	     int newstate)
{
	struct rl_tcp_owner o;
	struct listen_key lk;
	__u64 id = (__u64)sk;
	long err;

	if (!is_tcp(sk))
		return 0;
	switch (newstate) {
	case TCP_SYN_SENT: /* connect(): process context */
		current_owner(&o, RL_TCP_CLIENT);
		o.syn_sent_ns = bpf_ktime_get_ns();
		set_owner(sk, &o);
		return 0;
	case TCP_LISTEN: /* listen(): process context */
		current_owner(&o, RL_TCP_SERVER);
		listen_key_of(sk, &lk);
		err = bpf_map_update_elem(&listeners, &lk, &o, BPF_ANY);
		if (err)
			rl_update_error(&tcp_update_errors,
					RL_TCP_MAP_LISTENERS, err);
		return 0;
	case TCP_ESTABLISHED:
		if (oldstate == TCP_SYN_SENT)
			handshake_done(sk, true);
		else if (oldstate == TCP_SYN_RECV)
			accepted(sk);
		return 0;
	case TCP_CLOSE:
		if (oldstate == TCP_SYN_SENT)
			handshake_done(sk, false);
		else
			close_segs(sk);
		if (oldstate == TCP_LISTEN) {
			listen_key_of(sk, &lk);
			bpf_map_delete_elem(&listeners, &lk);
		}
		bpf_map_delete_elem(&sk_owners, &id);
		return 0;
	}
	return 0;
}

/* TcpRetransSegs counts segments: a (TSO) skb carries tcp_gso_segs. */
static __always_inline void retransmitted(const struct sock *sk,
					  const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = (const struct tcp_skb_cb *)skb->cb;
	struct rl_tcp_val *v;
	__u16 segs;

	if (!sk || !is_tcp(sk))
		return;
	bpf_probe_read_kernel(&segs, sizeof(segs), &cb->tcp_gso_segs);
	v = stats_for(sk, owner_of(sk));
	if (v)
		__sync_fetch_and_add(&v->retrans_segs, segs ? segs : 1);
}

/* Until 6.13 the event fires only for a retransmit that was sent. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_skb, const struct sock *sk,
	     const struct sk_buff *skb)
{
	retransmitted(sk, skb);
	return 0;
}

/* Since 6.14 it also fires, with err, when __tcp_retransmit_skb gave up
 * before counting TcpRetransSegs: skb still in the host queue (-EBUSY),
 * outside the receive window (-EAGAIN), no memory to split it (-ENOMEM).
 * The agent loads this variant when the tracepoint has the err argument. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_skb_err, const struct sock *sk,
	     const struct sk_buff *skb, int err)
{
	if (err == -EBUSY || err == -EAGAIN || err == -ENOMEM)
		return 0;
	retransmitted(sk, skb);
	return 0;
}

/* A SYN-ACK retransmitted by a listener (counted in TcpRetransSegs). */
SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(tcp_retransmit_synack, const struct sock *sk)
{
	struct listen_key lk;
	struct rl_tcp_owner *lo;
	struct rl_tcp_val *v;

	if (!sk)
		return 0;
	listen_key_of(sk, &lk);
	lo = bpf_map_lookup_elem(&listeners, &lk);
	v = stats_for(sk, lo);
	if (v)
		__sync_fetch_and_add(&v->retrans_segs, 1);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tcp_send_reset, const struct sock *sk)
{
	struct rl_tcp_val *v;

	/* No socket: a reset for a port nobody listens on. Not a
	 * workload's; the kernel's TcpOutRsts has it. */
	if (!sk || !is_tcp(sk))
		return 0;
	v = stats_for(sk, owner_of(sk));
	if (v)
		__sync_fetch_and_add(&v->resets_sent, 1);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tcp_receive_reset, const struct sock *sk)
{
	struct rl_tcp_val *v;

	if (!sk || !is_tcp(sk))
		return 0;
	v = stats_for(sk, owner_of(sk));
	if (v)
		__sync_fetch_and_add(&v->resets_received, 1);
	return 0;
}

/* Before 6.13 (no tcp_sendmsg_locked): RTT sampled from tcp_probe, which
 * fires for every segment received on an established connection: one
 * owner lookup per segment, rarely a sample. (It fires before
 * tcp_rcv_established refreshes tcp_mstamp, hence the clock read.)
 * Sockets without a known owner are not sampled. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(tcp_probe, struct sock *sk)
{
	struct rl_tcp_owner *o;

	if (!is_tcp(sk))
		return 0;
	o = owner_of(sk);
	if (o)
		sample_rtt(sk, o, bpf_ktime_get_ns());
	return 0;
}

/* Backstop for sockets destroyed without a CLOSE transition we saw. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(tcp_destroy_sock, const struct sock *sk)
{
	__u64 id = (__u64)sk;

	bpf_map_delete_elem(&sk_owners, &id);
	return 0;
}
