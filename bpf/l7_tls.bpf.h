/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where the l7 engine meets the TLS uprobes (bpf/tls.bpf.c): a socket
 * whose I/O happens inside a TLS library call carries ciphertext. It is
 * marked (conn.tls) and never classified, nor counted as unclassified;
 * its plaintext reaches the same state machine from the library's
 * boundary instead. Included by l7.bpf.c and tls.bpf.c after
 * l7_conn.bpf.h; the agent makes both objects share these maps.
 */
#ifndef REDLINE_BPF_L7_TLS_BPF_H
#define REDLINE_BPF_L7_TLS_BPF_H

#include "tls.h"

/* Set by the agent from --tls (even if no library is then found). Without
 * the TLS uprobes no socket is ever marked, and l7 skips the task storage
 * lookup per I/O (the sched and syscalls probes give most threads
 * storage, so the lookup runs, and misses, on every read and write). */
const volatile __u8 tls_probed = 1;

/* The library call each thread is in (bpf/tls.h): task storage, freed
 * with the thread, so a thread that dies inside a call leaks nothing. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct rl_tls_call);
} tls_calls SEC(".maps");

/* (process, SSL *) -> its socket, learnt from the library's own socket I/O.
 * LRU: an SSL * freed without our knowing ages out; a recycled SSL * address is
 * re-tied by its handshake's first I/O. The agent sizes it to 1 when no
 * TLS library is probed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rl_tls_ssl);
	__type(value, struct rl_tls_sock);
} tls_socks SEC(".maps");

/* Go crypto/tls calls in flight, by goroutine (bpf/tls.bpf.c go_enter).
 * LRU: a goroutine that never returns (killed process) ages out. Sized
 * to 1 with tls_socks. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rl_go_key);
	__type(value, struct rl_go_call);
} go_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RL_TLS_MAP_COUNT *RL_UPDATE_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} tls_update_errors SEC(".maps");

/* The goroutine running on this thread when it entered the kernel: Go
 * keeps its g in a register (x86-64 r14, arm64 x28), saved with the
 * thread's user registers. 0 elsewhere. */
static __always_inline __u64 rl_user_go_g(struct task_struct *task)
{
	struct pt_regs *regs;

	/* bpf_task_pt_regs came in 5.15; before it 0, unknown: no goroutine
	 * check (another goroutine's I/O on the thread may tie to the call). */
	if (!bpf_core_enum_value_exists(enum bpf_func_id,
					BPF_FUNC_task_pt_regs))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);

#if defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(regs, r14);
#elif defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ(regs, regs[28]);
#else
	return 0;
#endif
}

/* Ties (process, ssl) to the connection at key (false: the map refused,
 * counted) and marks it TLS either way: its bytes are ciphertext. */
static __always_inline bool tls_tie(__u64 ssl, __u64 key, struct conn *c)
{
	struct rl_tls_ssl k = {.ssl = ssl,
			       .tgid = bpf_get_current_pid_tgid() >> 32};
	struct rl_tls_sock s = {.key = key, .gen = c->gen};
	long err;

	c->tls = 1;
	err = bpf_map_update_elem(&tls_socks, &k, &s, BPF_ANY);
	if (err)
		rl_update_error(&tls_update_errors, RL_TLS_MAP_SOCKS, err);
	return !err;
}

/* A goroutine in a crypto/tls call moves between threads: one that
 * blocked in the handshake or a Read resumes on a thread whose record is
 * another's or none. Its socket I/O there is found by the goroutine
 * itself (its g, in the thread's saved user registers) in go_calls. Only
 * for a connection that is neither TLS yet nor of a known protocol: the
 * first messages of each connection, whatever the process (a g that is
 * not one, in another program, finds nothing). noinline: off the deep
 * chain of the l7 programs' calls (512-byte stack). */
static __noinline int go_socket(__u64 key, struct conn *c)
{
	struct rl_go_key gk = {.tgid = bpf_get_current_pid_tgid() >> 32};
	struct rl_go_call *gc;

	if (!c)
		return 0;
	gk.g = rl_user_go_g(bpf_get_current_task_btf());
	if (!gk.g)
		return 0;
	gk.slot = RL_GO_SLOT_HANDSHAKE;
	gc = bpf_map_lookup_elem(&go_calls, &gk);
	if (!gc) {
		gk.slot = RL_GO_SLOT_IO;
		gc = bpf_map_lookup_elem(&go_calls, &gk);
	}
	if (!gc)
		return 0;
	tls_tie(gc->conn, key, c);
	return 1;
}

/* True if the connection at key carries TLS ciphertext: I/O on it now
 * happens inside a TLS library call of this thread (tying the call's
 * SSL * to it), or did before. One task storage lookup per I/O on a
 * tracked socket of a thread that has task storage. */
static __always_inline bool tls_socket(__u64 key, struct conn *c)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct rl_tls_call *call;

	if (!tls_probed)
		return false;
	/* A thread with no task storage in any map (one that never entered
	 * a library call): one load, where the helper's lookup cost ~8 ns of
	 * every read and write. */
	if (task->bpf_storage) {
		call = bpf_task_storage_get(&tls_calls, task, 0, 0);
		if (call && call->ssl && !(c->tls && call->sock == key) &&
		    !call->g) {
			if (tls_tie(call->ssl, key, c))
				call->sock = key;
			return true;
		}
		/* Go's calls are the goroutine's, below. */
	}
	if (c->tls || c->proto)
		return c->tls;
	return go_socket(key, c);
}

#endif /* REDLINE_BPF_L7_TLS_BPF_H */
