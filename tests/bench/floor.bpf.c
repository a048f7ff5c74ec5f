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
 * And of any TLS tracer on uprobes, for scripts/bench-http.py --tls: empty
 * uprobes and uretprobes at the OpenSSL functions redline's tls probe
 * uses ("ssl" mode: the trap into the kernel and back, per hit).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

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

SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_send, struct sock *sk, int ret, int flags)
{
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_recv, struct sock *sk, int ret, int flags)
{
	return 0;
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
