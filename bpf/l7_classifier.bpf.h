/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a protocol classifier (bpf/l7_<proto>.bpf.h) sees and returns.
 *
 * l7.bpf.c copies the first bytes a read or write moved into a per-CPU
 * window and asks the connection's protocol, through the table in
 * bpf/l7_proto.bpf.h, whether they start a request or a response.
 * Classifiers are pure functions of the window (no maps, no helper but
 * bpf_loop, and bpf_probe_read_user for a walk that goes past the
 * window), so tests/fuzz compiles them for user space unchanged.
 *
 * Every access is masked to the window (RL_AT) so the verifier can bound
 * it; n is the number of valid bytes, the rest is stale.
 */
#ifndef REDLINE_BPF_L7_CLASSIFIER_BPF_H
#define REDLINE_BPF_L7_CLASSIFIER_BPF_H

/* A global BPF function: verified once, on its own, not along every path
 * that calls it. Its pointer arguments are memory whose values the
 * verifier does not track (a walk's state kept there converges at once);
 * a pointer stored in that memory reads back as a number. In user space
 * (tests/fuzz), a file-local function, so several tests may include it. */
#ifdef RL_L7_USER_SPACE
#define RL_L7_GLOBAL static inline __attribute__((noinline))
#else
#define RL_L7_GLOBAL __attribute__((noinline))
#endif

#ifndef barrier_var /* bpf_helpers.h's, for the user-space build */
#define barrier_var(var) __asm__ __volatile__("" : "+r"(var))
#endif

#define RL_L7_PEEK 128	    /* HTTP's window: room for pipelined requests */
#define RL_L7_SMALL_PEEK 16 /* enough for a start line's first words */
/* The largest window, for protocols whose pipelined messages are walked
 * value by value (Redis: 16 pipelined SETs are 720 bytes). The copy is
 * only as long as the message. */
#define RL_L7_WINDOW 1024

#define RL_AT(b, i) ((b)[(i) & (RL_L7_PEEK - 1)])
/* Any offset in the scratch buffer (2 * RL_L7_WINDOW bytes). */
#define RL_WAT(b, i) ((b)[(i) & (2 * RL_L7_WINDOW - 1)])

/* Pending requests per connection, as runs of one operation started by
 * one message; a power of two: indexes are masked. */
#define RL_L7_FIFO 4

/* Runs of further messages one scan reports (a power of two). */
#define RL_L7_SCAN_RUNS 32

/* Returned by a response start that completes no request itself (HTTP's
 * 100 Continue: the final response follows; PostgreSQL: its walk of the
 * data finds the ReadyForQuery messages that do). Outcomes proper are
 * 1..254. */
#define RL_L7_INTERIM 0xff

/* The window a message's first bytes are copied into: four times the
 * largest peek, so an index masked with 2 * RL_L7_WINDOW - 1 plus a length
 * masked likewise is a place the verifier can prove fits (it loses the
 * bound of a clamped length). The first half holds the data's first
 * bytes; walks copy what they read further on to the second. */
struct rl_l7_window {
	char b[4 * RL_L7_WINDOW];
};

/* Where rl_l7_gather keeps a copy of the data's iovec segments: the last
 * quarter, which nothing else writes (a gather's destination is below
 * 2 * RL_L7_WINDOW, its size at most RL_L7_WINDOW). */
#define RL_L7_IOV_AT (3 * RL_L7_WINDOW)

/* Segments of a readv/writev/sendmsg/recvmsg a walk reads through (grpc
 * core sends its first HTTP/2 request as 27). */
#define RL_L7_IOV_MAX 64

/* struct iovec, as user memory holds it (64-bit). */
struct rl_l7_iovec {
	__u64 base;
	__u64 len;
};

/* The messages that follow the first one in the window: a client may send
 * several requests before reading a response (the server reads them in
 * one go), a server may answer several in one write. A protocol's next
 * requests / next responses operation reports them as runs of one
 * operation (outcome), in order, and may say where the last one ends if
 * that is past the data (the rest of a large value: the next message in
 * that direction starts inside it). No pointers: a global BPF function
 * (verified once, on its own) may fill it. */
