// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Request RED from plaintext TCP socket I/O, from tracepoints only: no
 * kprobes, no uprobes, no change to the service.
 *
 * Connections are the kernel's sockets (struct sock *, with its cookie as
 * a generation), learnt from inet_sock_set_state: SYN_SENT -> ESTABLISHED
 * makes a client, SYN_RECV -> ESTABLISHED a server (the accepted child
 * socket); tcp_destroy_sock forgets it. Whoever then does I/O on the
 * socket -- the process that accepted, a child forked after accept, a
 * process that got the fd over a unix socket, through dup2 -- finds the
 * same state, and requests are labelled with the process doing that I/O.
 *
 * Reads and writes come from sock:sock_recv_length / sock_send_length
 * (6.3+, fired in sock_recvmsg_nosec/sock_sendmsg_nosec with the socket
 * and the bytes moved): a syscall that is not socket I/O costs nothing.
 * The user buffer is in the syscall's own registers (bpf_task_pt_regs):
 * the syscall number says which argument holds it and in what shape.
 * Kernels without those tracepoints (6.1) take every syscall's exit
 * instead (l7_exit) and find the socket through the fd table; the agent
 * loads one path or the other, both feed the same state machine
 * (bpf/l7_conn.bpf.h) and the same maps.
 */
#include "common.bpf.h"
/* common.bpf.h first: it brings vmlinux.h's __u64 that l7.h uses. */
#include <bpf/bpf_endian.h>

#include "l7_conn.bpf.h"
#include "l7_dns_udp.bpf.h"
#include "l7_tls.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define MSG_PEEK 2
#define PF_IO_WORKER 0x00000010
#define PF_KTHREAD 0x00200000
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* Filled by the agent before load from <sys/syscall.h>. */
const volatile __u8 sys_kind[RL_L7_MAX_NR];
/* recvfrom's and recvmsg's numbers on this arch (the agent's): on the
 * sys_exit path their flags, the syscall's own argument, may be MSG_PEEK. */
const volatile __s32 nr_recvfrom = -1, nr_recvmsg = -1;

/* track's state c into sk's own storage (conn_sk). */
static __always_inline void track_in_sk(struct sock *sk, struct conn *c)
{
	struct conn *p = bpf_sk_storage_get(&conn_store, sk, 0, 0);
	__u32 zero = 0;
	__s64 *live;

	if (p) { /* reconnected after tcp_disconnect: starts over */
		*p = *c;
		return;
	}
	live = bpf_map_lookup_elem(&conn_live, &zero);
	if (!live)
		return;
	if (*live >= (__s64)conn_cap) {
		rl_update_error(&l7_update_errors, RL_L7_MAP_CONNS, -RL_E2BIG);
		return;
	}
	__sync_fetch_and_add(live, 1);
	/* NULL: no memory, or the socket's optmem budget spent. */
	if (!bpf_sk_storage_get(&conn_store, sk, c,
				BPF_SK_STORAGE_GET_F_CREATE)) {
		__sync_fetch_and_add(live, -1);
		rl_update_error(&l7_update_errors, RL_L7_MAP_CONNS,
				-RL_ENOMEM);
		return;
	}
	conn_count_add(1);
}

/* An established TCP socket: a connection with fresh state (a socket
 * reconnected after tcp_disconnect, or an address whose close we missed,
 * starts over). */
