// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-process USE from the scheduler: on-CPU time, run-queue latency and
 * voluntary/involuntary context switches, aggregated in the kernel.
 *
 * A task waits on a run queue from its wakeup or from the moment it is
 * switched out while still runnable (preempted, or yielded), until it is
 * switched in. Everything happens in sched_switch where the kernel keeps
 * the stamps we need; task-local storage (freed with the task) covers the
 * rest. Idle (pid 0) is never counted.
 */
#include "common.bpf.h"
#include "sched.h"
#include "sched_offcpu.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PF_EXITING 0x00000004

/* Only for tasks the kernel does not account for us (see below). */
struct sched_task {
	__u64 runtime_in; /* se.sum_exec_runtime at switch-in (non-CFS) */
	__u64 wait_start; /* runnable since; 0 if not waiting (no sched_info) */
	__u64 off_start;  /* blocked at (switch_clock()); 0: not blocked */
	__u64 delay_seen; /* run_delay counted up to (if delay_known) */
	__u32 running;    /* seen switched in */
	__u32 off_reason; /* rl_off_reason, or RL_OFF_QUEUED */
	struct fd_memo fd_memo;
	__u32 delay_known;
	__u32 pad;
};

/* CLOCK_MONOTONIC when the agent loaded us (task start_time's clock): a
 * task started later has all of its run_delay to count. */
const volatile __u64 loaded_ns;

/* Preempted while not TASK_RUNNING (between setting its state and
 * schedule()): still queued, but sched_info does not stamp it. */
#define RL_OFF_QUEUED RL_OFF_REASONS

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sched_task);
} sched_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 32768);
	__type(key, struct rl_sched_key);
	__type(value, struct rl_sched_val);
} sched_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RL_SCHED_MAP_COUNT * RL_UPDATE_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} sched_update_errors SEC(".maps");

static const struct rl_sched_val zero_val;

/* rq->clock - rq->clock_task at this CPU's last switch. */
struct cpu_gap {
	__u64 gap;
	__u64 known;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_gap);
} cpu_gaps SEC(".maps");

#include "sched_culprit.bpf.h"

/* task_struct::state was renamed __state in 5.14. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* tp_btf arguments are BTF pointers: fields are read with plain (CO-RE
 * relocated, fault-safe) loads, several times cheaper than
 * bpf_probe_read_kernel() on this hot path. */
static __always_inline unsigned int task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return ((struct task_struct___pre514 *)t)->state;
}

static __always_inline void make_key(struct task_struct *t,
				     struct rl_sched_key *k)
{
	struct task_struct *leader = t->group_leader;

	k->tgid = t->tgid;
	k->pad = 0;
	k->cgroup_id = t->cgroups->dfl_cgrp->kn->id;
	/* The process's name, not a thread's ("worker-3"). */
	__builtin_memcpy(k->comm, leader->comm, sizeof(k->comm));
}

/* The entry of t's process, created if missing. For the last thread of an
 * exiting process it is created final (exited = 1): its entry was freed
 * after sched_process_exit, or never made because the process never
 * switched out before exit (a short one, under a tick; seen on 6.1 under
 * emulation). The agent frees it at its next read, with that last slice
 * of CPU time counted. */
static struct rl_sched_val *entry_of(struct task_struct *t)
{
	static const struct rl_sched_val final_val = { .exited = 1 };
	struct rl_sched_key k;
	struct rl_sched_val *v;
	const void *init = &zero_val;

	__builtin_memset(&k, 0, sizeof(k));
	make_key(t, &k);
	v = bpf_map_lookup_elem(&sched_stats, &k);
	if (v)
		return v;
	if ((t->flags & PF_EXITING) && t->signal->live.counter == 0)
		init = &final_val;
	return rl_lookup_or_init(&sched_stats, &k, init, &sched_update_errors,
				 RL_SCHED_MAP_STATS);
}

static __always_inline struct sched_task *task_of(struct task_struct *t)
{
	struct sched_task *st;

	st = bpf_task_storage_get(&sched_tasks, t, 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) /* the helper gives no code */
		rl_update_error(&sched_update_errors, RL_SCHED_MAP_TASKS, 0);
	return st;
}

/* Where the kernel keeps schedstats' sched_info (CONFIG_SCHED_INFO, set by
 * SCHEDSTATS or TASK_DELAY_ACCT on every mainstream distro), it already
 * stamps when a task was queued, on wakeup and on preemption alike, and
 * this CPU's rq->clock was updated by __schedule() before this event: the
 * wait is one subtraction, the same one sched_info_arrive() adds to
 * run_delay right after. No wakeup hooks, no clock read. The rq is reached
 * through next's cfs_rq (set for tasks of every class on migration;
 * CONFIG_FAIR_GROUP_SCHED): the per-CPU `runqueues` symbol cannot be
 * resolved on kernels without KALLSYMS_ALL. Elsewhere we keep our own
 * stamps from sched_wakeup and switch-out (the agent then attaches the
 * wakeup programs; it tests the same three fields). */
