// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Disk I/O latency per device and operation, and bytes per issuing
 * workload, from the block_rq_* tracepoints (request-based devices: SCSI,
 * NVMe, virtio, loop, dm-mq).
 *
 * A request is remembered from insert (scheduler queue) or issue (driver)
 * until it completes. Its owner is the task current at the first of the
 * two: the submitter for direct I/O and most reads, a flusher kworker for
 * buffered writeback (which is the truth: that I/O was not issued by the
 * application's syscall).
 */
#include "common.bpf.h"
#include "block.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define REQ_OP_MASK 0xff

struct inflight {
	__u64 insert_ns; /* 0: not queued by a scheduler */
	__u64 issue_ns;  /* 0: not issued yet */
	struct rl_disk_owner_key owner;
};

/* LRU: a request that never completes (device yanked) must not hold a
 * slot forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct rl_disk_key);
	__type(value, struct rl_disk_val);
} disk_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct rl_disk_owner_key);
	__type(value, struct rl_disk_owner_val);
} disk_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RL_BLOCK_MAP_COUNT * RL_UPDATE_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} block_update_errors SEC(".maps");

/* request::rq_disk moved to request_queue::disk in 5.17. */
struct request___pre517 {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline __u32 disk_dev(struct request *rq)
{
	struct gendisk *d;

	if (bpf_core_field_exists(((struct request___pre517 *)rq)->rq_disk))
		d = BPF_CORE_READ((struct request___pre517 *)rq, rq_disk);
	else
		d = BPF_CORE_READ(rq, q, disk);
	if (!d)
		return 0;
	return (BPF_CORE_READ(d, major) << 20) | BPF_CORE_READ(d, first_minor);
}

/* First sight of a request: remember its owner and when it was queued. */
static __always_inline struct inflight *track(struct request *rq, __u64 now,
					      bool insert)
{
	__u64 id = (__u64)rq;
	struct inflight *f = bpf_map_lookup_elem(&inflight, &id);
	struct inflight n = {};
	long err;

	if (f)
		return f;
	if (insert)
		n.insert_ns = now;
	n.owner.dev = disk_dev(rq);
	n.owner.op = BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK;
	n.owner.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(n.owner.comm, sizeof(n.owner.comm));
	err = bpf_map_update_elem(&inflight, &id, &n, BPF_ANY);
	if (err) {
		rl_update_error(&block_update_errors, RL_BLOCK_MAP_INFLIGHT,
				err);
		return NULL;
	}
	f = bpf_map_lookup_elem(&inflight, &id);
	if (!f) /* LRU: evicted by another CPU's insert */
		rl_update_error(&block_update_errors, RL_BLOCK_MAP_INFLIGHT,
				-RL_ENOENT);
	return f;
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert, struct request *rq)
{
	track(rq, bpf_ktime_get_ns(), true);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue, struct request *rq)
{
	__u64 now = bpf_ktime_get_ns();
	struct inflight *f = track(rq, now, false);

	if (f)
		f->issue_ns = now;
	return 0;
}

static __always_inline void count_done(struct rl_disk_owner_key *owner,
				       unsigned int nr_bytes, __u64 lat,
				       __u64 queued)
{
	static const struct rl_disk_owner_val zero_owner;
	static const struct rl_disk_val zero_disk;
	struct rl_disk_key dk = { .dev = owner->dev, .op = owner->op };
	struct rl_disk_owner_val *ov;
	struct rl_disk_val *dv;

	dv = rl_lookup_or_init(&disk_stats, &dk, &zero_disk,
			       &block_update_errors, RL_BLOCK_MAP_STATS);
	if (dv) {
		__sync_fetch_and_add(&dv->ios, 1);
		__sync_fetch_and_add(&dv->bytes, nr_bytes);
		if (lat) {
			__sync_fetch_and_add(&dv->sum_ns, lat);
			__sync_fetch_and_add(&dv->queue_ns, queued);
			__sync_fetch_and_add(
				&dv->hist[rl_hist_slot(lat)],
				1);
		}
	}
	ov = rl_lookup_or_init(&disk_owners, owner, &zero_owner,
			       &block_update_errors, RL_BLOCK_MAP_OWNERS);
	if (ov) {
		__sync_fetch_and_add(&ov->bytes, nr_bytes);
		__sync_fetch_and_add(&ov->ios, 1);
	}
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, int error,
	     unsigned int nr_bytes)
{
	__u64 id = (__u64)rq, now = bpf_ktime_get_ns();
	struct rl_disk_owner_key unknown = {};
	struct inflight *f;

	f = bpf_map_lookup_elem(&inflight, &id);
	if (!f) {
		/* Counted, with no latency, under an explicit unknown owner:
		 * this context (an interrupt) is not the submitter. */
		unknown.dev = disk_dev(rq);
		unknown.op = BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK;
		__builtin_memcpy(unknown.comm, "[unknown]", 10);
		count_done(&unknown, nr_bytes, 0, 0);
		return 0;
	}
	if (f->issue_ns) {
		count_done(&f->owner, nr_bytes, now - f->issue_ns ?: 1,
			   f->insert_ns ? f->issue_ns - f->insert_ns : 0);
	} else {
		count_done(&f->owner, nr_bytes, 0, 0);
	}
	bpf_map_delete_elem(&inflight, &id);
	return 0;
}
