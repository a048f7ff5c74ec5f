/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Why a thread blocked (bpf/sched.bpf.c, at its switch-out; BPF side only).
 *
 * The syscall in flight is read from the task's own user registers
 * (bpf_task_pt_regs: what /proc/<pid>/syscall shows), not from the
 * syscalls probe's task storage: the sched probe stays self-contained
 * (--probes=sched alone gets the breakdown) and adds no sys_enter hook.
 * Exceptions and interrupts from user mode store -1 where a syscall
 * stores its number, so a page fault is never mistaken for a syscall.
 * Only called when a thread blocks: never for preemptions.
 */
#ifndef REDLINE_BPF_SCHED_OFFCPU_BPF_H
#define REDLINE_BPF_SCHED_OFFCPU_BPF_H

#include "common.bpf.h"
#include "sched.h"

#define PF_KTHREAD 0x00200000
#define RL_TASK_UNINTERRUPTIBLE 0x2
#define RL_S_IFMT 0170000
#define RL_S_IFSOCK 0140000
#define RL_S_IFREG 0100000
#define RL_S_IFBLK 0060000

/* By syscall number of this architecture: an rl_off_reason or
 * RL_OFF_BY_FD. Set by the agent before load. */
const volatile __u8 off_sys_class[RL_OFF_MAX_NR];

/* The syscall t is in (-1: none) and its first argument. */
static __always_inline long syscall_in_flight(struct task_struct *t,
					      __u64 *arg0)
{
	struct pt_regs *regs;

	if (t->flags & PF_KTHREAD)
		return -1;
	if (!bpf_core_enum_value_exists(enum bpf_func_id,
					BPF_FUNC_task_pt_regs))
		return -1;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	if (!regs)
		return -1;
#if defined(__TARGET_ARCH_x86)
	*arg0 = regs->di;
	return (long)regs->orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	*arg0 = regs->orig_x0;
	return (long)regs->syscallno;
#else
	return -1;
#endif
}

/* The last descriptor a thread blocked on and its reason. Threads block
 * on the same one over and over (a worker's socket, a pipe), and looking
 * the file up is most of the cost of a block (~40 ns of ~160 per switch
 * in `perf bench sched pipe`). Looked up again every RL_FD_MEMO_USES
 * blocks, so a descriptor closed and reopened as another type is misread
 * for at most that many blocks. */
#define RL_FD_MEMO_USES 64

struct fd_memo {
	__s32 fd;
	__u16 reason;
	__u16 uses; /* 0: empty */
};

/* A read/write-like call is waiting on what its descriptor names. */
static __always_inline __u32 fd_reason(struct task_struct *t, __u64 fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *f = 0;
	__u32 mode;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return RL_OFF_OTHER;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return RL_OFF_OTHER;
	mode = BPF_CORE_READ(f, f_inode, i_mode) & RL_S_IFMT;
	if (mode == RL_S_IFSOCK)
		return RL_OFF_NETWORK;
	if (mode == RL_S_IFREG || mode == RL_S_IFBLK)
		return RL_OFF_DISK;
	return RL_OFF_OTHER;
}

/* t (current, switching out) blocked in state; why. I/O wait
 * (io_schedule: block or page I/O) inside a syscall is disk; outside one
 * it is a fault paging in (memory). D state outside a syscall: faults
 * (mmap lock, reclaim). */
static __always_inline __u32 fd_reason_memo(struct task_struct *t,
					      __u64 fd, struct fd_memo *m)
{
	if (m->uses && m->fd == (__s32)fd) {
		if (++m->uses < RL_FD_MEMO_USES)
			return m->reason;
	}
	m->fd = (__s32)fd;
	m->reason = fd_reason(t, fd);
	m->uses = 1;
	return m->reason;
}

static __u32 off_reason(struct task_struct *t, unsigned int state,
			struct fd_memo *m)
{
	bool iowait = BPF_CORE_READ_BITFIELD(t, in_iowait);
	__u64 arg0 = 0;
	long nr = syscall_in_flight(t, &arg0);
	__u32 cls;

	if (nr < 0) {
		if (t->flags & PF_KTHREAD)
			return iowait ? RL_OFF_DISK : RL_OFF_OTHER;
		if (iowait || (state & RL_TASK_UNINTERRUPTIBLE))
			return RL_OFF_MEMORY;
		return RL_OFF_OTHER;
	}
	if (iowait)
		return RL_OFF_DISK;
	if (nr >= RL_OFF_MAX_NR)
		return RL_OFF_OTHER;
	cls = off_sys_class[nr];
	if (cls == RL_OFF_BY_FD)
		return fd_reason_memo(t, arg0, m);
	return cls < RL_OFF_REASONS ? cls : RL_OFF_OTHER;
}

#endif /* REDLINE_BPF_SCHED_OFFCPU_BPF_H */
