// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-process syscall RED, aggregated in the kernel.
 *
 * tp_btf on raw_syscalls:sys_enter/sys_exit: a BTF-typed raw tracepoint has
 * no perf-buffer copy of the arguments, which makes it several times cheaper
 * than the classic tracepoint. In-flight start times live in task-local
 * storage, freed by the kernel with the task, so exit()/exit_group() (which
 * never return) cannot leak entries.
 */
#include "common.bpf.h"
#include "syscalls.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct task_state {
	__u64 start_ns;
	__u64 gen;
	__u32 nr;
	__u32 active;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} task_states SEC(".maps");

/* Hot-path counters, updated with atomic adds. Not per-CPU on purpose: a
 * per-CPU value is allocated for every possible CPU, 344 bytes x 64 CPUs =
 * 22 KiB per (process, syscall) on a large host; shared values cost one
 * cache line bounce only when threads of one process make the same syscall
 * on two CPUs at once. Not preallocated: memory follows live keys. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct rl_sys_key);
	__type(value, struct rl_sys_val);
} sys_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct rl_err_key);
	__type(value, __u64);
} sys_errors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct rl_proc_key);
	__type(value, struct rl_proc_info);
} procs SEC(".maps");

/* tgid -> current generation, for live processes only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, __u64);
} tgid_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RL_MAP_COUNT * RL_UPDATE_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} sys_update_errors SEC(".maps");

static const struct rl_sys_val zero_val;

/* SLO latency thresholds and, per syscall number, the slots that apply
 * (bit i: slot i). Written by the agent at any time (SIGHUP): .bss, not
 * .rodata. A syscall no SLO names costs one byte load. */
__u64 slo_threshold_ns[RL_SLO_SLOTS];
__u8 slo_sys_mask[RL_SLO_MAX_NR];

/* This architecture's numbers of exit and exit_group, set by the agent
 * before load (from <sys/syscall.h>): BPF has no arch headers. */
const volatile long nr_exit = -1;
const volatile long nr_exit_group = -1;
/* And of execve and execveat: exec renames the task too (see task_rename). */
const volatile long nr_execve = -1;
const volatile long nr_execveat = -1;

/* Registers a new incarnation of task's process; returns its gen or 0. */
static __u64 new_gen(struct task_struct *task, __u32 tgid)
{
	struct rl_proc_key pk = { .tgid = tgid, .gen = bpf_ktime_get_ns() };
	struct rl_proc_info info = {};
	long err;

	/* The process name is the group leader's: a thread may be named
	 * "worker-3" (pthread_setname_np). */
	bpf_probe_read_kernel_str(info.comm, sizeof(info.comm),
				  task->group_leader->comm);
	info.cgroup_id = bpf_get_current_cgroup_id();
	err = bpf_map_update_elem(&procs, &pk, &info, BPF_NOEXIST);
	if (err) {
		rl_update_error(&sys_update_errors, RL_MAP_PROCS, err);
		return 0;
	}
	rl_count_insert(RL_MAP_PROCS);
	return pk.gen;
}

static __u64 current_gen(struct task_struct *task)
{
	__u32 tgid = task->tgid;
	__u64 *g = bpf_map_lookup_elem(&tgid_gen, &tgid);
	__u64 gen;
	long err;

	if (g)
		return *g;
	gen = new_gen(task, tgid);
	if (!gen)
		return 0;
	err = bpf_map_update_elem(&tgid_gen, &tgid, &gen, BPF_NOEXIST);
	if (!err)
		return gen;
	/* Lost a race with another thread of the same process, or full. */
	struct rl_proc_key pk = { .tgid = tgid, .gen = gen };
	bpf_map_delete_elem(&procs, &pk);
	g = bpf_map_lookup_elem(&tgid_gen, &tgid);
	if (g)
		return *g;
	rl_update_error(&sys_update_errors, RL_MAP_PROCS,
			err == -EEXIST ? -RL_ENOENT : err);
	return 0;
}

static void mark_exited(__u32 tgid, __u64 gen)
{
	struct rl_proc_key pk = { .tgid = tgid, .gen = gen };
	struct rl_proc_info *info = bpf_map_lookup_elem(&procs, &pk);

	if (info)
		info->exited = 1;
}

static void count_errno(struct rl_sys_key *key, __u32 errnum)
{
	struct rl_err_key ek = { .tgid = key->tgid, .nr = key->nr,
				 .gen = key->gen, .err = errnum };
	__u64 one = 1, *cnt;
	long uerr;

	cnt = bpf_map_lookup_elem(&sys_errors, &ek);
	if (cnt) {
		__sync_fetch_and_add(cnt, 1);
		return;
	}
	uerr = bpf_map_update_elem(&sys_errors, &ek, &one, BPF_NOEXIST);
	if (!uerr)
		return;
	if (uerr != -EEXIST) {
		rl_update_error(&sys_update_errors, RL_MAP_SYS_ERRORS, uerr);
		return;
	}
	/* Another thread of the process inserted it first. */
	cnt = bpf_map_lookup_elem(&sys_errors, &ek);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		rl_update_error(&sys_update_errors, RL_MAP_SYS_ERRORS,
				-RL_ENOENT);
}

