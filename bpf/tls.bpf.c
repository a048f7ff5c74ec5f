// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Request RED for TLS connections: the plaintext at a TLS library's
 * boundary (uprobes on OpenSSL 1.1/3's SSL_read/SSL_read_ex and
 * SSL_write/SSL_write_ex, all at return), fed to the l7 engine's own state
 * machine and maps (bpf/l7_conn.bpf.h; the agent loads this object with
 * l7's maps), so a TLS request gets the workload, role and peer labels a
 * plaintext one gets, plus tls.
 *
 * Which socket: the one the library call itself does I/O on. Entry of
 * every call (and of SSL_do_handshake, whose I/O comes first) records the
 * SSL * in the thread's tls_calls entry; the l7 socket programs, seeing
 * I/O on a tracked socket while it is set, tie the SSL * to that socket
 * in tls_socks and mark the socket TLS (bpf/l7_tls.bpf.h). A read served
 * from the library's buffer, with no socket I/O of its own, uses the tie
 * an earlier call made (every connection's handshake makes one); an SSL *
 * never tied (connected before redline started, or a memory BIO) is
 * counted as tls_unmapped, not guessed.
 */
#include "common.bpf.h"
#include "l7_classifier.bpf.h"

/* Uprobe programs run preemptible: two threads on one CPU would share a
 * per-CPU window mid-copy. Each thread copies into its own. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct rl_l7_window);
} tls_windows SEC(".maps");

static __always_inline struct rl_l7_window *tls_window(void);
#define RL_L7_WINDOW_OF_CALLER() tls_window()

/* And its own scan of a message (struct rl_l7_scan), likewise. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct rl_l7_scan);
} tls_scans SEC(".maps");

static __always_inline struct rl_l7_scan *tls_scan(void);
#define RL_L7_SCAN_OF_CALLER() tls_scan()

/* The engine's socket-side helpers (on_data) are l7.bpf.c's, unused here. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-function"
#include "l7_conn.bpf.h"
#pragma clang diagnostic pop
#include "l7_tls.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RL_TLS_COUNTER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} tls_counters SEC(".maps");

/* Processes that exec'd since the agent last looked: it scans their maps
 * for TLS libraries. Exec is rare next to I/O. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} tls_execs SEC(".maps");

/* A write that returned GNUTLS_E_AGAIN (or _INTERRUPTED) may be retried
 * with no buffer: gnutls_record_send(session, NULL, 0) sends the record
 * GnuTLS cached, and returns how many bytes of the first call's buffer it
 * holds. The buffer each session's failed write had, for that retry to
 * walk (the caller's memory, read at the retry: GnuTLS holds the
 * ciphertext, and a caller that reused its buffer meanwhile has other
 * bytes walked). Deleted when a retry, with or without the buffer,
 * sends; LRU: a session abandoned after a failed write ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct rl_tls_ssl);
	__type(value, __u64);
} tls_retries SEC(".maps");

/* The calling thread's window; NULL (counted) if the kernel could not
 * give one: that message is not classified. */
static __always_inline struct rl_l7_window *tls_window(void)
{
	struct rl_l7_window *w;

	w = bpf_task_storage_get(&tls_windows, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!w)
		rl_update_error(&tls_update_errors, RL_TLS_MAP_WINDOWS, 0);
	return w;
}

/* The calling thread's scan; NULL (counted) likewise. */
static __always_inline struct rl_l7_scan *tls_scan(void)
{
	struct rl_l7_scan *s;

	s = bpf_task_storage_get(&tls_scans, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		rl_update_error(&tls_update_errors, RL_TLS_MAP_WINDOWS, 0);
	return s;
}

/* len bytes of plaintext at buf moved on ssl in dir (RL_L7_IN / OUT).
 * Global: verified once, not once per program that calls it. */
__attribute__((noinline)) int tls_data(__u64 ssl, __u64 buf, __u64 len,
				       __u32 dir)
{
	struct rl_tls_ssl k = {.ssl = ssl,
			       .tgid = bpf_get_current_pid_tgid() >> 32};
	struct rl_tls_sock *s = bpf_map_lookup_elem(&tls_socks, &k);
	struct conn *c;
	__u64 key;

	if (!s) {
		RL_COUNT_EVENT(tls_counters, RL_TLS_UNMAPPED);
		return 0;
	}
	key = s->key;
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c || c->gen != s->gen) {
		RL_COUNT_EVENT(tls_counters, RL_TLS_STALE);
		return 0;
	}
	if (!buf || !len || len > 0x7fffffff)
		return 0;
	if (on_message(c, buf, (__u32)len,
		       dir == RL_L7_IN ? RL_L7_IN : RL_L7_OUT))
		conn_delete(key, c);
	return 0;
}

/* The thread enters a library call on ssl: the socket I/O until its
 * return is ssl's. */
static __always_inline struct rl_tls_call *enter(__u64 ssl, __u8 kind)
{
	struct rl_tls_ssl k = {.ssl = ssl,
			       .tgid = bpf_get_current_pid_tgid() >> 32};
	struct rl_tls_call *call;
	struct rl_tls_sock *s;

	call = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!call) {
		rl_update_error(&tls_update_errors, RL_TLS_MAP_CALLS, 0);
		return NULL;
	}
	/* A handshake run inside a read or write (some builds go through
	 * SSL_do_handshake) must not end that call's record. */
	if (kind == RL_TLS_HANDSHAKE && call->ssl == ssl && call->kind)
		return NULL;
	s = bpf_map_lookup_elem(&tls_socks, &k);
	call->ssl = ssl;
	call->sock = s ? s->key : 0;
	call->kind = kind;
	call->lenp = 0;
	call->g = 0;
	call->retry = 0;
	return call;
}

SEC("uprobe")
int BPF_KPROBE(tls_handshake_entry, void *ssl)
{
	enter((__u64)ssl, RL_TLS_HANDSHAKE);
	return 0;
}

/* Its own return program: a handshake run inside a read or write leaves
 * that call's record alone. */
SEC("uretprobe")
int BPF_KRETPROBE(tls_handshake_exit)
{
	struct rl_tls_call *call;

	call =
	    bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);
	if (call && call->kind == RL_TLS_HANDSHAKE) {
		call->ssl = 0;
		call->kind = 0;
	}
	return 0;
}