struct rl_l7_runs {
	__u32 found; /* runs in op[] and cnt[] */
	__u32 end;   /* past the last message, if it ends beyond the data */
	__u8 op[RL_L7_SCAN_RUNS];
	__u16 cnt[RL_L7_SCAN_RUNS]; /* not capped: a branch on a growing
				     * count keeps the verifier from
				     * converging on a walk's callback */
	/* A walker's position (Redis). Here, not on its stack: in a global
	 * function's argument the verifier tracks no values, so the walk's
	 * callback converges at once instead of being verified for every
	 * combination of them. */
	__u32 off;	 /* next value */
	__u32 need;	 /* values the current message still needs */
	__u8 cur;	 /* operation (outcome) of the message being walked */
	__u8 name;	 /* the next string is the request's operation */
	__u8 past_first; /* the first message (its start reported it) is
			  * behind */
	/* A protocol's state in this direction, carried from the previous
	 * data on the connection and on to the next (PostgreSQL: the
	 * request group so far, or the error a response has had). */
	__u8 state;
	/* Requests: the operation of the first one, if the walk knows it
	 * better than the start did; RL_L7_INTERIM if no request ends in the
	 * data (PostgreSQL: a Parse sent before its Sync). 0: the start's. */
	__u8 first;
	/* rl_l7_gather: 1 if the segments are in the window (RL_L7_IOV_AT),
	 * 2 if they could not be copied there; 0: not tried yet. */
	__u8 iov_cached;
	__u8 pad[2];
	__u64 scratch[3]; /* a walker's parser state, untracked likewise */
	__u64 conn;	  /* the socket's cookie, for per-connection maps */
	/* Where the data is, for walks that read past the window (through
	 * rl_l7_gather): one buffer at ubuf, or iovcnt segments at iov of
	 * which the first base bytes were the end of an earlier message. */
	__u64 ubuf;
	__u64 iov;
	__u32 iovcnt;
	__u32 base;
	/* rl_l7_gather's cursor: the segment the last gather copied from and
	 * where it starts in the data (+ base). Walks gather forward, and one
	 * that starts there need not look at the segments before. */
	__u32 cur_i;
	__u32 cur_seg;
	/* The HTTP/2 walk's chunk (l7_h2.bpf.h): the data's bytes
	 * [chunk_off, chunk_off + chunk_len) are in the window. */
	__u32 chunk_off;
	__u32 chunk_len;
};

/* What a protocol's next requests / next responses operation gets, with
 * the window (8-aligned, so a word load at an offset masked with
 * 2 * RL_L7_PEEK - 8 needs no other bound) as an argument of its own: the
 * engine passes both to global functions, and a pointer stored in their
 * argument memory reads back as a number. */
struct rl_l7_scan {
	__u64 ubuf; /* the data's user address */
	__u32 len;  /* bytes of data */
	__u32 n;    /* of which in the window */
	struct rl_l7_runs r;
};

/* A gather's position, in rl_l7_runs.scratch. */
struct rl_l7_gather {
	__u32 seg; /* logical offset of the segment being looked at */
	__u32 pos; /* next byte wanted */
	__u32 end; /* past the last one wanted */
	__u32 at;  /* window index pos goes to */
	__u32 i0;  /* the segment the loop's first step looks at */
};

struct rl_l7_gather_ctx {
	struct rl_l7_window *w;
	struct rl_l7_runs *r;
};

static long rl_l7_gather_seg(__u32 i, void *data)
{
	struct rl_l7_gather_ctx *x = (struct rl_l7_gather_ctx *)data;
	struct rl_l7_runs *r = x->r;
	struct rl_l7_gather *g = (struct rl_l7_gather *)r->scratch;
	const struct rl_l7_iovec *cached;
	struct rl_l7_iovec v;
	__u64 seg_end;
	__u32 n, at;

	i += g->i0;
	if (g->pos >= g->end || i >= r->iovcnt)
		return 1;
	if (r->iov_cached == 1) {
		cached = (const struct rl_l7_iovec *)(x->w->b + RL_L7_IOV_AT);
		v = cached[i & (RL_L7_IOV_MAX - 1)];
	} else if (bpf_probe_read_user(
		       &v, sizeof(v), (const void *)(r->iov + i * sizeof(v)))) {
		return 1;
	}
	seg_end = g->seg + v.len;
	if (seg_end > g->pos) {
		n = (seg_end < g->end ? seg_end : g->end) - g->pos;
		at = g->at;
		barrier_var(n);
		n &= 2 * RL_L7_WINDOW - 1;
		at &= 2 * RL_L7_WINDOW - 1;
		if (bpf_probe_read_user(
			x->w->b + at, n,
			(const void *)(v.base + g->pos - g->seg)))
			return 1;
		g->at += n;
		g->pos += n;
		r->cur_i = i;
		r->cur_seg = g->seg;
	}
	g->seg = seg_end > 0xffffffffu ? 0xffffffffu : seg_end;
	return 0;
}

