// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Request RED from plaintext socket I/O at the raw syscall exit
 * tracepoint: no kprobes, no uprobes, no change to the service.
 *
 * One program, at sys_exit only: the syscall's arguments are still in its
 * pt_regs there (the kernel leaves them as the caller passed them; arm64
 * keeps the first in orig_x0), and the return value says what the call
 * did. No enter program and no per-task state: half the cost of the
 * enter/exit pair on every syscall of the host.
 *
 * accept/connect register (tgid, fd) as a server or client TCP connection;
 * close forgets it. On such fds only, the first bytes each read or write
 * moved are peeked with bpf_probe_read_user. This file is the state
 * machine and knows no protocol: it asks the connection's protocol,
 * through bpf/l7_proto.bpf.h's table, whether the bytes start a request
 * (queue its operation and time, and those pipelined behind it) or a
 * response (complete the oldest queued request with its outcome). The
 * first request start a protocol recognises fixes the connection's.
 * Requests are counted by their responses, so a request whose start was
 * not seen (split across reads, sent before we started) is still counted,
 * with operation unknown, and reported in a counter. Only the protocol,
 * operation and outcome leave the kernel (HTTP: method and status class).
 */
#include "common.bpf.h"
/* common.bpf.h first: it brings vmlinux.h's __u64 that l7.h uses. */
#include <bpf/bpf_endian.h>

#include "l7.h"
#include "l7_proto.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define EINPROGRESS 115 /* a non-blocking connect under way */
#define FIFO RL_L7_FIFO /* pending requests per connection (pipelining) */

/* SLO latency thresholds (bpf/slo.h), written by the agent at any time. */
__u64 slo_threshold_ns[RL_SLO_SLOTS];

/* Filled by the agent before load from <sys/syscall.h>. */
const volatile __u8 sys_kind[RL_L7_MAX_NR];

struct conn {
	__u8 role;
	__u8 family;
	__u16 port;
	__u8 head;  /* oldest pending request */
	__u8 count; /* pending requests */
	__u8 op[FIFO];
	__u8 proto; /* RL_L7_PROTO_*, 0 until a row of the table knows */
	__u8 pad;
	__u8 addr[16];
	char comm[16];	    /* the process, when the connection was made */
	__u64 cgroup_id;    /* ditto: saves two lookups per response */
	__u64 sk;	    /* the socket: tells a reused fd from ours */
	__u64 idle_read_ns; /* server: first read since the last response */
	__u64 start_ns[FIFO];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* tgid << 32 | fd */
	__type(value, struct conn);
} conns SEC(".maps");

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
	__uint(max_entries, RL_L7_MAP_COUNT * RL_UPDATE_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} l7_update_errors SEC(".maps");

/* Twice the window, so a length masked with 2 * RL_L7_PEEK - 1 is a size
 * the verifier can prove fits (it loses the bound of a clamped length). */
struct peek_buf {
	char b[2 * RL_L7_PEEK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct peek_buf);
} scratch SEC(".maps");

static const struct rl_l7_val zero_val;

static __always_inline __u64 conn_key(__u32 tgid, int fd)
{
	return (__u64)tgid << 32 | (__u32)fd;
}

/* The socket behind fd in the current task's table (fd is known to be a
 * socket: accept returned it or connect succeeded on it). */
static struct sock *fd_sock(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;
	struct socket *so;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	return so ? BPF_CORE_READ(so, sk) : NULL;
}

static void track(int fd, __u8 role)
{
	struct sock *sk = fd_sock(fd);
	struct conn c = {};
	__u64 key;
	long err;

	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return;
	c.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (c.family != AF_INET && c.family != AF_INET6)
		return;
	c.role = role;
	c.sk = (__u64)sk;
	c.cgroup_id = bpf_get_current_cgroup_id();
	/* The process name, as every other concern labels it: the group
	 * leader's (a worker thread may be named "worker-3"). */
	bpf_probe_read_kernel_str(
	    c.comm, sizeof(c.comm),
	    bpf_get_current_task_btf()->group_leader->comm);
	if (role == RL_L7_SERVER) {
		c.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	} else {
		c.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (c.family == AF_INET)
			bpf_core_read(c.addr, 4, &sk->__sk_common.skc_daddr);
		else
			bpf_core_read(c.addr, 16,
				      &sk->__sk_common.skc_v6_daddr);
	}
	key = conn_key(bpf_get_current_pid_tgid() >> 32, fd);
	err = bpf_map_update_elem(&conns, &key, &c, BPF_ANY);
	if (err)
		rl_update_error(&l7_update_errors, RL_L7_MAP_CONNS, err);
}

