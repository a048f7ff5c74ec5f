/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between bpf/tcp.bpf.c and the agent. Plain C, fixed-size types,
 * explicit padding: the agent static_asserts every size and offset.
 */
#ifndef REDLINE_BPF_TCP_H
#define REDLINE_BPF_TCP_H

#define RL_TCP_HIST_SLOTS 40 /* hist_edges.h schema 0, like syscalls */

/* Which end of the connection the owner is. */
#define RL_TCP_CLIENT 1 /* active open: peer = remote address and port */
#define RL_TCP_SERVER 2 /* passive open: peer = local listening port */

/* Who a socket belongs to, learned in process context (connect, listen,
 * sendmsg), since retransmits and resets fire in softirq or timer context
 * where the current task is unrelated. */
struct rl_tcp_owner {
	__u32 tgid;
	__u32 dir; /* RL_TCP_CLIENT or RL_TCP_SERVER; 0 unknown */
	__u64 cgroup_id;
	char comm[16];
	__u64 syn_sent_ns; /* connect latency start, 0 once done */
	__u64 rtt_sampled_ns; /* last srtt sample (one per second) */
	__u32 data_segs_seen; /* tcp_sock data_segs_out at the last flush */
	__u32 retrans_seen;   /* tcp_sock total_retrans at the last flush */
};

/* Per workload and peer. A socket with no known owner is counted under
 * comm "[unknown]", cgroup 0. addr is IPv4 in the first 4 bytes (family
 * 2) or IPv6 (family 10); zero for servers, whose peer is their port. */
struct rl_tcp_key {
	__u64 cgroup_id;
	char comm[16];
	__u8 addr[16];
	__u16 port; /* host order: remote port (client), local port (server) */
	__u8 family;
	__u8 dir;
	__u32 pad;
};

struct rl_tcp_val {
	__u64 retrans_segs; /* segments, as TcpRetransSegs counts them */
	__u64 resets_sent;
	__u64 resets_received;
	__u64 connects_ok;
	__u64 connects_failed; /* SYN_SENT -> CLOSE, of which: */
	__u64 refused;     /* RST in answer (ECONNREFUSED) */
	__u64 timed_out;   /* no answer (ETIMEDOUT) */
	__u64 unreachable; /* ICMP unreachable (EHOSTUNREACH, ENETUNREACH) */
	__u64 accepts;         /* passive opens that reached ESTABLISHED */
	__u64 connect_sum_ns;
	__u64 connect_hist[RL_TCP_HIST_SLOTS]; /* SYN_SENT -> ESTABLISHED */
	__u64 srtt_sum_ns;
	__u64 srtt_hist[RL_TCP_HIST_SLOTS]; /* one sample per socket-second */
	/* Data segments sent (retransmits included) and, of those,
	 * retransmitted since the handshake: the tcp_retransmits SLI. Read
	 * from the socket's own counters at most once a second and at
	 * close. */
	__u64 data_segs_out;
	__u64 data_segs_retrans;
};

enum rl_tcp_map {
	RL_TCP_MAP_STATS = 0,
	RL_TCP_MAP_OWNERS = 1,
	RL_TCP_MAP_LISTENERS = 2,
	RL_TCP_MAP_COUNT = 3,
};

#endif /* REDLINE_BPF_TCP_H */
