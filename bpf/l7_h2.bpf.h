/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2 in the kernel: which connections carry it (the client preface;
 * an h2c upgrade: l7_h2_upgrade.bpf.h), and a walk of their frames,
 * across reads and writes, that forwards to the agent (h2_events) only
 * what carries or ends requests: HEADERS, CONTINUATION and PUSH_PROMISE
 * with their header blocks (the agent's HPACK decoders must see every
 * one), RST_STREAM, SETTINGS (header table sizes, and their ACKs). DATA
 * frames are skipped, never copied (see h2_forwarded). The frames of one
 * read or write go in one record (more only past RL_H2_RECORD_MAX bytes):
 * a record costs a ring buffer lock, a copy and a query of its fill.
 * Requests are counted by the agent (agent/h2), which writes them into
 * l7_stats.
 *
 * A connection whose frames cannot all be followed (more frames in one
 * read or write than the walk takes, a copy that failed, a full ring
 * buffer) is lost: one RL_H2_EV_LOST event, and nothing more of it; the
 * agent says so rather than count from a broken HPACK state.
 *
 * Included by l7_conn.bpf.h (the state machine hands HTTP/2 connections
 * here), after struct conn and the maps it uses.
 */
#ifndef REDLINE_BPF_L7_H2_BPF_H
#define REDLINE_BPF_L7_H2_BPF_H

#include "l7_h2.h"
#include "l7_h2_upgrade.bpf.h"

/* Per-event stream: the agent sizes it (--h2-buffer), drains it from a
 * thread of its own, and a full buffer is counted (RL_L7_H2_EVENTS_LOST),
 * never waited for. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} h2_events SEC(".maps");

/* Bytes waiting in h2_events from which a new event wakes the agent up
 * (rodata, set by the agent: an eighth of the buffer; 0: the ring
 * buffer's default). Below it events are sent with
 * BPF_RB_NO_WAKEUP and the agent drains them on its own timer: by default
 * an event that finds the consumer caught up wakes it, so a busy HTTP/2
 * server woke the agent for nearly every frame, each wakeup an irq_work
 * in the server's context and two context switches (measured: 3/4 of the
 * agent's CPU, and nginx's requests/s halved on a 2-CPU guest). */
const volatile __u32 h2_wake_bytes;

/* The consumer position at which this object last forced a wakeup: the
 * agent, woken there, drains all it finds; until it has read something
 * (the position moved) another wakeup would only be another irq_work. */
__u64 h2_woken_cons = ~0ULL; /* none yet */

static __always_inline __u64 h2_wakeup(void)
{
	__u64 avail, cons;

	if (!h2_wake_bytes)
		return 0;
	/* Forced (with data waiting, the default wakes no one: only the
	 * first record after the consumer's position does), by the events
	 * that find between one and two thresholds waiting: a band, not
	 * the one event that crosses the threshold, which two CPUs can both
	 * miss; not above it, where the agent, woken in the band, is still
	 * draining. Once per consumer position: every event in the band
	 * forced one before, each an irq_work raised anew once the last
	 * had run, a self-IPI that exits a VM (measured: a tenth of the BPF
	 * time in nginx under h2load, the agent slow to wake behind it). */
	avail = bpf_ringbuf_query(&h2_events, BPF_RB_AVAIL_DATA);
	if (avail < h2_wake_bytes || avail >= 2 * (__u64)h2_wake_bytes)
		return BPF_RB_NO_WAKEUP;
	cons = bpf_ringbuf_query(&h2_events, BPF_RB_CONS_POS);
	if (cons == h2_woken_cons)
		return BPF_RB_NO_WAKEUP;
	h2_woken_cons = cons;
	return BPF_RB_FORCE_WAKEUP;
}

/* The data being walked, a chunk at a time, in the window after the
 * record being built (0 to RL_H2_RECORD_MAX) and below 2 * RL_L7_WINDOW,
 * the bound rl_l7_gather masks its destination with: one copy from user
 * memory serves every frame header and header block within it, where each
 * took a copy of its own (and, in a writev, a read of every segment's
 * iovec up to its own). nginx writes a response's HEADERS frame alone, in
 * two segments: five copies from user memory, now three (measured: the
 * copies were half of l7_send's time under h2load). */
