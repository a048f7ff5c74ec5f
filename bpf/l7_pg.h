/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * PostgreSQL label sets, shared by the classifier (bpf/l7_pg.bpf.h) and
 * the agent (agent/model/request_protocols.cc): one list each, so a code
 * means the same on both sides. Plain C, no kernel types.
 *
 * A request's command is its statement's first SQL keyword, never more of
 * the text; synonyms are folded (END is COMMIT, START TRANSACTION is
 * BEGIN, ABORT is ROLLBACK, TABLE and VALUES are queries like SELECT), and
 * any other keyword is "other": the label set stays bounded whatever a
 * client sends. Two further commands are the protocol's own, not SQL:
 * "parse", a round trip that prepares a statement without running it
 * (Parse, Sync), and "unknown", a request whose start was not seen.
 */
#ifndef REDLINE_BPF_L7_PG_H
#define REDLINE_BPF_L7_PG_H

/* The commands, as exported (lowercase). */
#define RL_PG_COMMANDS(X)                                                      \
	X(alter)                                                               \
	X(analyze)                                                             \
	X(begin)                                                               \
	X(call)                                                                \
	X(close)                                                               \
	X(commit)                                                              \
	X(copy)                                                                \
	X(create)                                                              \
	X(deallocate)                                                          \
	X(declare)                                                             \
	X(delete)                                                              \
	X(discard)                                                             \
	X(do)                                                                  \
	X(drop)                                                                \
	X(execute)                                                             \
	X(explain)                                                             \
	X(fetch)                                                               \
	X(grant)                                                               \
	X(insert)                                                              \
	X(listen)                                                              \
	X(lock)                                                                \
	X(merge)                                                               \
	X(notify)                                                              \
	X(prepare)                                                             \
	X(release)                                                             \
	X(reset)                                                               \
	X(revoke)                                                              \
	X(rollback)                                                            \
	X(savepoint)                                                           \
	X(select)                                                              \
	X(set)                                                                 \
	X(show)                                                                \
	X(truncate)                                                            \
	X(update)                                                              \
	X(vacuum)                                                              \
	X(with)

/* First keywords and the command each is, in alphabetical order (the
 * classifier searches them by halves; a test checks the order). */
#define RL_PG_KEYWORDS(X)                                                      \
	X(abort, rollback)                                                     \
	X(alter, alter)                                                        \
	X(analyze, analyze)                                                    \
	X(begin, begin)                                                        \
	X(call, call)                                                          \
	X(close, close)                                                        \
	X(commit, commit)                                                      \
	X(copy, copy)                                                          \
	X(create, create)                                                      \
	X(deallocate, deallocate)                                              \
	X(declare, declare)                                                    \
	X(delete, delete)                                                      \
	X(discard, discard)                                                    \
	X(do, do)                                                              \
	X(drop, drop)                                                          \
	X(end, commit)                                                         \
	X(execute, execute)                                                    \
	X(explain, explain)                                                    \
	X(fetch, fetch)                                                        \
	X(grant, grant)                                                        \
	X(insert, insert)                                                      \
	X(listen, listen)                                                      \
	X(lock, lock)                                                          \
	X(merge, merge)                                                        \
	X(notify, notify)                                                      \
	X(prepare, prepare)                                                    \
	X(release, release)                                                    \
	X(reset, reset)                                                        \
	X(revoke, revoke)                                                      \
	X(rollback, rollback)                                                  \
	X(savepoint, savepoint)                                                \
	X(select, select)                                                      \
	X(set, set)                                                            \
	X(show, show)                                                          \
	X(start, begin)                                                        \
	X(table, select)                                                       \
	X(truncate, truncate)                                                  \
	X(update, update)                                                      \
	X(vacuum, vacuum)                                                      \
	X(values, select)                                                      \
	X(with, with)

/* Command codes: 0 (start not seen), other, parse, then the list. Below
 * 64: the classifier keeps one in a byte with two flags. */
enum rl_pg_command {
	RL_PG_CMD_UNKNOWN = 0,
	RL_PG_CMD_OTHER = 1,
	RL_PG_CMD_PARSE = 2,
#define RL_PG_CMD_ENUM(name) RL_PG_CMD_##name,
	RL_PG_COMMANDS(RL_PG_CMD_ENUM)
#undef RL_PG_CMD_ENUM
	    RL_PG_CMD_COUNT,
};

/* SQLSTATE classes of the errors PostgreSQL 15 defines (Appendix A of its
 * manual; 00, 01 and 02 are not errors), in order. An ErrorResponse's
 * code outside the list is "error". */
#define RL_PG_CLASSES(X)                                                       \
	X(c03, "03")                                                           \
	X(c08, "08")                                                           \
	X(c09, "09")                                                           \
	X(c0a, "0A")                                                           \
	X(c0b, "0B")                                                           \
	X(c0f, "0F")                                                           \
	X(c0l, "0L")                                                           \
	X(c0p, "0P")                                                           \
	X(c0z, "0Z")                                                           \
	X(c20, "20")                                                           \
	X(c21, "21")                                                           \
	X(c22, "22")                                                           \
	X(c23, "23")                                                           \
	X(c24, "24")                                                           \
	X(c25, "25")                                                           \
	X(c26, "26")                                                           \
	X(c27, "27")                                                           \
	X(c28, "28")                                                           \
	X(c2b, "2B")                                                           \
	X(c2d, "2D")                                                           \
	X(c2f, "2F")                                                           \
	X(c34, "34")                                                           \
	X(c38, "38")                                                           \
	X(c39, "39")                                                           \
	X(c3b, "3B")                                                           \
	X(c3d, "3D")                                                           \
	X(c3f, "3F")                                                           \
	X(c40, "40")                                                           \
	X(c42, "42")                                                           \
	X(c44, "44")                                                           \
	X(c53, "53")                                                           \
	X(c54, "54")                                                           \
	X(c55, "55")                                                           \
	X(c57, "57")                                                           \
	X(c58, "58")                                                           \
	X(c72, "72")                                                           \
	X(cf0, "F0")                                                           \
	X(chv, "HV")                                                           \
	X(cp0, "P0")                                                           \
	X(cxx, "XX")

/* Outcome codes: ok (ReadyForQuery with no error before it), error (a
 * class not listed), then the classes. Below 128: the classifier keeps
 * one in a byte with a flag. */
enum rl_pg_outcome {
	RL_PG_OUT_UNKNOWN = 0,
	RL_PG_OUT_OK = 1,
	RL_PG_OUT_ERROR = 2,
#define RL_PG_OUT_ENUM(name, code) RL_PG_OUT_##name,
	RL_PG_CLASSES(RL_PG_OUT_ENUM)
#undef RL_PG_OUT_ENUM
	    RL_PG_OUT_COUNT,
};

#endif /* REDLINE_BPF_L7_PG_H */
