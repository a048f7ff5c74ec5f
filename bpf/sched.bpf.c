// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-process USE from the scheduler: on-CPU time, run-queue latency and
 * voluntary/involuntary context switches, aggregated in the kernel.
 *
 * A task waits on a run queue from its wakeup (sched_wakeup/_new) or from
 * the moment it is switched out while still runnable (preempted, or
 * yielded), until it is switched in. The per-task timestamps live in
 * task-local storage, freed with the task. Idle (pid 0) is never counted.
 */
#include "common.bpf.h"
#include "sched.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PF_EXITING 0x00000004

struct sched_task {
	__u64 runtime_in; /* se.sum_exec_runtime at switch-in */
	__u64 wait_start; /* runnable since; 0 if not waiting */
	__u32 running;    /* seen switched in */
	__u32 pad;
};

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
	__uint(max_entries, RL_SCHED_MAP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} sched_drops SEC(".maps");

static const struct rl_sched_val zero_val;

/* task_struct::state was renamed __state in 5.14. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline bool still_runnable(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state) == 0;
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state) == 0;
}

static __always_inline void make_key(struct task_struct *t,
				     struct rl_sched_key *k)
{
	k->tgid = BPF_CORE_READ(t, tgid);
	k->pad = 0;
	k->cgroup_id = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	/* The process's name, not a thread's ("worker-3"). */
	BPF_CORE_READ_STR_INTO(&k->comm, t, group_leader, comm);
}

/* The entry of t's process; created unless t is exiting (an exiting task's
 * last switch-out must not resurrect an entry the agent already freed). */
static struct rl_sched_val *entry_of(struct task_struct *t)
{
	struct rl_sched_key k;
	struct rl_sched_val *v;
	long err;

	__builtin_memset(&k, 0, sizeof(k));
	make_key(t, &k);
	v = bpf_map_lookup_elem(&sched_stats, &k);
	if (v || (BPF_CORE_READ(t, flags) & PF_EXITING))
		return v;
	err = bpf_map_update_elem(&sched_stats, &k, &zero_val, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		RL_COUNT_DROP(sched_drops, RL_SCHED_MAP_STATS);
		return NULL;
	}
	return bpf_map_lookup_elem(&sched_stats, &k);
}

static __always_inline struct sched_task *task_of(struct task_struct *t)
{
	struct sched_task *st;

	st = bpf_task_storage_get(&sched_tasks, t, 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		RL_COUNT_DROP(sched_drops, RL_SCHED_MAP_TASKS);
	return st;
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

static __always_inline void switch_out(struct task_struct *prev, bool preempt,
				       __u64 now)
{
	bool runnable = still_runnable(prev);
	struct sched_task *st = task_of(prev);
	struct rl_sched_val *v = entry_of(prev);

	if (v) {
		/* The kernel's own CPU time (what /proc/<pid>/stat reports),
		 * brought up to date by put_prev_task() before this event:
		 * with IRQ time accounting it excludes interrupts taken while
		 * the task ran, which a switch-in/out clock would charge. */
		if (st && st->running)
			__sync_fetch_and_add(&v->oncpu_ns,
					     BPF_CORE_READ(prev, se.sum_exec_runtime) -
						     st->runtime_in);
		/* As the kernel counts nvcsw/nivcsw: a switch is voluntary
		 * when the task gave up the CPU to block. */
		if (preempt || runnable)
			__sync_fetch_and_add(&v->involuntary, 1);
		else
			__sync_fetch_and_add(&v->voluntary, 1);
	}
	if (st) {
		st->running = 0;
		/* Clears a stale start left by a wakeup that raced with the
		 * task still running. */
		st->wait_start = runnable ? now : 0;
	}
}

static __always_inline void switch_in(struct task_struct *next, __u64 now)
{
	struct sched_task *st = task_of(next);
	struct rl_sched_val *v;
	__u64 wait;

	if (!st)
		return;
	st->runtime_in = BPF_CORE_READ(next, se.sum_exec_runtime);
	st->running = 1;
	if (!st->wait_start)
		return;
	wait = now - st->wait_start;
	st->wait_start = 0;
	v = entry_of(next);
	if (!v)
		return;
	__sync_fetch_and_add(&v->rq_sum_ns, wait);
	__sync_fetch_and_add(
		&v->rq_hist[rl_hist_slot(wait, RL_SCHED_HIST_SLOTS)], 1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();

	if (prev->pid != 0)
		switch_out(prev, preempt, now);
	if (next->pid != 0)
		switch_in(next, now);
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
 * after exporting it once. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	struct rl_sched_key k;
	struct rl_sched_val *v;

	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	__builtin_memset(&k, 0, sizeof(k));
	make_key(p, &k);
	v = bpf_map_lookup_elem(&sched_stats, &k);
	if (v)
		v->exited = 1;
	return 0;
}