#define RL_H2_CHUNK_AT RL_H2_RECORD_MAX
#define RL_H2_CHUNK 512

/* Whether b[0, n) starts with the client connection preface. */
static __always_inline bool rl_h2_preface(const char *b, __u32 n)
{
	if (n < RL_H2_PREFACE_LEN || b[0] != 'P')
		return false;
	/* Unrolled, each byte against a constant: a copy of the preface
	 * would take 32 bytes of l7_exit's stack, which 6.1 cannot spare. */
#pragma unroll
	for (int i = 1; i < RL_H2_PREFACE_LEN; i++)
		if (b[i] != RL_H2_PREFACE[i])
			return false;
	return true;
}

struct rl_h2_walk {
	struct conn *c;
	struct rl_l7_window *w;
	struct rl_l7_runs *r; /* where the data is: rl_l7_gather */
	__u32 off;	      /* next byte of the data to look at */
	__u32 len;	      /* bytes of data */
	__u32 end;	      /* of the FRAMES record built in the window */
	/* Halves: 40 bytes in all, as l7_exit's chain of calls has 6.1
	 * capping its stack at 512 bytes. */
	__u16 d; /* 0: read, 1: written */
	__u16 lost;
};

/* Sends the record in the window (its head there: h2_labels), of kind,
 * its first n bytes; false if the ring buffer had no room. */
static __always_inline bool h2_send(struct rl_h2_walk *x, __u8 kind, __u32 n)
{
	struct rl_h2_event *ev = (struct rl_h2_event *)x->w->b;

	ev->kind = kind;
	ev->len = n - RL_H2_EVENT_HEAD;
	barrier_var(n); /* or clang drops the mask: n <= 1536 is known */
	n &= 2 * RL_L7_WINDOW - 1;
	if (bpf_ringbuf_output(&h2_events, ev, n, h2_wakeup())) {
		RL_COUNT_EVENT(l7_counters, RL_L7_H2_EVENTS_LOST);
		return false;
	}
	return true;
}

/* A record with no data (LOST, CLOSED). */
static __always_inline bool h2_signal(struct rl_h2_walk *x, __u8 kind)
{
	return h2_send(x, kind, RL_H2_EVENT_HEAD);
}

/* Sends the frames built so far, if any; false if they were lost. */
static __always_inline bool h2_flush(struct rl_h2_walk *x)
{
	bool ok = true;

	if (x->end > RL_H2_EVENT_HEAD)
		ok = h2_send(x, RL_H2_EV_FRAMES, x->end);
	x->end = RL_H2_EVENT_HEAD;
	return ok;
}

/* The chunk's index of the data's byte off, [off, off + n) copied into
 * the chunk if they are not there yet (n at most RL_H2_CHUNK); -1 if they
 * could not be. A copy starts at off and takes what the chunk holds. */
static __always_inline int h2_chunk(struct rl_h2_walk *x, __u32 off, __u32 n)
{
	struct rl_l7_runs *r = x->r;
	__u32 k;

	if (off >= r->chunk_off && off + n <= r->chunk_off + r->chunk_len)
		return off - r->chunk_off;
	k = x->len - off;
	k = k < RL_H2_CHUNK ? k : RL_H2_CHUNK;
	if (k < n)
		return -1;
	/* Set first: r kept across the call took h2_step 16 bytes of stack
	 * it does not have. A copy that fails loses the walk, which then
	 * reads nothing more. */
	r->chunk_off = off;
	r->chunk_len = k;
	return rl_l7_gather(x->w, RL_H2_CHUNK_AT, off, k, r) == k ? 0 : -1;
}

/* Copies n bytes of the data from off into the window at index at: from
 * the chunk if they are in it (a frame's header block after its header,
 * mostly), else from user memory; false if they could not be. Not copied
 * into the chunk first: a payload not in it starts the data (the rest of
 * a frame), and is copied once either way. */
static __always_inline bool h2_copy(struct rl_h2_walk *x, __u32 at, __u32 off,
				    __u32 n)
{
	const struct rl_l7_runs *r = x->r;
	__u32 rel = off - r->chunk_off;

	if (off < r->chunk_off || off + n > r->chunk_off + r->chunk_len)
		return rl_l7_gather(x->w, at, off, n, x->r) == n;
	barrier_var(at);
	at &= 2 * RL_L7_WINDOW - 1;
	barrier_var(n);
	n &= 2 * RL_L7_WINDOW - 1;
	return !bpf_probe_read_kernel(x->w->b + at, n,
				      x->w->b + RL_H2_CHUNK_AT +
					  (rel & (RL_H2_CHUNK - 1)));
}

