/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Why a kernel map update failed: the errno label of
 * redline_bpf_map_update_errors_total. Shared by every concern and the
 * agent. Each concern keeps a per-CPU array of (map, kind) counters,
 * indexed map * RL_UPDATE_KINDS + kind.
 */
#ifndef REDLINE_BPF_MAP_ERRORS_H
#define REDLINE_BPF_MAP_ERRORS_H

enum rl_update_error {
	RL_UPDATE_E2BIG = 0,  /* hash map full: max_entries reached */
	RL_UPDATE_ENOMEM = 1, /* the kernel could not allocate the entry */
	RL_UPDATE_EBUSY = 2,  /* bucket lock held: re-entered (NMI, nesting) */
	RL_UPDATE_ENOENT = 3, /* inserted by another CPU, then removed by the
			       * agent before this CPU could look it up */
	RL_UPDATE_OTHER = 4,  /* any other code, or a helper that returns
			       * none (task storage get: NULL) */
	RL_UPDATE_KINDS = 5,
};

#endif /* REDLINE_BPF_MAP_ERRORS_H */
