/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * MySQL/MariaDB label sets, shared by the classifier (bpf/l7_mysql.bpf.h)
 * and the agent (agent/model/request_protocols.cc). Plain C.
 *
 * A COM_QUERY's command is its statement's first SQL keyword, from the
 * same list as PostgreSQL's (bpf/l7_pg.h: one vocabulary of SQL, so the
 * codes below RL_PG_CMD_COUNT are PostgreSQL's); so is a prepared
 * statement's, when its COM_STMT_PREPARE was seen. The protocol's other
 * commands follow: "prepare" and "execute" (a statement prepared before
 * redline started) are in the SQL list already.
 */
#ifndef REDLINE_BPF_L7_MYSQL_H
#define REDLINE_BPF_L7_MYSQL_H

#include "l7_pg.h"

/* The protocol's own commands, as exported (after the SQL ones). */
#define RL_MY_COMMANDS(X)                                                      \
	X(ping)                                                                \
	X(init_db)                                                             \
	X(statistics)                                                          \
	X(change_user)                                                         \
	X(field_list)                                                          \
	X(set_option)                                                          \
	X(process_kill)                                                        \
	X(reset_connection)

enum rl_my_command {
	RL_MY_CMD_FIRST = RL_PG_CMD_COUNT - 1,
#define RL_MY_CMD_ENUM(name) RL_MY_CMD_##name,
	RL_MY_COMMANDS(RL_MY_CMD_ENUM)
#undef RL_MY_CMD_ENUM
	    RL_MY_CMD_COUNT,
};

/* SQLSTATE classes a MySQL or MariaDB ERR packet carries (their manuals'
 * error references: most server errors are HY000, 42000 or 23000), in
 * order. Another class is "error". */
#define RL_MY_CLASSES(X)                                                       \
	X(c08, "08")                                                           \
	X(c0a, "0A")                                                           \
	X(c21, "21")                                                           \
	X(c22, "22")                                                           \
	X(c23, "23")                                                           \
	X(c24, "24")                                                           \
	X(c25, "25")                                                           \
	X(c28, "28")                                                           \
	X(c3d, "3D")                                                           \
	X(c40, "40")                                                           \
	X(c42, "42")                                                           \
	X(c44, "44")                                                           \
	X(c70, "70")                                                           \
	X(chy, "HY")                                                           \
	X(cxa, "XA")

/* Outcome codes: ok, error (a class not listed), then the classes;
 * "unknown" for a response the walk lost its place in. */
enum rl_my_outcome {
	RL_MY_OUT_UNKNOWN = 0,
	RL_MY_OUT_OK = 1,
	RL_MY_OUT_ERROR = 2,
#define RL_MY_OUT_ENUM(name, code) RL_MY_OUT_##name,
	RL_MY_CLASSES(RL_MY_OUT_ENUM)
#undef RL_MY_OUT_ENUM
	    RL_MY_OUT_COUNT,
};

#endif /* REDLINE_BPF_L7_MYSQL_H */