/* Adds an item to the record (sent first if the item would not fit):
 * hdr's frame header (NULL: a MORE) and n bytes of the data from off;
 * false if they could not be copied or sent. The caller's last call:
 * what h2_step keeps across calls takes stack, and its frame, in
 * l7_exit's chain, has none to spare on 6.1 (64 bytes). */
static __always_inline bool h2_item(struct rl_h2_walk *x, const __u8 *hdr,
				    __u32 off, __u32 n)
{
	struct rl_h2_item *it;
	__u32 at;

	if (n > RL_H2_MAX_DATA)
		return false;
	if (x->end + RL_H2_ITEM_HEAD + n > RL_H2_RECORD_MAX && !h2_flush(x))
		return false;
	/* In fact at + 16 + n <= RL_H2_RECORD_MAX: the mask, for the
	 * verifier, changes nothing. */
	at = x->end;
	barrier_var(at);
	at &= 2 * RL_L7_WINDOW - 1;
	it = (struct rl_h2_item *)&x->w->b[at];
	it->kind = hdr ? RL_H2_ITEM_FRAME : RL_H2_ITEM_MORE;
	it->truncated = 0;
	it->len = n;
	for (int k = 0; k < RL_H2_FRAME_HEADER; k++)
		it->header[k] = hdr ? hdr[k] : 0;
	it->pad[0] = it->pad[1] = it->pad[2] = 0;
	x->end = at + RL_H2_ITEM_HEAD + n;
	if (n && !h2_copy(x, at + RL_H2_ITEM_HEAD, off, n)) {
		x->end = at; /* not sent: the walk is lost */
		return false;
	}
	return true;
}

/* Whether a frame is forwarded: what carries header blocks, resets
 * streams, or changes how header blocks decode. Not DATA, even one that
 * ends a stream: the agent completes a request at its response head, a
 * gRPC call at its trailers (HEADERS); nginx writes a response's closing
 * DATA in a write of its own, a record (and ~20% of nginx's records)
 * that told nothing. */
static __always_inline bool h2_forwarded(__u8 type)
{
	return type == RL_H2_HEADERS || type == RL_H2_CONTINUATION ||
	       type == RL_H2_PUSH_PROMISE || type == RL_H2_RST_STREAM ||
	       type == RL_H2_SETTINGS;
}

/* One step of the walk: the rest of a forwarded payload, of a skipped
 * one, or the next frame header. */
static long h2_step(__u32 i, void *data)
{
	struct rl_h2_walk *x = (struct rl_h2_walk *)data;
	struct conn *c = x->c;
	__u32 d = x->d & 1, left, n, flen, off;
	__u8 *hdr = c->h2.hdr[d];
	const char *src;
	__u8 have;
	int rel;

	if (x->off >= x->len)
		return 1;
	left = x->len - x->off;
	if (c->h2.more[d]) {
		n = c->h2.more[d] < left ? c->h2.more[d] : left;
		c->h2.more[d] -= n;
		x->off += n;
		if (!h2_item(x, NULL, x->off - n, n))
			goto lost;
		return 0;
	}
	if (c->skip[d]) {
		n = c->skip[d] < left ? c->skip[d] : left;
		c->skip[d] -= n;
		x->off += n;
		return 0;
	}
	have = c->h2.have[d];
	if (have >= RL_H2_FRAME_HEADER)
		goto lost;
	n = RL_H2_FRAME_HEADER - have;
	n = n < left ? n : left;
	rel = h2_chunk(x, x->off, n);
	if (rel < 0)
		goto lost;
	src = x->w->b + RL_H2_CHUNK_AT + (rel & (RL_H2_CHUNK - 1));
	for (int k = 0; k < RL_H2_FRAME_HEADER; k++) {
		__u32 at = have + k;

		/* Or clang drops the mask, the compare above bounding at,
		 * and 6.1's verifier does not see that bound. */
		barrier_var(at);
		if (k < n && at < RL_H2_FRAME_HEADER)
			hdr[at & 15] = src[k];
	}
	x->off += n;
	have += n;
	if (have < RL_H2_FRAME_HEADER) { /* the rest comes next time */
		c->h2.have[d] = have;
		return 1;
	}
	c->h2.have[d] = 0;
	flen = (__u32)hdr[0] << 16 | (__u32)hdr[1] << 8 | hdr[2];
	left = x->len - x->off;
	if (!h2_forwarded(hdr[3])) {
		/* Skipped in this step as far as the data goes: one step per
		 * frame (a read of 100 answers holds 300 frames). */
		n = flen < left ? flen : left;
		x->off += n;
		c->skip[d] = flen - n;
		return 0;
	}
	/* A header block the agent could not decode (over RL_H2_MAX_DATA):
	 * lost now, rather than forwarding what cannot be used. */
	if (flen > RL_H2_MAX_DATA)
		goto lost;
	n = flen < left ? flen : left;
	off = x->off;
	x->off += n;
	c->h2.more[d] = flen - n;
	c->skip[d] = 0;
	if (!h2_item(x, hdr, off, n))
		goto lost;
	return 0;
lost:
	x->lost = 1;
	return 1;
}

