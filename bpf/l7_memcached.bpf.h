/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Memcached classifier, text protocol (the contract is
 * bpf/l7_classifier.bpf.h, the row in bpf/l7_proto.bpf.h).
 *
 * A request is a command line (bpf/l7_memcached.h's list: get, set,
 * delete, incr...); a storage command's data block follows it (its length
 * is the line's fifth token). A command ending in "noreply" gets no answer
 * and is not a request here: queued, it would take the next one's answer.
 * Multi-key gets are one request. A response is the line that answers: a
 * get's ends at END, ok if a VALUE came before it (its data skipped by its
 * length), else miss; STORED, DELETED, TOUCHED, OK, a number: ok;
 * NOT_FOUND: miss; NOT_STORED, EXISTS; ERROR, CLIENT_ERROR, SERVER_ERROR.
 * Reads and writes are walked line by line from user memory, so pipelined
 * commands and their answers are exact. The meta protocol (mg, ms, ...)
 * is not counted: its quiet mode leaves some commands unanswered; its
 * lines and data are stepped over.
 *
 * Only the command and the outcome leave the kernel; keys and values
 * never do.
 */
#ifndef REDLINE_BPF_L7_MEMCACHED_BPF_H
#define REDLINE_BPF_L7_MEMCACHED_BPF_H

#include "l7_classifier.bpf.h"
#include "l7_memcached.h"
#include "l7_words.bpf.h"

#define RL_MC_LINES 128	   /* lines walked in one read or write */
#define RL_MC_LINE_MAX 256 /* a line followed (a key is at most 250) */
#define RL_MC_AT 1024	   /* where in the window a line is read to */
#define RL_MC_DATA_MAX (1 << 30)
#define RL_MC_NONE 0xff /* no token wanted */

/* Response state carried from one read to the next (rl_l7_runs.state):
 * a get's VALUE came (its END may be in a later read), stats lines. */
#define RL_MC_HIT 1
#define RL_MC_STATS 2

#define RL_MC_CMD_ROW(name)                                                    \
	{RL_PACK8_LC(#name, 0), RL_PACK8_LC(#name, 8), RL_MC_CMD_##name, {0}},
static const struct rl_l7_word mc_commands[] = {RL_MC_COMMANDS(RL_MC_CMD_ROW)};
#undef RL_MC_CMD_ROW

/* The first word of a response line, and the meta commands' lines. */
enum mc_word {
	MC_W_NONE = 0,
	MC_W_VALUE,	 /* VALUE <key> <flags> <bytes>: data follows */
	MC_W_END,	 /* a get's (stats') end */
	MC_W_STAT,	 /* a stats line */
	MC_W_OK,	 /* STORED, DELETED, TOUCHED, OK, VERSION, RESET */
	MC_W_NOT_STORED, /* NOT_STORED */
	MC_W_EXISTS,	 /* EXISTS */
	MC_W_MISS,	 /* NOT_FOUND */
	MC_W_ERROR,	 /* ERROR */
	MC_W_CLIENT_ERROR,
	MC_W_SERVER_ERROR,
	MC_W_META,     /* HD EN NF NS EX MN; mg md ma mn me: stepped over */
	MC_W_META_VA,  /* VA <bytes>: meta data follows */
	MC_W_META_SET, /* ms <key> <bytes>: meta data follows */
};

/* In the order of their folded bytes ('_' folds to 0x7f; a test checks
 * it). */
#define RL_MC_WORD(s, code) {RL_PACK8_LC(s, 0), RL_PACK8_LC(s, 8), code, {0}},
/* clang-format off */
static const struct rl_l7_word mc_words[] = {
	RL_MC_WORD("client_error", MC_W_CLIENT_ERROR)
	RL_MC_WORD("deleted", MC_W_OK)
	RL_MC_WORD("en", MC_W_META)
	RL_MC_WORD("end", MC_W_END)
	RL_MC_WORD("error", MC_W_ERROR)
	RL_MC_WORD("ex", MC_W_META)
	RL_MC_WORD("exists", MC_W_EXISTS)
	RL_MC_WORD("hd", MC_W_META)
	RL_MC_WORD("ma", MC_W_META)
	RL_MC_WORD("md", MC_W_META)
	RL_MC_WORD("me", MC_W_META)
	RL_MC_WORD("mg", MC_W_META)
	RL_MC_WORD("mn", MC_W_META)
	RL_MC_WORD("ms", MC_W_META_SET)
	RL_MC_WORD("nf", MC_W_META)
	RL_MC_WORD("not_found", MC_W_MISS)
	RL_MC_WORD("not_stored", MC_W_NOT_STORED)
	RL_MC_WORD("ns", MC_W_META)
	RL_MC_WORD("ok", MC_W_OK)
	RL_MC_WORD("reset", MC_W_OK)
	RL_MC_WORD("server_error", MC_W_SERVER_ERROR)
	RL_MC_WORD("stat", MC_W_STAT)
	RL_MC_WORD("stored", MC_W_OK)
	RL_MC_WORD("touched", MC_W_OK)
	RL_MC_WORD("va", MC_W_META_VA)
	RL_MC_WORD("value", MC_W_VALUE)
	RL_MC_WORD("version", MC_W_OK)
};
/* clang-format on */
#undef RL_MC_WORD

RL_L7_SEARCH_STEP(mc_command_step, mc_commands)
RL_L7_SEARCH_STEP(mc_word_step, mc_words)

#include "l7_memcached_walk.bpf.h"

#endif /* REDLINE_BPF_L7_MEMCACHED_BPF_H */
