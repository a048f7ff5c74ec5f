/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2, shared by bpf/l7_h2.bpf.h and the agent (probes/h2_events): the
 * kernel finds a connection's frames and forwards those that carry or end
 * requests through the h2_events ring buffer; the agent decodes their
 * header blocks (HPACK needs per-connection state a BPF program cannot
 * keep) and counts the requests (agent/h2).
 *
 * Plain C, fixed-size types, explicit padding: the agent static_asserts
 * the layout.
 */
#ifndef REDLINE_BPF_L7_H2_H
#define REDLINE_BPF_L7_H2_H

#include "l7.h"

/* The client connection preface (RFC 9113 3.4), which names the protocol. */
#define RL_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define RL_H2_PREFACE_LEN 24
#define RL_H2_FRAME_HEADER 9

/* Payload bytes forwarded per frame: a header block longer than this
 * cannot be decoded (its connection is then given up by the agent). */
#define RL_H2_MAX_DATA 1024
/* Frames walked per read or write; past them the connection is lost (a
 * loop bound: only frames present cost anything). */
#define RL_H2_MAX_FRAMES 1024

/* Frame types (RFC 9113 6). */
#define RL_H2_DATA 0
#define RL_H2_HEADERS 1
#define RL_H2_RST_STREAM 3
#define RL_H2_SETTINGS 4
#define RL_H2_PUSH_PROMISE 5
#define RL_H2_CONTINUATION 9
#define RL_H2_END_STREAM 0x1

/* Kinds of ring buffer records. 1 and 2 are not records (they were, one
 * frame each, before frames were batched): a kernel object of such a
 * build sends nothing this agent takes for frames. */
enum rl_h2_kind {
	RL_H2_EV_LOST = 3,    /* frames of this connection were not seen:
			       * walk cut short, or events lost */
	RL_H2_EV_CLOSED = 4,  /* the connection is gone */
	RL_H2_EV_UPGRADE = 5, /* HTTP/2 from here on after an h2c upgrade
			       * (RFC 7540 3.2): data holds a struct
			       * rl_h2_upgrade, the upgrade request, which
			       * is stream 1; whatever the agent held for
			       * the socket is another connection's */
	RL_H2_EV_FRAMES = 6,  /* frames of one read or write, in order:
			       * data holds items, each a struct
			       * rl_h2_item and its len payload bytes */
};

/* Kinds of items in an RL_H2_EV_FRAMES record. */
enum rl_h2_item_kind {
	RL_H2_ITEM_FRAME = 1, /* a frame header, and its payload's first len
			       * bytes (those in this read or write) */
	RL_H2_ITEM_MORE = 2,  /* more of the last frame's payload */
};

struct rl_h2_item {
	__u8 kind;			 /* enum rl_h2_item_kind */
	__u8 truncated;			 /* FRAME: the payload is longer
					  * than forwarded */
	__u16 len;			 /* payload bytes that follow */
	__u8 header[RL_H2_FRAME_HEADER]; /* FRAME: as on the wire */
	__u8 pad[3];
};

/* Items follow one another unaligned: the agent copies each head out. */
#define RL_H2_ITEM_HEAD 16

/* The HTTP/1.1 request a 101 Switching Protocols to h2c answered. Its
 * HTTP2-Settings header is not decoded: see agent/h2/README.md. */
struct rl_h2_upgrade {
	__u64 start_ns; /* when it was read or written, 0 if not seen */
	__u8 method;	/* enum rl_http_method, 0 if not seen */
	__u8 pad[7];
};

/* A record's bytes at most: a read or write whose items do not fit sends
 * more than one. One item of RL_H2_MAX_DATA bytes fits in any. */
#define RL_H2_RECORD_MAX 1536

struct rl_h2_event {
	__u64 sk;    /* CLOSED: the socket (struct sock address); else 0 */
	__u64 gen;   /* the socket's cookie: the connection, for good */
	__u64 ts_ns; /* bpf_ktime_get_ns at the read or write */
	/* Labels of the process doing the I/O (proto, op, outcome 0): the
	 * agent counts requests under these. */
	struct rl_l7_key key;
	__u8 kind; /* enum rl_h2_kind */
	__u8 dir;  /* RL_L7_IN: read by this socket, RL_L7_OUT: written */
	__u16 len; /* bytes of data that follow */
	__u8 pad[4];
	__u8 data[RL_H2_RECORD_MAX - 80];
};

#define RL_H2_EVENT_HEAD 80

/* Outcomes of the requests the agent writes into l7_stats. HTTP/2
 * (RL_L7_PROTO_H2): the status class, 1..5 for 1xx..5xx, as HTTP/1's, or
 * reset (RST_STREAM before a response). gRPC (RL_L7_PROTO_GRPC, op: the
 * agent's method id): the grpc-status code + 1, or reset; 0 when the
 * stream ended with neither. */
#define RL_H2_OUT_RESET 6

#define RL_GRPC_CODES(X)                                                       \
	X(OK, 0)                                                               \
	X(CANCELLED, 1)                                                        \
	X(UNKNOWN, 2)                                                          \
	X(INVALID_ARGUMENT, 3)                                                 \
	X(DEADLINE_EXCEEDED, 4)                                                \
	X(NOT_FOUND, 5)                                                        \
	X(ALREADY_EXISTS, 6)                                                   \
	X(PERMISSION_DENIED, 7)                                                \
	X(RESOURCE_EXHAUSTED, 8)                                               \
	X(FAILED_PRECONDITION, 9)                                              \
	X(ABORTED, 10)                                                         \
	X(OUT_OF_RANGE, 11)                                                    \
	X(UNIMPLEMENTED, 12)                                                   \
	X(INTERNAL, 13)                                                        \
	X(UNAVAILABLE, 14)                                                     \
	X(DATA_LOSS, 15)                                                       \
	X(UNAUTHENTICATED, 16)

#define RL_GRPC_OUT_RESET 18 /* 1 + the last code + 1 */
#define RL_GRPC_OUT_COUNT 19 /* outcome codes: 0 to RL_GRPC_OUT_RESET */

/* A connection's walk, per direction (0: read, 1: written). */
struct rl_h2_state {
	__u32 more[2]; /* payload bytes of the current frame still to
			* forward (then skip[] of struct conn: the rest) */
	__u8 have[2];  /* bytes of a frame header held in hdr */
	__u8 lost;     /* 1: lost, the agent not told yet; 2: told */
	__u8 pad;
	__u8 hdr[2][RL_H2_FRAME_HEADER + 3];
};

#endif /* REDLINE_BPF_L7_H2_H */