/* The labels of the process doing the I/O, and the connection, into the
 * event in the window (as record() labels a request). */
static __always_inline void h2_labels(struct rl_h2_event *ev,
				      const struct conn *c, __u32 d)
{
	const char *comm = bpf_get_current_task_btf()->group_leader->comm;
	struct rl_l7_key *k = &ev->key;

	__builtin_memset(ev, 0, RL_H2_EVENT_HEAD);
	ev->gen = c->gen;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->dir = d ? RL_L7_OUT : RL_L7_IN;
	k->cgroup_id = bpf_get_current_cgroup_id();
	*(__u64 *)&k->comm[0] = *(const __u64 *)&comm[0];
	*(__u64 *)&k->comm[8] = *(const __u64 *)&comm[8];
	k->role = c->role;
	k->tls = c->tls;
	k->port = c->port;
	if (c->role == RL_L7_CLIENT) {
		k->family = c->family;
		__builtin_memcpy(k->addr, c->addr, sizeof(k->addr));
	}
}

/* n bytes moved in direction d (1: written) that cannot be read (sendfile,
 * splice, io_uring): a DATA payload being skipped, or the walk is lost
 * (told at the next read or write). */
static __always_inline void rl_h2_unseen(struct conn *c, __u32 d, __u32 n)
{
	d &= 1;
	if (c->h2.lost)
		return;
	if (!c->h2.more[d] && !c->h2.have[d] && c->skip[d] >= n) {
		c->skip[d] -= n;
		return;
	}
	c->h2.lost = 1;
}

/* For a 101 Switching Protocols at the data's start: rl_h2_upgrade_end
 * of its first RL_H2_UPGRADE_PEEK bytes, copied to the window. Not
 * inlined: off l7_exit's stack, as rl_h2_data. */
static __noinline __u32 rl_h2_upgrade_at(struct rl_l7_scan *ctx)
{
	struct rl_l7_window *w = RL_L7_WINDOW_OF_CALLER();
	__u32 n;

	if (!ctx || !w)
		return 0;
	n = ctx->len < RL_H2_UPGRADE_PEEK ? ctx->len : RL_H2_UPGRADE_PEEK;
	if (rl_l7_gather(w, 0, 0, n, &ctx->r) != n)
		return 0;
	return rl_h2_upgrade_end(w->b, n);
}

/* rl_h2_data's last argument: where the frames start in the data (low
 * 16 bits, RL_H2_OFF_MASK; RL_H2_OFF_UNKNOWN: not found), and how the
 * connection became HTTP/2 there, if it just did. */
#define RL_H2_AT_PREFACE 0x10000 /* if the data starts with the preface */
#define RL_H2_AT_UPGRADE 0x20000 /* after a 101 to h2c */

/* Sends the upgrade event (the head already in the window): the request
 * the 101 answered, the oldest pending one. */
