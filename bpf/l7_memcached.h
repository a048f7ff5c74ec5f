/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Memcached (text protocol) label sets, shared by the classifier
 * (bpf/l7_memcached.bpf.h) and the agent (agent/model/request_protocols.cc):
 * one list each, so a code means the same on both sides. Plain C.
 *
 * Commands are the first word of a request line, as memcached's own
 * `stats` names their counters (cmd_get, cmd_set, ...); the list is in
 * alphabetical order (the classifier searches it by halves; a test checks
 * the order). Anything else is not a request of this protocol.
 */
#ifndef REDLINE_BPF_L7_MEMCACHED_H
#define REDLINE_BPF_L7_MEMCACHED_H

#define RL_MC_COMMANDS(X)                                                      \
	X(add)                                                                 \
	X(append)                                                              \
	X(cas)                                                                 \
	X(decr)                                                                \
	X(delete)                                                              \
	X(flush_all)                                                           \
	X(gat)                                                                 \
	X(gats)                                                                \
	X(get)                                                                 \
	X(gets)                                                                \
	X(incr)                                                                \
	X(prepend)                                                             \
	X(replace)                                                             \
	X(set)                                                                 \
	X(stats)                                                               \
	X(touch)                                                               \
	X(verbosity)                                                           \
	X(version)

enum rl_mc_command {
	RL_MC_CMD_UNKNOWN = 0,
#define RL_MC_CMD_ENUM(name) RL_MC_CMD_##name,
	RL_MC_COMMANDS(RL_MC_CMD_ENUM)
#undef RL_MC_CMD_ENUM
	    RL_MC_CMD_COUNT,
};

/* Outcomes: ok; miss (a get that found no key, or NOT_FOUND); not_stored
 * and exists (a storage command's conditions); error, client_error and
 * server_error (ERROR, CLIENT_ERROR, SERVER_ERROR). */
#define RL_MC_OUTCOMES(X)                                                      \
	X(ok)                                                                  \
	X(miss)                                                                \
	X(not_stored)                                                          \
	X(exists)                                                              \
	X(error)                                                               \
	X(client_error)                                                        \
	X(server_error)

enum rl_mc_outcome {
	RL_MC_OUT_UNKNOWN = 0,
#define RL_MC_OUT_ENUM(name) RL_MC_OUT_##name,
	RL_MC_OUTCOMES(RL_MC_OUT_ENUM)
#undef RL_MC_OUT_ENUM
	    RL_MC_OUT_COUNT,
};

#endif /* REDLINE_BPF_L7_MEMCACHED_H */