static void track(struct sock *sk, __u8 role)
{
	__u64 key = (__u64)sk;
	struct conn c = {};
	long err;

	c.family = sk->__sk_common.skc_family;
	if (c.family != AF_INET && c.family != AF_INET6)
		return;
	c.role = role;
	c.gen = bpf_get_socket_cookie(sk);
	if (role == RL_L7_SERVER) {
		c.port = sk->__sk_common.skc_num;
	} else {
		c.port = bpf_ntohs(sk->__sk_common.skc_dport);
		if (c.family == AF_INET)
			__builtin_memcpy(c.addr, &sk->__sk_common.skc_daddr, 4);
		else
			__builtin_memcpy(c.addr, &sk->__sk_common.skc_v6_daddr,
					 16);
	}
	if (conn_sk) {
		track_in_sk(sk, &c);
		return;
	}
	err = bpf_map_update_elem(&conns, &key, &c, BPF_NOEXIST);
	if (!err) {
		conn_count_add(1);
		return;
	}
	if (err == -EEXIST)
		err = bpf_map_update_elem(&conns, &key, &c, BPF_EXIST);
	if (err)
		rl_update_error(&l7_update_errors, RL_L7_MAP_CONNS, err);
}

/* Every TCP state change of the host: rare next to I/O. Runs in softirq
 * for most transitions, so nothing here is about the current task. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(l7_state, struct sock *sk, int oldstate, int newstate)
{
	if (newstate != TCP_ESTABLISHED || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (oldstate == TCP_SYN_SENT)
		track(sk, RL_L7_CLIENT);
	else if (oldstate == TCP_SYN_RECV)
		track(sk, RL_L7_SERVER);
	return 0;
}

/* The socket is destroyed: it reached CLOSE and no fd refers to it any
 * more (tcp_v4_destroy_sock, for every full TCP socket, TIME_WAIT
 * included: its mini socket is another object). Not at CLOSE itself: a
 * peer's reset moves the socket to CLOSE in softirq while the process may
 * be returning from the write that carried the response (sys_exit path,
 * or the backlog processed in release_sock before sock_send_length), and
 * that response must still find its connection. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(l7_destroy, struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct conn *c = conn_sk ? bpf_sk_storage_get(&conn_store, sk, 0, 0)
				 : bpf_map_lookup_elem(&conns, &key);

	if (c)
		conn_forget(sk, c);
	return 0;
}

/* The connection at key if it is this socket's (cookie), else NULL; a
 * stale entry (a socket whose close we missed, its address reused) is
 * dropped. */
static __always_inline struct conn *conn_of(__u64 key, __u64 cookie)
{
	struct conn *c = bpf_map_lookup_elem(&conns, &key);

	if (!c || c->gen == cookie)
		return c;
	conn_delete(key, c);
	return NULL;
}

/* The syscall's number and arguments from its pt_regs. A BTF pointer:
 * direct loads on x86, not a helper call per argument. */
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

/* The address a datagram is sent to (sendto's, a msghdr's msg_name) into
 * io as the server's: true if it is a DNS port (53 or --dns-ports). */
static __always_inline bool dns_server_at(struct rl_dns_io *io, __u64 uaddr)
{
	struct sockaddr_in sin;

	if (!uaddr || bpf_probe_read_user(&sin, sizeof(sin), (void *)uaddr) ||
	    !dns_port(bpf_ntohs(sin.sin_port)))
		return false;
	io->peer_port = bpf_ntohs(sin.sin_port);
	io->family = sin.sin_family;
	if (sin.sin_family == AF_INET) {
		__builtin_memcpy(io->addr, &sin.sin_addr, 4);
		return true;
	}
	return sin.sin_family == AF_INET6 &&
	       !bpf_probe_read_user(
		   io->addr, 16,
		   &((struct sockaddr_in6 *)uaddr)->sin6_addr);
}

/* The datagram's first segment and the address it goes to, from a
 * msghdr in user memory; len: bytes the syscall moved. */
static __always_inline bool dns_from_msghdr(struct rl_dns_io *io, __u64 mh,
					    __u32 len)
{
	const struct user_msghdr *h = (const void *)mh;
	struct iovec iov, *segs;
	__u64 name, nsegs;

	/* The fields alone: the stack is short (dns_sock_io). */
	if (bpf_probe_read_user(&segs, sizeof(segs), &h->msg_iov) ||
	    bpf_probe_read_user(&nsegs, sizeof(nsegs), &h->msg_iovlen) ||
	    !nsegs || bpf_probe_read_user(&iov, sizeof(iov), segs))
		return false;
	io->ubuf = (__u64)iov.iov_base;
	io->len = len < iov.iov_len ? len : iov.iov_len;
	if (io->dir == RL_L7_OUT &&
	    !bpf_probe_read_user(&name, sizeof(name), &h->msg_name))
		dns_server_at(io, name);
	return true;
}