/* SSL_read(ssl, buf, num), gnutls_record_recv(session, data, size). */
SEC("uprobe")
int BPF_KPROBE(tls_read_entry, void *ssl, void *buf)
{
	struct rl_tls_call *call = enter((__u64)ssl, RL_TLS_READ);

	if (call)
		call->buf = (__u64)buf;
	return 0;
}

/* SSL_read_ex(ssl, buf, num, size_t *readbytes). */
SEC("uprobe")
int BPF_KPROBE(tls_read_ex_entry, void *ssl, void *buf, __u64 num,
	       __u64 *readbytes)
{
	struct rl_tls_call *call = enter((__u64)ssl, RL_TLS_READ);

	if (call) {
		call->buf = (__u64)buf;
		call->lenp = (__u64)readbytes;
	}
	return 0;
}

/* SSL_write(ssl, buf, num), gnutls_record_send(session, data, size): the
 * bytes are walked at return, as many as the library says it took. A
 * non-blocking write that returns WANT_WRITE (nginx under back-pressure)
 * says none, whatever records it already sent; the caller retries later
 * with the same buffer, and that call's return counts them all: a walk
 * at entry saw them twice (issue 22: the HTTP/2 frame walk desynced). A
 * partial write (GnuTLS's one record, OpenSSL's partial-write mode) is
 * walked as far as it went, the rest by the call that sends it. */
SEC("uprobe")
int BPF_KPROBE(tls_write_entry, void *ssl, void *buf)
{
	struct rl_tls_call *call = enter((__u64)ssl, RL_TLS_WRITE);

	if (call)
		call->buf = (__u64)buf;
	return 0;
}