/* One more event in each SLO slot of mask whose threshold it met. */
static __always_inline void count_within(__u64 *within, __u8 mask, __u64 d)
{
	for (int i = 0; i < RL_SLO_SLOTS; i++) {
		__u64 t = slo_threshold_ns[i];

		if ((mask & (1 << i)) && t && d <= t)
			__sync_fetch_and_add(&within[i], 1);
	}
}

/* Folds one completed syscall into its (process, syscall) entry. */
static __always_inline void account(struct task_struct *task,
				    struct task_state *ts, __u32 nr,
				    __u64 delta, long ret, __u64 now)
{
	struct rl_sys_val *v;
	struct rl_sys_key key;

	if (!ts->gen)
		ts->gen = current_gen(task);
	if (!ts->gen)
		return;
	key.tgid = task->tgid;
	key.nr = nr;
	key.gen = ts->gen;
	v = rl_lookup_or_init(&sys_stats, &key, &zero_val, &sys_update_errors,
			      RL_MAP_SYS_STATS);
	if (!v)
		return;
	__sync_fetch_and_add(&v->sum_ns, delta);
	__sync_fetch_and_add(&v->hist[rl_hist_slot(delta)], 1);
	/* A plain store to the line sum_ns just dirtied: any recent value
	 * will do. */
	v->last_ns = now;
	if (nr < RL_SLO_MAX_NR && slo_sys_mask[nr])
		count_within(v->within, slo_sys_mask[nr], delta);
	if (ret < 0 && ret >= -RL_MAX_ERRNO) {
		__sync_fetch_and_add(&v->errors, 1);
		count_errno(&key, (__u32)-ret);
	}
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_state *ts;

	ts = bpf_task_storage_get(&task_states, task, 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts) {
		rl_update_error(&sys_update_errors, RL_MAP_INFLIGHT, 0);
		return 0;
	}
	/* exit and exit_group never reach sys_exit: count them here, with
	 * zero duration, so every process's last syscall is counted. */
	if (id == nr_exit || id == nr_exit_group) {
		ts->active = 0;
		account(task, ts, (__u32)id, 0, 0, bpf_ktime_get_ns());
		return 0;
	}
	ts->nr = (__u32)id;
	ts->active = 1;
	ts->start_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_state *ts;
	__u64 now;

	ts = bpf_task_storage_get(&task_states, task, 0, 0);
	if (!ts || !ts->active)
		return 0;
	ts->active = 0;
	now = bpf_ktime_get_ns();
	account(task, ts, ts->nr, now - ts->start_ns, ret, now);
	return 0;
}

/* exec starts a new incarnation: the old one is final, and the execve that
 * succeeded is counted for the new image (its sys_exit runs there). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	__u64 *old = bpf_map_lookup_elem(&tgid_gen, &tgid);
	struct task_state *ts;
	__u64 gen;
	long err;

	if (old)
		mark_exited(tgid, *old);
	gen = new_gen(p, tgid);
	if (!gen) {
		bpf_map_delete_elem(&tgid_gen, &tgid);
	} else {
		err = bpf_map_update_elem(&tgid_gen, &tgid, &gen, BPF_ANY);
		if (err)
			rl_update_error(&sys_update_errors, RL_MAP_PROCS, err);
	}
	ts = bpf_task_storage_get(&task_states, p, 0, 0);
	if (ts)
		ts->gen = gen;
	return 0;
}

/* prctl(PR_SET_NAME) and friends: daemons rename themselves right after
 * start, usually after the first syscalls we saw. Keep the process record's
 * name current; the agent exports an incarnation once it is 200 ms old (or
 * exited) and pins the name it has then, so a later rename never moves
 * counts between series. The event
 * fires before the new name is copied (it carries it as an argument). */
SEC("tp_btf/task_rename")
int BPF_PROG(task_rename, struct task_struct *task, const char *comm)
{
	__u32 tgid = task->tgid;
	struct rl_proc_info *info;
	struct task_state *ts;
	struct rl_proc_key pk;
	__u64 *gen;

	if (task->pid != task->tgid)
		return 0;
	/* exec names the task after its binary before sched_process_exec,
	 * which starts a new incarnation with that name. The old one keeps
	 * the name it made its calls under (a shell's child stays "bash"). */
	ts = bpf_task_storage_get(&task_states, task, 0, 0);
	if (ts && ts->active && (ts->nr == nr_execve || ts->nr == nr_execveat))
		return 0;
	gen = bpf_map_lookup_elem(&tgid_gen, &tgid);
	if (!gen)
		return 0;
	pk.tgid = tgid;
	pk.pad = 0;
	pk.gen = *gen;
	info = bpf_map_lookup_elem(&procs, &pk);
	if (info)
		bpf_probe_read_kernel_str(info->comm, sizeof(info->comm), comm);
	return 0;
}

/* Fires for every exiting thread; the process is gone when the last one
 * has decremented signal->live, which do_exit() does before this event. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	__u64 *gen;

	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	gen = bpf_map_lookup_elem(&tgid_gen, &tgid);
	if (!gen)
		return 0;
	mark_exited(tgid, *gen);
	bpf_map_delete_elem(&tgid_gen, &tgid);
	return 0;
}