static __always_inline bool h2_upgrade_event(struct rl_h2_walk *x, __u8 method,
					     __u64 start_ns)
{
	struct rl_h2_event *ev = (struct rl_h2_event *)x->w->b;
	struct rl_h2_upgrade *u = (struct rl_h2_upgrade *)ev->data;

	__builtin_memset(u, 0, sizeof(*u));
	u->start_ns = start_ns;
	u->method = method;
	ev->kind = RL_H2_EV_UPGRADE;
	ev->len = sizeof(*u);
	if (bpf_ringbuf_output(&h2_events, ev, RL_H2_EVENT_HEAD + sizeof(*u),
			       h2_wakeup())) {
		RL_COUNT_EVENT(l7_counters, RL_L7_H2_EVENTS_LOST);
		return false;
	}
	return true;
}

/* The data of one read or write on an HTTP/2 connection, its frames from
 * how & RL_H2_OFF_MASK on. With RL_H2_AT_PREFACE, of one that may start
 * with the preface (its first bytes in the window): then 0 if it does
 * not. With it or RL_H2_AT_UPGRADE the connection is HTTP/2 from here,
 * its walk's state replacing the runs'. Not inlined: this stays off the
 * stack of l7_exit, whose chains of calls 6.1 caps at 512 bytes. */
static __noinline int rl_h2_data(struct conn *c, struct rl_l7_scan *ctx,
				 __u32 d, __u32 how)
{
	struct rl_l7_window *w = RL_L7_WINDOW_OF_CALLER();
	struct rl_h2_walk x = {};
	__u64 start_ns = 0;
	__u8 method = 0;

	if (!c || !ctx || !w)
		return 0;
	if ((how & RL_H2_AT_PREFACE) && !rl_h2_preface(w->b, ctx->n))
		return 0;
	if ((how & RL_H2_AT_UPGRADE) && c->count) {
		/* Read before the walk's state overwrites them (a union). */
		method = c->op[c->head & (FIFO - 1)];
		start_ns = c->start_ns[c->head & (FIFO - 1)];
	}
	if (how & (RL_H2_AT_PREFACE | RL_H2_AT_UPGRADE)) {
		c->proto = RL_L7_PROTO_H2;
		c->count = 0;
		c->skip[0] = c->skip[1] = 0;
		__builtin_memset(&c->h2, 0, sizeof(c->h2));
	}
	if (how & RL_H2_AT_UPGRADE) {
		/* The client's preface, which it sends once it read the 101
		 * (RFC 7540 3.5), skipped by count, not compared: what
		 * follows is frames, and frames the agent cannot decode
		 * desync the connection rather than miscount it. */
		c->skip[(d ^ 1) & 1] = RL_H2_PREFACE_LEN;
		/* The 101's end was not found: frames start who knows where. */
		if ((how & RL_H2_OFF_MASK) == RL_H2_OFF_UNKNOWN)
			c->h2.lost = 1;
	}
	h2_labels((struct rl_h2_event *)w->b, c, d);
	x.w = w;
	x.r = &ctx->r;
	/* A socket's cookie outlives a reconnect (tcp_disconnect): whatever
	 * the agent holds for it is another connection's (an upgrade event
	 * says so itself). */
	if (how & RL_H2_AT_PREFACE)
		h2_signal(&x, RL_H2_EV_CLOSED);
	if ((how & RL_H2_AT_UPGRADE) && !h2_upgrade_event(&x, method, start_ns))
		c->h2.lost = 1;
	if (c->h2.lost) {
		/* Told once; if the buffer was full, at the next I/O. */
		if (c->h2.lost == 1 && h2_signal(&x, RL_H2_EV_LOST))
			c->h2.lost = 2;
		return 0;
	}
	x.c = c;
	x.off = how & RL_H2_OFF_MASK;
	x.len = ctx->len;
	x.d = d;
	x.end = RL_H2_EVENT_HEAD;
	/* A frame takes one step, or two when its header or payload
	 * straddles the end of the data. */
	bpf_loop(2 * RL_H2_MAX_FRAMES, h2_step, &x, 0);
	/* What was walked before a loss is sent: those frames are good. */
	if (!h2_flush(&x) || x.lost || x.off < x.len) {
		c->h2.lost = 1;
		if (h2_signal(&x, RL_H2_EV_LOST))
			c->h2.lost = 2;
	}
	return 1;
}

#endif /* REDLINE_BPF_L7_H2_BPF_H */
