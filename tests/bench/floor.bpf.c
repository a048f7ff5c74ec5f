// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The cost floor of any syscall-latency tool on this host, for
 * scripts/bench-syscalls.py: the same tp_btf pair redline uses, empty
 * (mode 0) or doing only the two clock reads latency needs (mode 1).
 * And of any scheduler tool, for scripts/bench-sched.py: an empty
 * tp_btf/sched_switch (the loader attaches only it in "sched" mode).
 * And of any request tracer on socket I/O, for scripts/bench-redis.py and
 * the other request benchmarks: an empty tp_btf pair at
 * sock_send_length/sock_recv_length, where the l7 probe attaches on
 * kernels since 6.3 ("sock" mode).
 * And of any request tracker there ("track" mode, for --floor-track): the
 * least per-request work one needs, with none of redline's parsing --
 * per-socket state (socket storage, cheaper here than redline's hash),
 * the message's first 16 bytes from the syscall's buffer, a clock read
 * per message and, per answer, one lookup-or-init of a per-workload
 * stats entry with count, sum and histogram bucket added. If a target
 * ratio is above this floor's, no request tracker on socket I/O meets it
 * on that machine.
 * And of any TLS tracer on uprobes, for scripts/bench-http.py --tls: empty
 * uprobes and uretprobes at the OpenSSL functions redline's tls probe
 * uses ("ssl" mode: the trap into the kernel and back, per hit).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "../../bpf/hist_edges.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile int mode = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink SEC(".maps");

static __always_inline void keep(__u64 v)
{
	__u32 k = 0;
	__u64 *s = bpf_map_lookup_elem(&sink, &k);

	if (s)
		*s += v;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_enter, struct pt_regs *regs, long id)
{
	if (mode == 1)
		keep(bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_exit, struct pt_regs *regs, long ret)
{
	if (mode == 1)
		keep(bpf_ktime_get_ns());
	return 0;
}

/* "track" mode's per-socket state and per-workload stats. */
struct track_sock {
	__u64 start_ns; /* when the last message began */
	__u32 dir;	/* its direction: 1 read, 2 written */
	__u32 answer;	/* 1: it was a request, the next one answers it */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct track_sock);
} track_socks SEC(".maps");

struct track_key { /* as redline's rl_l7_key: 48 bytes */
	__u64 cgroup_id;
	char comm[16];
	__u8 addr[16];
	__u64 rest;
};

struct track_val {
	__u64 requests, sum_ns, hist[RL_NATIVE_FINE_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct track_key);
	__type(value, struct track_val);
} track_stats SEC(".maps");

static const struct track_val track_zero;

/* The answer to a message that came the other way: one stats update. */
static __noinline void track_answer(__u64 d, __u32 port)
{
	const char *comm = bpf_get_current_task_btf()->group_leader->comm;
	struct track_key k = {.rest = port};
	struct track_val *v;

	k.cgroup_id = bpf_get_current_cgroup_id();
	*(__u64 *)&k.comm[0] = *(const __u64 *)&comm[0];
	*(__u64 *)&k.comm[8] = *(const __u64 *)&comm[8];
	v = bpf_map_lookup_elem(&track_stats, &k);
	if (!v) {
		bpf_map_update_elem(&track_stats, &k, &track_zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&track_stats, &k);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->requests, 1);
	__sync_fetch_and_add(&v->sum_ns, d);
	__sync_fetch_and_add(&v->hist[rl_fine_slot(d)], 1);
}

static __always_inline int track(struct sock *sk, int ret, __u32 dir)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct track_sock *t;
	struct pt_regs *regs;
	char head[16];
	__u64 now;

	if (mode != 2 || ret <= 0 || !sk || sk->sk_protocol != 6)
		return 0;
	t = bpf_sk_storage_get(&track_socks, sk, 0,
			       BPF_SK_STORAGE_GET_F_CREATE);
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!t || !regs)
		return 0;
	/* read/write/sendto/recvfrom: the buffer is the second argument (a
	 * direct load, as redline's). A message shorter than 16 bytes at a
	 * page's end may fail the copy: it still takes its turn below. */
	if (!bpf_probe_read_user(head, sizeof(head),
				 (void *)PT_REGS_PARM2_SYSCALL(regs)))
		keep(head[0]);
	if (t->dir == dir)
		return 0; /* more of the same message */
	/* Messages alternate: request, answer, request... */
	now = bpf_ktime_get_ns();
	if (t->answer)
		track_answer(now - t->start_ns, sk->__sk_common.skc_num);
	t->answer ^= 1;
	t->start_ns = now;
	t->dir = dir;
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_send, struct sock *sk, int ret, int flags)
{
	return track(sk, ret, 2);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_recv, struct sock *sk, int ret, int flags)
{
	return track(sk, ret, 1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	return 0;
}

SEC("uprobe")
int floor_uprobe(struct pt_regs *ctx)
{
	return 0;
}

SEC("uretprobe")
int floor_uretprobe(struct pt_regs *ctx)
{
	return 0;
}