/* Which entry of a sendmmsg/recvmmsg vector the socket tracepoint fires
 * for (once per message, TCP or UDP; pt_regs point at the vector): the
 * thread's count of messages of this vector so far. The kernel's loop
 * (do_recvmmsg, __sys_sendmmsg) stops at an entry that fails, which
 * mmsg_failed sees and ends the count at; a call that stops after a
 * partial send or recvmmsg's timeout leaves the count for its next call
 * on the same vector (README: what request metrics cannot see). */
struct mmsg_pos {
	__u64 vec;
	__u32 next;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct mmsg_pos);
} mmsg_pos SEC(".maps");

static __always_inline __u64 mmsg_entry(__u64 vec, __u32 vlen)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mmsg_pos *p = bpf_map_lookup_elem(&mmsg_pos, &id);
	struct mmsg_pos n = { .vec = vec };
	__u32 i = p && p->vec == vec && p->next < vlen ? p->next : 0;

	n.next = i + 1;
	if (n.next < vlen)
		bpf_map_update_elem(&mmsg_pos, &id, &n, BPF_ANY);
	else if (p)
		bpf_map_delete_elem(&mmsg_pos, &id);
	return vec + (__u64)i * sizeof(struct mmsghdr);
}

/* A socket I/O that failed (EAGAIN after MSG_WAITFORONE's first message,
 * most often): if a sendmmsg/recvmmsg's, its call ends here. Costs only
 * failed TCP and UDP I/O the syscall lookup (unix sockets, busy with
 * EAGAIN in desktop and D-Bus clients, are never tracked). */
static __noinline void mmsg_failed(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs;
	__u64 id;
	long nr;

	if (task->flags & (PF_KTHREAD | PF_IO_WORKER))
		return;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return;
	nr = syscall_nr(regs);
	if (nr < 0 || nr >= RL_L7_MAX_NR || (sys_kind[nr] & 0xf) != RL_L7_MMSG)
		return;
	id = bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&mmsg_pos, &id);
}

/* Into io: the datagram's bytes (and for a send, its address) from the
 * arguments of a syscall of kind that moved len bytes. */
static __always_inline bool dns_buffer(struct rl_dns_io *io, __u32 kind,
				       __u64 arg2, __u64 arg3, __u64 arg5,
				       __u32 len)
{
	struct iovec iov;

	switch (kind & 0x7) {
	case RL_L7_BUF:
		io->ubuf = arg2;
		io->len = len;
		/* sendto's address (NULL on a connected socket); write
		 * has no fifth argument. */
		if (kind & RL_L7_TO)
			dns_server_at(io, arg5);
		return true;
	case RL_L7_IOV:
		if (!arg3 || bpf_probe_read_user(&iov, sizeof(iov), (void *)arg2))
			return false;
		io->ubuf = (__u64)iov.iov_base;
		io->len = len < iov.iov_len ? len : iov.iov_len;
		return true;
	case RL_L7_MSG:
		return dns_from_msghdr(io, arg2, len);
	case RL_L7_MMSG:
		return arg3 && dns_from_msghdr(io, mmsg_entry(arg2, arg3), len);
	}
	return false;
}

/* Whether a datagram on a UDP socket with these ports (host order) may be
 * DNS: most UDP is not, and ports decide before anything is read. A
 * client socket connected elsewhere is not asking; an unconnected one is
 * if it sends to a DNS port (its address, read later). Its reads are all
 * looked at: the first answer can be read before the write of its query
 * is seen (see dns_early), so before the socket is known to ask. */
