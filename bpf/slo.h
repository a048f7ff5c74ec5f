/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * SLO latency thresholds, shared by the concerns that count good events in
 * the kernel (syscalls, l7). The agent writes the thresholds (and, for
 * syscalls, which syscalls each applies to) into the programs' .bss at any
 * time, without reloading: a slot with threshold 0 is off. Each completed
 * event with a duration <= a slot's threshold adds 1 to that slot's
 * `within` counter of its entry, so "good" is exact at any threshold, not
 * read off histogram buckets.
 */
#ifndef REDLINE_BPF_SLO_H
#define REDLINE_BPF_SLO_H

#define RL_SLO_SLOTS 4	   /* distinct thresholds per concern at once */
#define RL_SLO_MAX_NR 512 /* syscall numbers a mask covers */

#endif /* REDLINE_BPF_SLO_H */