/* The iovec segments, copied to the window once per read or write (one
 * copy where each gather read every segment's up to its own: a walk of
 * many frames in a writev of many segments read them over and over). */
static __always_inline void rl_l7_gather_segs(struct rl_l7_window *w,
					      struct rl_l7_runs *r)
{
	/* iovcnt is 1 to RL_L7_IOV_MAX: the size, 16 to 1024, in bounds
	 * the verifier can see. */
	__u32 size = ((r->iovcnt - 1) & (RL_L7_IOV_MAX - 1)) *
			 sizeof(struct rl_l7_iovec) +
		     sizeof(struct rl_l7_iovec);

	r->iov_cached =
	    bpf_probe_read_user(w->b + RL_L7_IOV_AT, size, (const void *)r->iov)
		? 2
		: 1;
}

/* Copies size bytes (at most RL_L7_WINDOW) of the data from offset off
 * into the window at index at; the number copied (fewer where the data
 * or its first RL_L7_IOV_MAX segments end). The one way a walk reads
 * user memory: through iovec segments as through one buffer. */
RL_L7_GLOBAL int rl_l7_gather(struct rl_l7_window *w, __u32 at, __u32 off,
			      __u32 size, struct rl_l7_runs *r)
{
	struct rl_l7_gather *g;
	struct rl_l7_gather_ctx x;

	if (!w || !r || !size || size > RL_L7_WINDOW)
		return 0;
	if (!r->iovcnt) {
		at &= 2 * RL_L7_WINDOW - 1;
		barrier_var(size);
		size &= 2 * RL_L7_WINDOW - 1;
		if (bpf_probe_read_user(w->b + at, size,
					(const void *)(r->ubuf + off)))
			return 0;
		return size;
	}
	if (!r->iov_cached)
		rl_l7_gather_segs(w, r);
	g = (struct rl_l7_gather *)r->scratch;
	g->pos = r->base + off;
	g->end = g->pos + size;
	g->at = at;
	/* From the last gather's segment if this one starts in or past it. */
	if (g->pos >= r->cur_seg) {
		g->seg = r->cur_seg;
		g->i0 = r->cur_i;
	} else {
		g->seg = 0;
		g->i0 = 0;
	}
	x.w = w;
	x.r = r;
	bpf_loop(RL_L7_IOV_MAX, rl_l7_gather_seg, &x, 0);
	return g->pos - (r->base + off);
}

/* Appends one message of operation (outcome) op to r; false when the runs
 * are full (the message is not reported). */
static __always_inline bool rl_l7_scan_add(struct rl_l7_runs *r, __u8 op)
{
	__u32 last = (r->found - 1) & (RL_L7_SCAN_RUNS - 1);

	/* r is often on the stack, 8-aligned: clang would then form
	 * &r->op[last] as (r + 8) | last, which the verifier refuses on a
	 * pointer. Opaque, r gets an add. */
	barrier_var(r);
	if (r->found && r->op[last] == op) {
		r->cnt[last]++;
		return true;
	}
	if (r->found >= RL_L7_SCAN_RUNS)
		return false;
	r->op[r->found & (RL_L7_SCAN_RUNS - 1)] = op;
	r->cnt[r->found & (RL_L7_SCAN_RUNS - 1)] = 1;
	r->found++;
	return true;
}

/* For protocols with nothing to report after the first message. */
static __always_inline void rl_l7_scan_none(struct rl_l7_window *w,
					    struct rl_l7_scan *s)
{
}

#endif /* REDLINE_BPF_L7_CLASSIFIER_BPF_H */