static __always_inline bool dns_maybe(__u16 local, __u16 dport)
{
	return dns_port(local) || !dport || dns_port(dport);
}

/* io filled from the syscall: a connected client's server is its peer. */
static __always_inline void dns_io_done(struct rl_dns_io *io, struct sock *sk,
					__u16 dport)
{
	if (io->dir == RL_L7_OUT && !io->server && dport) {
		io->peer_port = dport;
		io->family = BPF_CORE_READ(sk, __sk_common.skc_family);
		if (io->family == AF_INET)
			bpf_core_read(io->addr, 4, &sk->__sk_common.skc_daddr);
		else
			bpf_core_read(io->addr, 16,
				      &sk->__sk_common.skc_v6_daddr);
	}
	/* A send neither a server's nor to a DNS port (an unconnected socket:
	 * QUIC, statsd...): not DNS, and nothing of it copied. */
	if (io->dir == RL_L7_OUT && !io->server && !io->peer_port)
		return;
	/* A read on an unconnected client socket, any UDP (statsd, syslog,
	 * QUIC...): its flags first, QR set and opcode QUERY, before the
	 * datagram is copied and parsed: a non-DNS read costs 220 ns, 290
	 * without this, 115 when such reads were not looked at (l7_recv,
	 * bpf_stats, one 2-core VM). */
	if (io->dir == RL_L7_IN && !io->server && !dport) {
		__u32 head;

		if (io->len < RL_DNS_HEADER ||
		    bpf_probe_read_user(&head, sizeof(head),
					(void *)io->ubuf) ||
		    (bpf_ntohl(head) & 0xf800) != 0x8000)
			return;
	}
	rl_dns_datagram(io);
}

/* A UDP datagram (sock_send_length/sock_recv_length): DNS, or not. Not
 * inlined, nor dns_exit: the msghdr and addresses they copy stay off the
 * stack frame of the TCP path, whose chain of calls 6.1 caps at 512
 * bytes. */
static __noinline int dns_sock_io(struct sock *sk, int ret, __u32 dir)
{
	__u16 local = sk->__sk_common.skc_num;
	__u16 dport = bpf_ntohs(sk->__sk_common.skc_dport);
	struct task_struct *task;
	struct rl_dns_io *io;
	struct pt_regs *regs;
	__u32 kind;
	long nr;

	if (!dns_maybe(local, dport))
		return 0;
	task = bpf_get_current_task_btf();
	if (task->flags & (PF_KTHREAD | PF_IO_WORKER))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return 0;
	nr = syscall_nr(regs);
	if (nr < 0 || nr >= RL_L7_MAX_NR)
		return 0;
	kind = sys_kind[nr];
	if ((kind & 0xf0) != dir)
		return 0;
	io = dns_io_slot(sk, dir, local);
	if (!io)
		return 0;
	if (dns_buffer(io, kind, PT_REGS_PARM2_SYSCALL(regs),
		       PT_REGS_PARM3_SYSCALL(regs),
		       PT_REGS_PARM5_SYSCALL(regs), (__u32)ret))
		dns_io_done(io, sk, dport);
	return 0;
}

/* sendmmsg/recvmmsg entries a sys_exit looks at (glibc sends 2). */
#define RL_DNS_MMSG_MAX 4

/* Fallback: a UDP socket's syscall at sys_exit (ret: bytes, or for
 * sendmmsg/recvmmsg messages, each with its msg_len filled in). */