/* gnutls_record_send(session, data, size), its own entry for its retries
 * (tls_retries): one lookup per GnuTLS write. A retry with no data walks
 * the failed call's buffer; a retry with it (the other way GnuTLS
 * allows) has its own. Either way, the one that sends drops the entry. */
SEC("uprobe")
int BPF_KPROBE(gnutls_write_entry, void *ssl, void *buf)
{
	struct rl_tls_call *call = enter((__u64)ssl, RL_TLS_WRITE);
	struct rl_tls_ssl k = {.ssl = (__u64)ssl,
			       .tgid = bpf_get_current_pid_tgid() >> 32};
	__u64 *retry;

	if (!call)
		return 0;
	call->buf = (__u64)buf;
	retry = bpf_map_lookup_elem(&tls_retries, &k);
	if (retry) {
		if (!buf)
			call->buf = *retry;
		call->retry = 1;
	} else if (!buf) {
		RL_COUNT_EVENT(tls_counters, RL_TLS_RETRY_UNSEEN);
	}
	return 0;
}

/* SSL_write_ex(ssl, buf, num, size_t *written): the count is behind
 * written at return. */
SEC("uprobe")
int BPF_KPROBE(tls_write_ex_entry, void *ssl, void *buf, __u64 num,
	       __u64 *written)
{
	struct rl_tls_call *call = enter((__u64)ssl, RL_TLS_WRITE);

	if (call) {
		call->buf = (__u64)buf;
		call->lenp = (__u64)written;
	}
	return 0;
}

/* GnuTLS's codes for "call again" (gnutls/gnutls.h): only those are
 * retried with no buffer. OpenSSL's failed SSL_write returns -1 (or 0,
 * _ex) and is retried with its buffer: it never gets here. */
#define RL_GNUTLS_E_AGAIN (-28)
#define RL_GNUTLS_E_INTERRUPTED (-52)

/* At the return of a write that GnuTLS asked to call again, its buffer is
 * kept for a retry without one; a retry that sent (ret > 0) drops it. */
static __noinline int write_retry(struct rl_tls_call *call, int ret)
{
	struct rl_tls_ssl k = {.ssl = call->ssl,
			       .tgid = bpf_get_current_pid_tgid() >> 32};
	__u64 buf = call->buf;
	long err;

	if (ret > 0) {
		bpf_map_delete_elem(&tls_retries, &k);
		return 0;
	}
	if (!buf)
		return 0;
	err = bpf_map_update_elem(&tls_retries, &k, &buf, BPF_ANY);
	if (err)
		rl_update_error(&tls_update_errors, RL_TLS_MAP_RETRIES, err);
	return 0;
}

/* Return of a read or write: a read's plaintext exists only now, and a
 * write's count (what the library took) too. The count is an int
 * (SSL_read, SSL_write; the _ex functions' 1): the upper half of the
 * return register is undefined. GnuTLS's ssize_t fits, its sizes being
 * ints too. A call that returned <= 0 moved nothing: not walked. */
SEC("uretprobe")
int BPF_KRETPROBE(tls_exit, long rax)
{
	struct rl_tls_call *call;
	int ret = (int)rax;
	__u64 ssl, len = 0;

	call =
	    bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);
	if (!call || !call->ssl)
		return 0;
	ssl = call->ssl;
	if (call->kind == RL_TLS_WRITE &&
	    (ret == RL_GNUTLS_E_AGAIN || ret == RL_GNUTLS_E_INTERRUPTED ||
	     call->retry))
		write_retry(call, ret);
	if ((call->kind == RL_TLS_READ || call->kind == RL_TLS_WRITE) &&
	    ret > 0) {
		len = ret;
		/* _ex: 1 on success, the count behind readbytes (written). */
		if (call->lenp &&
		    (ret != 1 || bpf_probe_read_user(&len, sizeof(len),
						     (void *)call->lenp)))
			len = 0;
		if (len)
			tls_data(ssl, call->buf, len,
				 call->kind == RL_TLS_READ ? RL_L7_IN
							   : RL_L7_OUT);
	}
	call->ssl = 0;
	call->kind = 0;
	call->retry = 0;
	return 0;
}