static __always_inline bool kernel_stamps_queueing(void)
{
	struct sched_entity *se = 0;
	struct sched_info *si = 0;
	struct cfs_rq *cfs = 0;

	return bpf_core_field_exists(si->last_queued) &&
	       bpf_core_field_exists(se->cfs_rq) &&
	       bpf_core_field_exists(cfs->rq);
}

static __always_inline void wait_starts(struct task_struct *p)
{
	struct sched_task *st;

	if (p->pid == 0)
		return;
	st = task_of(p);
	/* A task preempted earlier is already waiting: keep that start. */
	if (st && !st->wait_start)
		st->wait_start = bpf_ktime_get_ns();
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	wait_starts(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	wait_starts(p);
	return 0;
}

/* CFS sets se.prev_sum_exec_runtime when it picks a task, and put_prev_task
 * brought sum_exec_runtime up to date before this event: their difference
 * is the slice that just ended, as the kernel accounts it (what
 * /proc/<pid>/stat reports; with IRQ time accounting it excludes
 * interrupts). Other classes (RT and deadline: prio < 100, including tasks
 * boosted by priority inheritance; sched_ext, 6.12+) do not maintain
 * prev_sum_exec_runtime: for them we note sum_exec_runtime at switch-in.
 * fair_sched_class itself is not in kernel BTF (only per-CPU variables
 * are), so the class is told from the priority. */
#define MAX_RT_PRIO 100

struct task_struct___scx {
	char scx;
} __attribute__((preserve_access_index));

static __always_inline bool is_fair(struct task_struct *t)
{
	if (bpf_core_field_exists(((struct task_struct___scx *)t)->scx))
		return false;
	return t->prio >= MAX_RT_PRIO;
}

/* The slice that just ended, as the kernel accounts it. */
static __always_inline __u64 slice_ran(struct task_struct *prev,
				       struct sched_task **stp)
{
	/* Read up front: clang would otherwise share one load between a
	 * task and a map value pointer, which the verifier refuses. */
	__u64 sum = prev->se.sum_exec_runtime;
	__u64 picked = prev->se.prev_sum_exec_runtime;
	struct sched_task *st;

	if (is_fair(prev) && !(prev->flags & PF_EXITING))
		return sum - picked;
	st = task_of(prev);
	*stp = st;
	if (st && st->running) {
		st->running = 0;
		return sum - st->runtime_in;
	}
	return is_fair(prev) ? sum - picked : 0;
}

#include "sched_wait.bpf.h"

static __always_inline void switch_out(struct task_struct *prev, bool preempt,
				       __u64 t, __u64 stolen)
{
	unsigned int state = task_state(prev);
	struct rl_sched_val *v = entry_of(prev);
	struct sched_task *st = 0;
	__u64 ran = slice_ran(prev, &st);
	bool stamps = kernel_stamps_queueing();

	if (v) {
		__sync_fetch_and_add(&v->oncpu_ns, ran);
		if (stolen)
			__sync_fetch_and_add(&v->steal_ns, stolen);
		/* As the kernel counts nvcsw/nivcsw: a switch is voluntary
		 * when the task gave up the CPU to block. */
		if (preempt || state == 0)
			__sync_fetch_and_add(&v->involuntary, 1);
		else
			__sync_fetch_and_add(&v->voluntary, 1);
	}
	/* Preempted while runnable: the kernel stamps the wait. */
	if (stamps && state == 0)
		return;
	if (!st)
		st = task_of(prev);
	if (!st)
		return;
	if (!stamps) /* clears a stale start left by a racing wakeup */
		st->wait_start = (preempt || state == 0) ? t : 0;
	if (state == 0 || (preempt && !stamps))
		return;
	/* From here on, waits are counted from run_delay: known now, it
	 * catches the part of its next wait a migration splits off. */
	if (stamps && !st->delay_known) {
		st->delay_seen = prev->sched_info.run_delay;
		st->delay_known = 1;
	}
	st->off_start = t;
	st->off_reason =
		preempt ? RL_OFF_QUEUED : off_reason(prev, state, &st->fd_memo);
}

static __always_inline void switch_in(struct task_struct *next, __u64 t)
{
	struct sched_task *st;
	struct rl_culprit_key vk;
	__u64 queued, wait = 0;

	st = bpf_task_storage_get(&sched_tasks, next, 0, 0);
	if (!is_fair(next) || (next->flags & PF_EXITING)) {
		if (!st)
			st = task_of(next);
		if (st) {
			st->runtime_in = next->se.sum_exec_runtime;
			st->running = 1;
		}
	}
	if (kernel_stamps_queueing()) {
		queued = next->sched_info.last_queued;
		if (queued) {
			if (!st)
				st = task_of(next);
			wait = kernel_wait(next, st, queued, t);
			if (wait) {
				victim_key(next, &vk);
				blame(&vk, t - wait, t);
			}
		}
	} else {
		queued = st ? st->wait_start : 0;
		if (queued) {
			wait = t - queued;
			st->wait_start = 0;
			victim_key(next, &vk);
			blame(&vk, queued, t);
		}
	}
	account_in(next, st, queued != 0, wait, t);
}

/* When this switch happens, on the clock run_delay and CPU time are
 * measured with: this CPU's rq->clock, which __schedule() updated before
 * the event, so that blocked time, run-queue waits and CPU time add up to
 * wall time. (Blocked time on CLOCK_MONOTONIC, waits on rq->clock, was
 * 5-7 us per block too long on a 2-CPU VM, 7% over in an fsync loop; why
 * was not found.) Our own stamps' clock where the kernel keeps none. */
static __always_inline __u64 switch_clock(struct task_struct *prev,
					  struct task_struct *next)
{
	struct task_struct *t = prev->pid ? prev : next;

	if (!kernel_stamps_queueing())
		return bpf_ktime_get_ns();
	return t->se.cfs_rq->rq->clock;
}

/* What the slice that ends now lost: the task clock (clock_task, what
 * sum_exec_runtime advances by) stops while the hypervisor runs another
 * guest (PARAVIRT_TIME_ACCOUNTING, from the steal clock) or, with
 * IRQ_TIME_ACCOUNTING, while interrupts are handled; rq->clock does not.
 * Their gap grows by exactly that, so on-CPU + stolen is the slice's wall
 * time (a 1 s spin on a CI host showed 0.55 s of CPU and 0.46 s that was
 * neither CPU, run-queue nor off-CPU time). Both clocks were updated
 * together (update_rq_clock) before this event. */
static __always_inline __u64 slice_stolen(struct task_struct *prev,
					  struct task_struct *next)
{
	struct task_struct *t = prev->pid ? prev : next;
	struct rq *rq = t->se.cfs_rq->rq;
	__u64 gap = rq->clock - rq->clock_task, stolen = 0;
	__u32 zero = 0;
	struct cpu_gap *g = bpf_map_lookup_elem(&cpu_gaps, &zero);

	if (!g)
		return 0;
	if (g->known && gap > g->gap)
		stolen = gap - g->gap;
	g->gap = gap;
	g->known = 1;
	return stolen;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	__u64 t = switch_clock(prev, next);
	__u64 stolen = slice_stolen(prev, next);

	slice_ends(prev, t);
	if (prev->pid != 0)
		switch_out(prev, preempt, t, stolen);
	if (next->pid != 0)
		switch_in(next, t);
	return 0;
}

/* A process's entry is keyed by its name. exec (begin_new_exec) and
 * prctl(PR_SET_NAME) on the leader rename it: the event fires before the
 * new name is copied, so the leader's comm still names the old entry,
 * which is final from now on and can be freed once exported. */
SEC("tp_btf/task_rename")
int BPF_PROG(task_rename, struct task_struct *task, const char *comm)
{
	struct rl_sched_key k;
	struct rl_sched_val *v;

	if (task->pid != task->tgid)
		return 0;
	__builtin_memset(&k, 0, sizeof(k));
	make_key(task, &k);
	v = bpf_map_lookup_elem(&sched_stats, &k);
	if (v)
		v->exited = 1;
	return 0;
}

/* The last thread of a process is gone once signal->live reached 0, which
 * do_exit() decrements before this event: the agent may free the entry
 * after exporting it once.
 *
 * Later in do_exit(), sched_autogroup_exit_task() moves the running task
 * (sched_move_task: put_prev + set_next_entity), which resets
 * prev_sum_exec_runtime without a context switch: the slice in progress,
 * for a short process its whole life, would be lost. Here, in the exiting
 * task itself, prev_sum_exec_runtime is still the sum at its last
 * switch-in: from now on this task is accounted from task storage. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	struct rl_sched_key k;
	struct rl_sched_val *v;
	struct sched_task *st;

	if (is_fair(p)) {
		st = task_of(p);
		if (st) {
			st->runtime_in = p->se.prev_sum_exec_runtime;
			st->running = 1;
		}
	}
	if (p->signal->live.counter != 0)
		return 0;
	__builtin_memset(&k, 0, sizeof(k));
	make_key(p, &k);
	v = bpf_map_lookup_elem(&sched_stats, &k);
	if (v)
		v->exited = 1;
	return 0;
}
