/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a task switched in was doing off the CPU: its run-queue wait and,
 * when it had blocked, the rest of its time away by reason
 * (bpf/sched.bpf.c includes it after the maps, entry_of() and task_of();
 * BPF side only).
 */
#ifndef REDLINE_BPF_SCHED_WAIT_BPF_H
#define REDLINE_BPF_SCHED_WAIT_BPF_H

/* Folds next's time off the CPU: the run-queue wait that ends now
 * (waited: one, of wait ns) and, when it had blocked, the rest of its time
 * away since its switch-out (at t, switch_clock()), by reason. */
static __always_inline void account_in(struct task_struct *next,
				       struct sched_task *st, bool waited,
				       __u64 wait, __u64 t)
{
	__u64 away = 0, start = 0;
	struct rl_sched_val *v;
	/* 64-bit: see rl_hist_slot() (bounds on a 32-bit copy are lost). */
	__u64 reason = 0;

	if (st && st->off_start) {
		start = st->off_start;
		reason = st->off_reason;
		st->off_start = 0;
		away = t > start ? t - start : 0;
	}
	if (start && reason == RL_OFF_QUEUED) {
		if (!waited) { /* not stamped by the kernel: all of it */
			waited = true;
			wait = away;
		}
		start = 0;
	}
	if (!start && !waited)
		return;
	v = entry_of(next);
	if (!v)
		return;
	if (start && reason < RL_OFF_REASONS)
		__sync_fetch_and_add(&v->off_ns[reason],
				     away > wait ? away - wait : 0);
	if (!waited)
		return;
	__sync_fetch_and_add(&v->rq_sum_ns, wait);
	__sync_fetch_and_add(
		&v->rq_hist[rl_hist_slot(wait)], 1);
}

/* The wait that ends as next arrives, as run_delay counts it: the kernel
 * adds to run_delay at arrival (now - last_queued, right after this event)
 * and also when a queued task is dequeued to migrate, after which
 * last_queued restarts on the new CPU. The run_delay counted so far (at
 * the last arrival, or when it last blocked) catches those earlier parts;
 * for a task older than the agent first seen arriving, only the last
 * part is known to be new. */
static __always_inline __u64 kernel_wait(struct task_struct *next,
					 struct sched_task *st, __u64 queued,
					 __u64 now)
{
	__u64 wait = now > queued ? now - queued : 0;
	__u64 total = next->sched_info.run_delay + wait;

	if (!st)
		return wait;
	if (st->delay_known) {
		wait = total > st->delay_seen ? total - st->delay_seen : 0;
	} else if (next->start_time > loaded_ns) {
		wait = total; /* a new task: every wait since fork */
	}
	st->delay_seen = total;
	st->delay_known = 1;
	return wait;
}

#endif /* REDLINE_BPF_SCHED_WAIT_BPF_H */