/* Go's crypto/tls, (*Conn).Read(b []byte) (int, error) and .Write (Go >=
 * 1.17, register ABI): the receiver in the first integer register, b's
 * data and length in the second and third; at return, n in the first.
 * Go moves goroutine stacks, so no uretprobe (it rewrites the return
 * address on the stack): the agent probes every return instruction of
 * the functions (agent/probes/go_binary.h) with go_tls_ret and
 * go_tls_handshake_ret. */
#if defined(__TARGET_ARCH_x86)
#define RL_GO_ARG1(x) ((x)->ax)
#define RL_GO_ARG2(x) ((x)->bx)
#define RL_GO_ARG3(x) ((x)->cx)
#define RL_GO_RET1(x) ((x)->ax)
#define RL_GO_G(x) ((x)->r14)
#elif defined(__TARGET_ARCH_arm64)
#define RL_GO_ARG1(x) (((struct user_pt_regs *)(x))->regs[0])
#define RL_GO_ARG2(x) (((struct user_pt_regs *)(x))->regs[1])
#define RL_GO_ARG3(x) (((struct user_pt_regs *)(x))->regs[2])
#define RL_GO_RET1(x) (((struct user_pt_regs *)(x))->regs[0])
#define RL_GO_G(x) (((struct user_pt_regs *)(x))->regs[28])
#endif

static __always_inline struct rl_go_key go_key(struct pt_regs *ctx,
					       __u32 slot)
{
	struct rl_go_key k = {.g = RL_GO_G(ctx),
			      .tgid = bpf_get_current_pid_tgid() >> 32,
			      .slot = slot};
	return k;
}

static __always_inline void go_remember(struct rl_go_key *k,
					struct rl_go_call *gc)
{
	long err = bpf_map_update_elem(&go_calls, k, gc, BPF_ANY);

	if (err)
		rl_update_error(&tls_update_errors, RL_TLS_MAP_CALLS, err);
}

/* Entry of Read or Write: the goroutine's call, and the thread's record
 * for the socket tie (the call's first socket I/O happens on this
 * thread; a goroutine resumed on another thread is tied already, by the
 * connection's handshake).
 *
 * A write is counted here, at entry, when its connection is tied: the
 * peer's answer can come back, and the goroutine reading it return with
 * it on another CPU, before this goroutine reaches its own return (a
 * request would then follow its response). If Write then fails, its
 * bytes were counted anyway. Untied (a handshake inside this
 * Write), it waits for the return. Returns whether the caller is to
 * count the write now: from its own frame, as tls_data's calls need all
 * but ~40 bytes of the 512-byte stack (hence noinline: this frame is
 * off that chain).
 *
 * One call can enter twice: a Go function's first instructions check
 * the goroutine's stack, and when it is short, or when the scheduler
 * asked the goroutine to stop there (preemption, the GC's stack scans),
 * the runtime grows it or parks the goroutine and then starts the
 * function over, probe and all. The second entry of a write counted at
 * the first finds that call's record (same goroutine, *Conn, buffer and
 * length; the return probes delete it) and counts nothing: counted
 * twice, the response of an HTTP server made a request "unknown" out of
 * nothing (CI, 6.1 VM; tests/helpers/go_tls/restart.go makes it happen
 * on purpose). */
