/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between bpf/tls.bpf.c, the l7 engine (bpf/l7_tls.bpf.h) and the
 * agent. Plain C, fixed-size types, explicit padding.
 */
#ifndef REDLINE_BPF_TLS_H
#define REDLINE_BPF_TLS_H

/* What the library call a thread is inside does. */
#define RL_TLS_READ 1	   /* SSL_read, SSL_read_ex: plaintext at return */
#define RL_TLS_WRITE 2	   /* SSL_write, SSL_write_ex: at return, as taken */
#define RL_TLS_HANDSHAKE 3 /* SSL_do_handshake: only ties SSL* to socket */

/* Per thread (task storage): the TLS library call it is inside, from the
 * uprobe at its entry to the uretprobe at its return. The socket I/O the
 * library does meanwhile on this thread is that SSL*'s socket. */
struct rl_tls_call {
	__u64 ssl;  /* SSL * (0: in no call) */
	__u64 buf;  /* the caller's plaintext buffer */
	__u64 lenp; /* SSL_read_ex / SSL_write_ex: the size_t * out */
	__u64 sock; /* the socket tls_socks had for ssl at entry, 0 if none */
	__u64 g;    /* Go: the goroutine in the call (its g), else 0 */
	__u8 kind;  /* RL_TLS_* */
	__u8 retry; /* a write's buf is the failed call's (tls_retries) */
	__u8 pad[6];
};

/* Go's crypto/tls: a goroutine may block inside (*Conn).Read and resume
 * on another thread, so its call is keyed by the goroutine, not the
 * thread. Read and Write run the handshake function inside them: it has
 * its own slot. */
#define RL_GO_SLOT_IO 0	       /* (*Conn).Read or .Write */
#define RL_GO_SLOT_HANDSHAKE 1 /* (*Conn).handshakeContext */

struct rl_go_key {
	__u64 g;
	__u32 tgid;
	__u32 slot; /* RL_GO_SLOT_* */
};

struct rl_go_call {
	__u64 conn;   /* *tls.Conn */
	__u64 buf;    /* the []byte's data */
	__u64 len;    /* and length */
	__u8 kind;    /* RL_TLS_READ, RL_TLS_WRITE or RL_TLS_HANDSHAKE */
	__u8 counted; /* a write counted at entry: not again at return */
	__u8 pad[6];
};

/* tls_socks key: an SSL * is an address in one process; two processes
 * forked from one parent (nginx workers) hold equal addresses for
 * different connections. */
struct rl_tls_ssl {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

/* tls_socks value: the socket an SSL * does its I/O on (struct sock *
 * and its cookie, the engine's connection key and generation). */
struct rl_tls_sock {
	__u64 key;
	__u64 gen;
};

/* Per-CPU counters of tls.bpf.c, exported as redline_http_unparsed_total
 * kinds. */
enum rl_tls_counter {
	RL_TLS_UNMAPPED = 0,  /* plaintext of an SSL * never tied to a tracked
			       * socket (connected before start, a memory
			       * BIO, or not TCP) */
	RL_TLS_STALE = 1,     /* its socket's connection is gone */
	RL_TLS_EXEC_LOST = 2, /* execs not queued for a maps scan: full */
	RL_TLS_RETRY_UNSEEN = 3, /* a GnuTLS retry with no buffer whose
				  * failed call was not seen: not walked */
	RL_TLS_COUNTER_COUNT = 4,
};

/* Maps whose failed updates are counted (bpf/map_errors.h). */
enum rl_tls_map {
	RL_TLS_MAP_SOCKS = 0,
	RL_TLS_MAP_CALLS = 1,
	RL_TLS_MAP_WINDOWS = 2, /* the thread's copy window (tls.bpf.c) */
	RL_TLS_MAP_RETRIES = 3, /* GnuTLS writes to retry (tls.bpf.c) */
	RL_TLS_MAP_COUNT = 4,
};

#endif /* REDLINE_BPF_TLS_H */
