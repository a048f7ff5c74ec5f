/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prepared statements' commands, per connection, for the protocols that
 * name a statement once and run it by reference later: PostgreSQL (the
 * statement name's hash) and MySQL (the statement id the server gave).
 * A walk may keep a few bytes of its own there too, under an id no
 * statement has (MySQL: a packet header split across reads).
 * An LRU map: an update never fails for want of room, and a connection's
 * entries age out after it closes (its socket cookie is never reused).
 * tests/fuzz/l7_classifier_shim.h stands in for it in user space.
 */
#ifndef REDLINE_BPF_L7_STMTS_BPF_H
#define REDLINE_BPF_L7_STMTS_BPF_H

#ifndef RL_L7_USER_SPACE
struct rl_l7_stmt_key {
	__u64 conn; /* the socket's cookie */
	__u32 id;   /* the protocol's name for the statement */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rl_l7_stmt_key);
	__type(value, __u32);
} l7_stmts SEC(".maps");

static __always_inline void rl_l7_stmt_put(__u64 conn, __u32 id, __u32 v)
{
	struct rl_l7_stmt_key k = {.conn = conn, .id = id};

	bpf_map_update_elem(&l7_stmts, &k, &v, BPF_ANY);
}

/* The command of statement id on conn, 0 if not known. */
static __always_inline __u32 rl_l7_stmt_get(__u64 conn, __u32 id)
{
	struct rl_l7_stmt_key k = {.conn = conn, .id = id};
	__u32 *v = bpf_map_lookup_elem(&l7_stmts, &k);

	return v ? *v : 0;
}
#endif

#endif /* REDLINE_BPF_L7_STMTS_BPF_H */