static void record(const struct conn *c, __u8 op, __u8 outcome, __u64 start_ns)
{
	struct rl_l7_key k = {};
	struct rl_l7_val *v;
	__u64 d;

	k.cgroup_id = c->cgroup_id;
	__builtin_memcpy(k.comm, c->comm, sizeof(k.comm));
	k.role = c->role;
	k.proto = c->proto;
	k.op = op;
	k.outcome = outcome;
	k.port = c->port;
	if (c->role == RL_L7_CLIENT) {
		k.family = c->family;
		__builtin_memcpy(k.addr, c->addr, sizeof(k.addr));
	}
	v = rl_lookup_or_init(&l7_stats, &k, &zero_val, &l7_update_errors,
			      RL_L7_MAP_STATS);
	if (!v)
		return;
	__sync_fetch_and_add(&v->requests, 1);
	if (!start_ns)
		return;
	d = bpf_ktime_get_ns() - start_ns;
	__sync_fetch_and_add(&v->timed, 1);
	__sync_fetch_and_add(&v->sum_ns, d);
	__sync_fetch_and_add(&v->hist[rl_hist2_slot(d, RL_L7_HIST_SLOTS)], 1);
	for (int i = 0; i < RL_SLO_SLOTS; i++) {
		__u64 t = slo_threshold_ns[i];

		if (t && d <= t)
			__sync_fetch_and_add(&v->within[i], 1);
	}
}

static __always_inline void push(struct conn *c, __u8 op, __u64 now)
{
	__u32 i = (c->head + c->count) & (FIFO - 1);

	if (c->count >= FIFO) {
		RL_COUNT_EVENT(l7_counters, RL_L7_PIPELINE_OVERFLOW);
		return;
	}
	c->op[i] = op;
	c->start_ns[i] = now;
	c->count++;
}

static __always_inline struct peek_buf *peek(const char *ubuf, __u32 len,
					     __u32 max, __u32 *n)
{
	__u32 zero = 0;
	struct peek_buf *pb = bpf_map_lookup_elem(&scratch, &zero);

	__u32 size = len < max ? len : max;

	if (!pb || !size)
		return NULL;
	barrier_var(size); /* or clang drops the mask as redundant */
	size &= 2 * RL_L7_PEEK - 1;
	if (bpf_probe_read_user(pb->b, size, ubuf))
		return NULL;
	*n = size;
	return pb;
}

/* Data that starts a request (n bytes of it peeked in pb): queue it, and
 * the pipelined requests that follow it inside the peek window (a client
 * may send several before reading any response; the server reads them in
 * one go). */
static void on_request(struct conn *c, struct peek_buf *pb, __u32 n, __u8 op)
{
	__u64 now = bpf_ktime_get_ns();
	struct rl_l7_scan ctx = {};
	__u8 proto = c->proto;
	__u32 found;

	push(c, op, now);
	ctx.b = pb->b;
	ctx.n = n;
	rl_l7_next_requests(proto, &ctx);
	found = ctx.found;
	for (__u32 j = 0; j < FIFO - 1; j++) {
		if (j >= found)
			break;
		op = rl_l7_request_at(proto, ctx.b, ctx.at[j & (FIFO - 1)], n);
		if (op)
			push(c, op, now);
	}
}

/* Data that starts a response: complete the oldest pending request. */
static void on_response(struct conn *c, __u8 outcome)
{
	__u64 start = 0;
	__u8 op = 0; /* unknown */

	if (c->count) {
		__u32 i = c->head & (FIFO - 1);

		op = c->op[i];
		start = c->start_ns[i];
		c->head = (c->head + 1) & (FIFO - 1);
		c->count--;
	} else {
		RL_COUNT_EVENT(l7_counters, RL_L7_RESPONSE_WITHOUT_REQUEST);
		start = c->idle_read_ns; /* server: when its input arrived */
	}
	c->idle_read_ns = 0;
	record(c, op, outcome, start);
}

/* Classifies one message of len bytes at ubuf on connection c, moving in
 * direction dir (RL_L7_IN: read by this process, RL_L7_OUT: written). */