static __noinline int go_enter(struct pt_regs *ctx, __u8 kind)
{
	struct rl_go_key k = go_key(ctx, RL_GO_SLOT_IO);
	struct rl_go_call gc = {.conn = RL_GO_ARG1(ctx),
				.buf = RL_GO_ARG2(ctx),
				.len = RL_GO_ARG3(ctx),
				.kind = kind};
	struct rl_tls_call *call = enter(gc.conn, kind);
	struct rl_tls_ssl sk = {.ssl = gc.conn, .tgid = k.tgid};
	struct rl_go_call *prev;

	if (call)
		call->g = k.g;
	if (kind != RL_TLS_WRITE) {
		go_remember(&k, &gc);
		return 0;
	}
	/* Before the tie's check: a tie lost in between (tls_socks is an
	 * LRU) must not make the second entry count at return. */
	prev = bpf_map_lookup_elem(&go_calls, &k);
	if (prev && prev->counted && prev->kind == kind &&
	    prev->conn == gc.conn && prev->buf == gc.buf && prev->len == gc.len)
		return 0;
	if (!bpf_map_lookup_elem(&tls_socks, &sk)) {
		go_remember(&k, &gc);
		return 0;
	}
	gc.counted = 1;
	go_remember(&k, &gc);
	return 1;
}

SEC("uprobe")
int go_tls_read_entry(struct pt_regs *ctx)
{
	go_enter(ctx, RL_TLS_READ);
	return 0;
}

SEC("uprobe")
int go_tls_write_entry(struct pt_regs *ctx)
{
	if (go_enter(ctx, RL_TLS_WRITE))
		tls_data(RL_GO_ARG1(ctx), RL_GO_ARG2(ctx), RL_GO_ARG3(ctx),
			 RL_L7_OUT);
	return 0;
}

/* (*Conn).handshakeContext, which Read and Write call first every time
 * (it returns at once when done) and servers and clients call before
 * (net/http's, explicitly): a connection is tied by its handshake's
 * socket I/O, so a first read served from the handshake's buffer and a
 * write counted at entry find it. Nested in a Read or Write of the same
 * connection on this thread, enter() leaves that call's record alone. */
SEC("uprobe")
int go_tls_handshake_entry(struct pt_regs *ctx)
{
	struct rl_go_key k = go_key(ctx, RL_GO_SLOT_HANDSHAKE);
	struct rl_go_call gc = {.conn = RL_GO_ARG1(ctx),
				.kind = RL_TLS_HANDSHAKE};
	struct rl_tls_call *call = enter(gc.conn, RL_TLS_HANDSHAKE);

	if (!call)
		return 0;
	call->g = k.g;
	go_remember(&k, &gc);
	return 0;
}

/* The thread's record ends with the goroutine's call, if it is still
 * that call's (the goroutine may return on another thread: the record
 * left behind is then stale, which tls_socket checks in go_calls). */
static __always_inline void go_leave(struct rl_go_key *k, bool handshake)
{
	struct rl_tls_call *call;

	bpf_map_delete_elem(&go_calls, k);
	call =
	    bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);
	if (call && call->g == k->g &&
	    (call->kind == RL_TLS_HANDSHAKE) == handshake) {
		call->ssl = 0;
		call->kind = 0;
		call->g = 0;
	}
}

SEC("uprobe")
int go_tls_handshake_ret(struct pt_regs *ctx)
{
	struct rl_go_key k = go_key(ctx, RL_GO_SLOT_HANDSHAKE);

	go_leave(&k, true);
	return 0;
}

/* A return instruction of Read or Write: n bytes moved, walked from the
 * buffer the call was given (a write counted at entry: nothing). */
SEC("uprobe")
int go_tls_ret(struct pt_regs *ctx)
{
	struct rl_go_key k = go_key(ctx, RL_GO_SLOT_IO);
	long n = (long)RL_GO_RET1(ctx);
	struct rl_go_call *gc;
	struct rl_go_call c;

	gc = bpf_map_lookup_elem(&go_calls, &k);
	if (!gc)
		return 0;
	c = *gc;
	go_leave(&k, false);
	if (n > 0 && c.buf && !c.counted)
		tls_data(c.conn, c.buf, n,
			 c.kind == RL_TLS_READ ? RL_L7_IN : RL_L7_OUT);
	return 0;
}

/* A new image: the agent looks for TLS libraries in it. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(tls_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	__u8 one = 1;

	if (bpf_map_update_elem(&tls_execs, &tgid, &one, BPF_ANY))
		RL_COUNT_EVENT(tls_counters, RL_TLS_EXEC_LOST);
	return 0;
}