static __noinline void dns_exit(struct sock *sk, struct pt_regs *regs,
				long ret, __u32 kind)
{
	__u16 local = BPF_CORE_READ(sk, __sk_common.skc_num);
	__u16 dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	__u64 vec = PT_REGS_PARM2_SYSCALL(regs);
	__u32 dir = kind & 0xf0, len;
	struct mmsghdr *e;
	struct rl_dns_io *io;

	if (!dns_maybe(local, dport))
		return;
	if ((kind & 0x7) != RL_L7_MMSG) {
		io = dns_io_slot(sk, dir, local);
		if (!io)
			return;
		if (dns_buffer(io, kind, vec, PT_REGS_PARM3_SYSCALL(regs),
			       PT_REGS_PARM5_SYSCALL(regs), (__u32)ret))
			dns_io_done(io, sk, dport);
		return;
	}
	for (int i = 0; i < RL_DNS_MMSG_MAX && i < ret; i++) {
		e = (struct mmsghdr *)(vec + i * sizeof(struct mmsghdr));
		io = dns_io_slot(sk, dir, local);
		if (!io || bpf_probe_read_user(&len, sizeof(len), &e->msg_len))
			return;
		if (dns_from_msghdr(io, (__u64)e, len))
			dns_io_done(io, sk, dport);
	}
}