static void on_message(struct conn *c, const char *ubuf, __u32 len, __u32 dir)
{
	bool requests_in = c->role == RL_L7_SERVER;
	__u8 proto = c->proto, op, outcome;
	struct peek_buf *pb;
	__u32 n;

	if ((dir == RL_L7_IN) == requests_in) {
		/* HTTP wants the whole window at once: one copy serves the
		 * method and the search for pipelined requests. */
		pb = peek(ubuf, len, rl_l7_request_peek(proto), &n);
		if (!pb)
			return;
		op = rl_l7_request(&proto, pb->b, n);
		if (op) {
			c->proto = proto;
			on_request(c, pb, n, op);
		} else if (requests_in && !c->count && !c->idle_read_ns) {
			c->idle_read_ns = bpf_ktime_get_ns();
		}
		return;
	}
	pb = peek(ubuf, len, rl_l7_response_peek(proto), &n);
	if (!pb)
		return;
	outcome = rl_l7_response(&proto, pb->b, n);
	if (!outcome)
		return;
	/* Also on a connection whose requests were never recognised: the
	 * answer to junk, or to a request line split across reads, still
	 * names the protocol and is counted. */
	c->proto = proto;
	if (outcome != RL_L7_INTERIM) /* 100 Continue: the final follows */
		on_response(c, outcome);
}

/* First buffer of an iovec array (readv/writev, and msghdr's msg_iov). */
static __always_inline const char *first_iov(const struct iovec *iov,
					     __u64 *len)
{
	struct iovec v;

	if (bpf_probe_read_user(&v, sizeof(v), iov))
		return NULL;
	*len = v.iov_len;
	return v.iov_base;
}

static void on_data(struct conn *c, __u32 kind, __u64 arg, __u64 len)
{
	const char *buf = (const char *)arg;
	__u64 avail = len;

	if ((kind & 0xf) == RL_L7_MSG) {
		struct user_msghdr mh;

		if (bpf_probe_read_user(&mh, sizeof(mh), buf))
			return;
		buf = (const char *)mh.msg_iov;
		kind = (kind & ~0xf) | RL_L7_IOV;
	}
	if ((kind & 0xf) == RL_L7_IOV) {
		buf = first_iov((const struct iovec *)buf, &avail);
		if (avail > len)
			avail = len;
	}
	if (buf && avail)
		on_message(c, buf, avail, kind & 0xf0);
}

/* The syscall's number and arguments from its pt_regs at exit. tp_btf
 * hands them over as a BTF pointer: direct loads on x86, not a helper call
 * per argument on every syscall of the host. */
static __always_inline long syscall_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return regs->orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ(regs, syscallno);
#else
#error "l7.bpf.c: say where this arch keeps the syscall number"
#endif
}

/* close(fd) or dup2(_, fd) succeeded: the connection on fd is gone, unless
 * fd already holds a socket we track again (another thread's accept got
 * the number between the close and this exit). */
static void forget(__u32 tgid, int fd)
{
	__u64 key = conn_key(tgid, fd);
	struct conn *c = bpf_map_lookup_elem(&conns, &key);

	if (!c || (__u64)fd_sock(fd) == c->sk)
		return;
	if (c->count) {
		__u32 k = RL_L7_REQUEST_WITHOUT_RESPONSE;
		__u64 *cnt = bpf_map_lookup_elem(&l7_counters, &k);

		if (cnt)
			__sync_fetch_and_add(cnt, c->count);
	}
	bpf_map_delete_elem(&conns, &key);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(l7_exit, struct pt_regs *regs, long ret)
{
	long nr = syscall_nr(regs);
	__u32 kind, tgid;
	struct conn *c;
	__u64 key;
	int fd;

	/* Most syscalls are none of ours: one array load decides. */
	if (nr < 0 || nr >= RL_L7_MAX_NR)
		return 0;
	kind = sys_kind[nr];
	if (!kind || (ret < 0 && ret != -EINPROGRESS))
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	fd = (int)PT_REGS_PARM1_SYSCALL(regs);
	switch (kind) {
	case RL_L7_ACCEPT:
		track((int)ret, RL_L7_SERVER);
		return 0;
	case RL_L7_CONNECT:
		track(fd, RL_L7_CLIENT);
		return 0;
	case RL_L7_CLOSE:
		forget(tgid, fd);
		return 0;
	case RL_L7_DUP2:
		forget(tgid, (int)PT_REGS_PARM2_SYSCALL(regs));
		return 0;
	}
	if (ret <= 0)
		return 0;
	key = conn_key(tgid, fd);
	c = bpf_map_lookup_elem(&conns, &key);
	if (c)
		on_data(c, kind, PT_REGS_PARM2_SYSCALL(regs), (__u64)ret);
	return 0;
}
