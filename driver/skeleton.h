/* SPDX-License-Identifier: GPL-2.0 */
/*
 * skeleton.h - what skeleton.bpf.c and the userspace driver both see: the
 * argument blocks of the SEC("syscall") programs and the per-worker
 * counters.
 */
#ifndef __SKELETON_H
#define __SKELETON_H

#include <libarena-ds/registry.h>
#include <libarena-ds/sanitize.h>
#ifndef __BPF__
#include <libarena-ds/user.h>
#endif
#include "lincheck.h"

_Static_assert(DS_OP_MAX <= 8 && DS_NR_ERRORS <= 8, "counter arrays hold 8");

/* Reserve pages the init program stocks and the refill program keeps. */
#define SKEL_RESERVE_TARGET	64
#define SKEL_RESERVE_LOW	16

/* Key space of hook-produced elements: far above any workload key. */
#define SKEL_HOOK_KEY_BASE	(1ULL << 62)
#define SKEL_HOOK_KEY(pid)	(SKEL_HOOK_KEY_BASE | (__u64)(pid))

/* Outcome counters of one worker (thread, kernel worker or hook source). */
struct skel_counts {
	__u64 calls[8];			/* indexed by enum ds_op */
	__u64 ok[8];
	__u64 miss;			/* NOT_FOUND / EXISTS / FULL */
	__u64 err[DS_NR_ERRORS];	/* indexed by ds_err_index(rc) */
};

static __always_inline void skel_count(struct skel_counts *c, __u32 op, int rc)
{
	c->calls[op & 7]++;
	if (rc == DS_SUCCESS)
		c->ok[op & 7]++;
	else if (ds_rc_is_miss(rc))
		c->miss++;
	else
		c->err[ds_err_index(rc) & 7]++;
}

/* The same, for counters several runs on one CPU may update at once
 * (sleepable LSM hooks can be preempted mid-update). */
static __always_inline void skel_count_atomic(struct skel_counts *c, __u32 op, int rc)
{
	__sync_fetch_and_add(&c->calls[op & 7], 1);
	if (rc == DS_SUCCESS)
		__sync_fetch_and_add(&c->ok[op & 7], 1);
	else if (ds_rc_is_miss(rc))
		__sync_fetch_and_add(&c->miss, 1);
	else
		__sync_fetch_and_add(&c->err[ds_err_index(rc) & 7], 1);
}

/* Workload mix in percent; the rest of 100 goes to search. */
struct skel_mix {
	__u32 insert;
	__u32 delete;
	__u32 pop;
	__u32 range;
};

/* SEC("syscall") ds_init */
struct skel_init_args {
	__u64 max_pages;
	__s32 rc;
	__u32 pad;
};

/* SEC("syscall") ds_batch: one kernel-worker batch */
struct skel_batch_args {
	__u64 rng;			/* in/out: PRNG state */
	__u32 nops;
	__u32 key_range;
	struct skel_mix mix;
	__u32 done;			/* out: ops performed */
	__u32 hist_cap;			/* history records hist can take */
	__u64 hist;			/* arena address of struct lin_op[], or 0 */
	__u64 hist_len;			/* in/out: records written */
	__u64 ctx_id;			/* LIN_CTX_KERNEL(worker) */
	__u32 flags;			/* SKEL_BATCH_* */
	__s32 stop;			/* out: the answer that ended the batch early
					 * under a flag (FULL, NOT_FOUND), else 0 */
	struct skel_counts counts;	/* out: added to */
};

/*
 * Role flags of a batch.  The operation that meets the condition is not
 * performed (not counted); the batch ends and the worker decides:
 *   RETRY_FULL  an insert answered FULL: the producer yields and retries;
 *   END_EMPTY   a pop/delete answered NOT_FOUND: the consumer yields, or
 *               stops once every producer is done (the ring is drained).
 */
#define SKEL_BATCH_RETRY_FULL	(1U << 0)
#define SKEL_BATCH_END_EMPTY	(1U << 1)

/* Hook history: one buffer of hook_hist_cap records per CPU slot. */
#define SKEL_HOOK_HIST_CAP	4096

/* SEC("syscall") ds_verify */
struct skel_verify_args {
	__s32 rc;
	__u32 reason;
	__s32 flush_rc;			/* 1 if EBR limbo could not be emptied */
	__u32 pad;
};


/* Hook sources (per-CPU counters in the hook_counts map). */
enum skel_hook_src {
	SKEL_HOOK_CREATE = 0,	/* inode_create / openat(O_CREAT): insert */
	SKEL_HOOK_OPEN,		/* file_open / openat: search */
	SKEL_HOOK_EXIT,		/* task_free / process exit: delete */
	SKEL_HOOK_MAX,
};

#endif /* __SKELETON_H */