/* sock_send_length/sock_recv_length: ret bytes moved on sk, in dir. */
static __always_inline int sock_io(struct sock *sk, int ret, int flags,
				   __u32 dir)
{
	struct task_struct *task;
	struct pt_regs *regs;
	__u64 arg, vlen;
	struct conn *c;
	__u32 kind;
	long nr;

	/* MSG_PEEK: the same bytes come again with the read that takes
	 * them. UDP carries DNS; other sockets (unix, raw) are never
	 * tracked. */
	if (ret < 0 && sk && (sk->sk_protocol == IPPROTO_TCP ||
			      sk->sk_protocol == IPPROTO_UDP))
		mmsg_failed();
	if (ret <= 0 || (flags & MSG_PEEK) || !sk)
		return 0;
	if (sk->sk_protocol == IPPROTO_UDP)
		return dns_sock_io(sk, ret, dir);
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/* In its own storage a socket's state is its own: no stale entry
	 * of a reused address to check for. */
	c = conn_sk ? bpf_sk_storage_get(&conn_store, sk, 0, 0)
		    : conn_of((__u64)sk, sk->__sk_common.skc_cookie.counter);
	/* TLS ciphertext: tls.bpf.c brings its plaintext. */
	if (!c || tls_socket((__u64)sk, c))
		return 0;
	/* Kernel threads (NFS, kTLS workers) and io_uring workers have no
	 * syscall of theirs in pt_regs: their bytes are not seen. */
	task = bpf_get_current_task_btf();
	if (task->flags & (PF_KTHREAD | PF_IO_WORKER))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return 0;
	nr = syscall_nr(regs);
	if (nr < 0 || nr >= RL_L7_MAX_NR)
		return 0;
	/* sendfile/splice (their buffer is not user memory), io_uring_enter:
	 * not ours (kind 0 or OPAQUE), or the other direction; but an HTTP/2
	 * walk needs to know bytes went by. */
	kind = sys_kind[nr];
	if (!kind && c->proto == RL_L7_PROTO_H2)
		kind = dir | RL_L7_OPAQUE;
	if ((kind & 0xf0) != dir)
		return 0;
	arg = PT_REGS_PARM2_SYSCALL(regs);
	vlen = PT_REGS_PARM3_SYSCALL(regs);
	/* sendmmsg/recvmmsg: this message's entry, a msghdr first. */
	if ((kind & 0xf) == RL_L7_MMSG) {
		if (!vlen)
			return 0;
		arg = mmsg_entry(arg, (__u32)vlen);
		kind = (kind & ~0xf) | RL_L7_MSG;
	}
	on_data(sk, c, kind, arg, vlen, (__u64)ret);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(l7_send, struct sock *sk, int ret, int flags)
{
	return sock_io(sk, ret, flags, RL_L7_OUT);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(l7_recv, struct sock *sk, int ret, int flags)
{
	return sock_io(sk, ret, flags, RL_L7_IN);
}

/* Fallback before 6.3 (no sock_*_length): the socket behind fd in the
 * current task's table, NULL if fd is not a socket. */
static struct sock *fd_sock(int fd)
{
	/* Direct (BTF) loads down to the fd array: no helper call. */
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	struct file **fds, *f = NULL;
	struct socket *so;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	return so ? BPF_CORE_READ(so, sk) : NULL;
}

/* sendmmsg/recvmmsg messages a sys_exit follows on a TCP connection. */
#define RL_L7_MMSG_EXIT_MAX 4

/* Fallback: len bytes a syscall of kind moved on the TCP connection at
 * key (arg, arg3: its buffer arguments). Not inlined, so that its frame
 * (on_data's) is on the stack once whether l7_exit calls it for a
 * syscall or for each message of a sendmmsg/recvmmsg: 6.1 caps the
 * combined stack of a chain of calls at 512 bytes (544 with a loop around
 * on_data in one frame). kind_len: kind in the high half, len in the low
 * (a BPF call has 5 arguments; len is at most MAX_RW_COUNT). */
static __noinline void exit_data(__u64 key, __u64 cookie, __u64 kind_len,
				 __u64 arg, __u64 arg3)
{
	struct conn *c = conn_of(key, cookie);

	/* TLS ciphertext: tls.bpf.c brings its plaintext. */
	if (c && !tls_socket(key, c))
		on_data((struct sock *)key, c, kind_len >> 32, arg, arg3,
			(__u32)kind_len);
}

/* Fallback: one program at sys_exit, where the arguments are still in the
 * syscall's pt_regs and the return value says what it moved. Costs every
 * syscall of the host the tracepoint; read/write on files also an fd table
 * lookup. */
SEC("tp_btf/sys_exit")
int BPF_PROG(l7_exit, struct pt_regs *regs, long ret)
{
	long nr = syscall_nr(regs);
	__u64 key, arg, cookie = 0;
	struct mmsghdr *e;
	struct sock *sk;
	__u32 kind, len;

	/* Most syscalls are none of ours: one array load decides. */
	if (nr < 0 || nr >= RL_L7_MAX_NR || ret <= 0)
		return 0;
	kind = sys_kind[nr];
	if (!kind)
		return 0;
	/* MSG_PEEK: the same bytes come again with the read that takes them
	 * (the sock tracepoints are given the flags; here they are recvfrom's
	 * fourth argument, recvmsg's third). */
	if ((nr == nr_recvfrom && (PT_REGS_PARM4_SYSCALL(regs) & MSG_PEEK)) ||
	    (nr == nr_recvmsg && (PT_REGS_PARM3_SYSCALL(regs) & MSG_PEEK)))
		return 0;
	sk = fd_sock((int)PT_REGS_PARM1_SYSCALL(regs));
	if (!sk)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_UDP) {
		dns_exit(sk, regs, ret, kind);
		return 0;
	}
	key = (__u64)sk;
	bpf_core_read(&cookie, sizeof(cookie), &sk->__sk_common.skc_cookie);
	arg = PT_REGS_PARM2_SYSCALL(regs);
	if ((kind & 0xf) != RL_L7_MMSG) {
		exit_data(key, cookie, (__u64)kind << 32 | (__u32)ret, arg,
			  PT_REGS_PARM3_SYSCALL(regs));
		return 0;
	}
	/* sendmmsg/recvmmsg moved ret messages, each entry's msg_len filled
	 * in by the kernel: each in turn, as a sendmsg/recvmsg. */
	kind = (kind & ~0xf) | RL_L7_MSG;
	for (int i = 0; i < RL_L7_MMSG_EXIT_MAX && i < ret; i++) {
		e = (struct mmsghdr *)(arg + i * sizeof(*e));
		if (bpf_probe_read_user(&len, sizeof(len), &e->msg_len))
			break;
		exit_data(key, cookie, (__u64)kind << 32 | len, (__u64)e, 0);
	}
	return 0;
}
