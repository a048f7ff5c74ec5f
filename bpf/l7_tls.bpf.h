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

/* True if the connection at key carries TLS ciphertext: I/O on it now
 * happens inside a TLS library call of this thread (tying the call's
 * SSL * to it), or did before. One task storage lookup per I/O on a
 * tracked socket of a thread that has task storage. */
static __always_inline bool tls_socket(__u64 key, struct conn *c)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct rl_tls_call *call;
	struct rl_tls_ssl k = {};
	struct rl_tls_sock s;
	long err;

	/* A thread with no task storage in any map (one that never entered
	 * a library call): one load, where the helper's lookup cost ~8 ns of
	 * every read and write. */
	if (!task->bpf_storage)
		return c->tls;
	call = bpf_task_storage_get(&tls_calls, task, 0, 0);
	if (!call || !call->ssl || (c->tls && call->sock == key))
		return c->tls;
	/* A Go thread whose goroutine blocked in crypto/tls runs others
	 * meanwhile: their I/O is not that call's. And a goroutine that
	 * returned on another thread left this record behind: it counts only
	 * while the goroutine is still in the call. */
	if (call->g) {
		struct rl_go_key gk = {
		    .g = call->g,
		    .tgid = bpf_get_current_pid_tgid() >> 32,
		    .slot = call->kind == RL_TLS_HANDSHAKE
				? RL_GO_SLOT_HANDSHAKE
				: RL_GO_SLOT_IO};
		__u64 g = rl_user_go_g(task);

		if (g && g != call->g)
			return c->tls;
		if (!bpf_map_lookup_elem(&go_calls, &gk)) {
			call->ssl = 0;
			call->g = 0;
			return c->tls;
		}
	}
	k.ssl = call->ssl;
	k.tgid = bpf_get_current_pid_tgid() >> 32;
	s.key = key;
	s.gen = c->gen;
	err = bpf_map_update_elem(&tls_socks, &k, &s, BPF_ANY);
	if (err)
		rl_update_error(&tls_update_errors, RL_TLS_MAP_SOCKS, err);
	else
		call->sock = key;
	c->tls = 1;
	return true;
}

#endif /* REDLINE_BPF_L7_TLS_BPF_H */
