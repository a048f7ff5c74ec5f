/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Words of a protocol's fixed vocabulary (Redis commands and error
 * prefixes, SQL's first keywords), found in a read or write without a
 * string compare per entry: a table of packed words in alphabetical
 * order, searched by halves in a bpf_loop. A classifier builds its tables
 * with RL_PACK8 from its X-macro list and one RL_L7_SEARCH_STEP per table,
 * then asks rl_l7_find. Case-insensitive: letters are folded to lower
 * case on the wire and in the table.
 */
#ifndef REDLINE_BPF_L7_WORDS_BPF_H
#define REDLINE_BPF_L7_WORDS_BPF_H

#include "l7_classifier.bpf.h"

#define RL_L7_WORD_MAX 16 /* longest word a table may hold */

/* Names are matched as two big-endian words: 16 bytes, the first one
 * most significant, zero-padded, so the lists' alphabetical order is the
 * words' numeric order and a binary search finds a name in 8 steps. */
struct rl_l7_word {
	__u64 w0; /* bytes 0..7 */
	__u64 w1; /* bytes 8..15 */
	__u8 code;
	__u8 pad[7];
};

/* Byte k of a string literal at its place in the words (clang folds a
 * literal's subscript, so the tables built from it are constants). */
#define RL_CH(s, k)                                                            \
	((k) + 1 < sizeof(s) ? (__u64)(__u8)(s)[(k) + 1 < sizeof(s) ? (k) : 0] \
				   << (8 * (7 - ((k)&7)))                      \
			     : 0)
#define RL_PACK8(s, o)                                                         \
	(RL_CH(s, (o) + 0) | RL_CH(s, (o) + 1) | RL_CH(s, (o) + 2) |           \
	 RL_CH(s, (o) + 3) | RL_CH(s, (o) + 4) | RL_CH(s, (o) + 5) |           \
	 RL_CH(s, (o) + 6) | RL_CH(s, (o) + 7))

/* Ditto, each letter OR-ed with 0x20 (lower case), for a list written in
 * upper case that is to compare case-insensitively (rl_l7_find folds the
 * wire's bytes the same way). */
#define RL_LC(s, k)                                                            \
	(RL_CH(s, k) ? RL_CH(s, k) | (0x20ULL << (8 * (7 - ((k)&7)))) : 0)
#define RL_PACK8_LC(s, o)                                                      \
	(RL_LC(s, (o) + 0) | RL_LC(s, (o) + 1) | RL_LC(s, (o) + 2) |           \
	 RL_LC(s, (o) + 3) | RL_LC(s, (o) + 4) | RL_LC(s, (o) + 5) |           \
	 RL_LC(s, (o) + 6) | RL_LC(s, (o) + 7))

/* The len bytes at b[off] as two words, every byte OR-ed with fold (0x20:
 * ASCII letters to lower case; the lists hold letters only, and no other
 * byte becomes a letter). Branch-free: the verifier walks it once. */
static __always_inline void rl_l7_pack(const char *b, __u32 off, __u32 len,
				       __u8 fold, __u64 *w0, __u64 *w1)
{
	__u64 x = 0, y = 0;

#pragma unroll
	for (__u32 i = 0; i < 8; i++) {
		x = x << 8 | (__u8)(RL_WAT(b, off + i) | fold);
		y = y << 8 | (__u8)(RL_WAT(b, off + 8 + i) | fold);
	}
	if (len < 8) {
		x &= ~0ULL << (8 * (8 - len));
		y = 0;
	} else if (len < 16) {
		y &= len == 8 ? 0 : ~0ULL << (8 * (16 - len));
	}
	*w0 = x;
	*w1 = y;
}

#define RL_L7_N(t) (sizeof(t) / sizeof((t)[0]))

struct rl_l7_search {
	__u64 w0, w1;
	__u32 lo, hi;
	__u8 code;
};

/* One step of a binary search in table t (a bpf_loop callback): verified
 * once with the bounds unknown, where an open loop over a constant table
 * would be walked by the verifier along every path of the search tree,
 * each ending in a different constant that it then carries through the
 * rest of the program. One function per table: the bound is a constant. */
#define RL_L7_SEARCH_STEP(fn, t)                                               \
	static long fn(__u32 i, void *data)                                    \
	{                                                                      \
		struct rl_l7_search *x = (struct rl_l7_search *)data;          \
		__u32 mid = (x->lo + x->hi) / 2;                               \
		const struct rl_l7_word *e;                                    \
                                                                               \
		barrier_var(mid);                                              \
		if (x->lo >= x->hi || mid >= RL_L7_N(t))                       \
			return 1;                                              \
		e = &(t)[mid];                                                 \
		if (x->w0 == e->w0 && x->w1 == e->w1) {                        \
			x->code = e->code;                                     \
			return 1;                                              \
		}                                                              \
		if (x->w0 < e->w0 || (x->w0 == e->w0 && x->w1 < e->w1))        \
			x->hi = mid;                                           \
		else                                                           \
			x->lo = mid + 1;                                       \
		return 0;                                                      \
	}

/* The code of the len-byte name at b[off] in the sorted table searched by
 * step, of cnt names, or dflt. */
static __always_inline __u8 rl_l7_find(long (*step)(__u32, void *), __u32 cnt,
				       const char *b, __u32 off, __u32 len,
				       __u8 dflt)
{
	struct rl_l7_search x = {.hi = cnt, .code = dflt};

	if (!len || len > RL_L7_WORD_MAX)
		return dflt;
	rl_l7_pack(b, off, len, 0x20, &x.w0, &x.w1);
	bpf_loop(9, step, &x, 0); /* 2^9 > any table */
	return x.code;
}

#endif /* REDLINE_BPF_L7_WORDS_BPF_H */
