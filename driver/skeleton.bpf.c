// SPDX-License-Identifier: GPL-2.0
/*
 * skeleton.bpf.c - the kernel half of the skeleton driver.
 *
 * SEC("syscall") programs, run from userspace with bpf_prog_test_run_opts:
 *   ds_init      set up the allocator and create the selected structure
 *   ds_batch     a kernel worker's batch of workload operations
 *   ds_verify    reclaim deferred frees, then verify from the kernel
 * and, from libarena-ds.bpf.o, which this object is linked with, the
 * library's libarena_init / _pages / _refill / _reclaim (lib/user.c).
 * Hooks on system events, all acting on the same structure:
 *   lsm.s/inode_create, lsm.s/file_open, lsm/task_free, or where the kernel
 *   refuses LSM programs, tp/syscalls/sys_enter_openat and
 *   tp/sched/sched_process_exit.  The driver picks one set with autoload.
 */
#include <libarena-ds/registry.h>
#include <libarena-ds/sanitize.h>
#include <bpf/bpf_tracing.h>
#include "workload.h"

/* Set before load. */
const volatile int ds_kind = 0;
const volatile __u32 tp_may_alloc = 0;	/* kernel lets tracepoints take pages */
__u64 hook_direct_pages;	/* pages non-sleepable hooks took themselves */
const volatile __u32 own_tgid = 0;	/* the driver's own events are skipped */

void __arena *ds_head;
/* History recording (--history): set by userspace before hooks run. */
struct lin_op __arena *hook_hist;		/* SKEL_HOOK_HIST_CAP per CPU slot */
__u64 __arena *hook_hist_len;			/* one counter per CPU slot */
__u32 hook_hist_slots;
__u32 hooks_on;			/* hooks act only while set */
__u32 hook_exit_delete = 1;	/* the exit hook deletes the pid's element */

/*
 * Loop budgets (bpf_arena_common.h), set by userspace before the hooks go
 * on: steps per hook run and per kernel-worker / relay / manual operation
 * (0: may_goto only).  The breaker: after hook_breaker_limit BUSY or
 * CORRUPT answers in a row, hooks stop acting on the structure
 * (hook_tripped); the runs they then skip are counted.
 */
__u64 hook_budget = 4096;
__u64 op_budget = 1 << 20;
__u64 verify_budget;		/* verify and quiesce (0: may_goto only) */
__u32 hook_breaker_limit = 64;
__u32 hook_fail_row;
__u32 hook_tripped;
__u64 hook_skipped;
__u64 hook_busy;		/* BUSY / CORRUPT answers of hooks, in all */
/* Hook runs between their start and their last access (detach waits for
 * 0 before counting). */
__s64 hook_inflight;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SKEL_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct skel_counts);
} hook_counts SEC(".maps");

/*
 * Every operation goes through this one global function: the verifier
 * checks it once, on its own, instead of once per call site and loop
 * iteration of its callers.  (Inline, as the bench has it, saves a call
 * per operation, but ds_batch's loop then exceeds 6.12's limit on the
 * jumps the verifier may track in one path: "The sequence of 8193 jumps
 * is too complex".)
 */
__noinline int skel_dispatch(void __arena *head __arg_arena, struct ds_req *r)
{
	arena_bind();
	if (!head || !r)
		return DS_ERROR_INVALID;
	return ds_dispatch(ds_kind, head, r);
}

SEC("syscall")
int ds_init(struct skel_init_args *a)
{
	void __arena *head;

	arena_loop_arm(0);	/* a slot's budget is whatever ran last: arm it */
	if (arena_init(a->max_pages, SKEL_RESERVE_LOW)) {
		a->rc = DS_ERROR_NOMEM;
		return 0;
	}
	/* The structure first (with a page for its first objects, e.g. a
	 * queue's dummy node), so a small arena still gets one. */
	arena_refill(1);
	if (!ds_head) {
		head = ds_create(ds_kind);
		if (!head) {
			a->rc = DS_ERROR_NOMEM;
			return 0;
		}
		ds_head = head;
	}
	arena_refill(SKEL_RESERVE_TARGET);
	a->rc = DS_SUCCESS;
	return 0;
}

/*
 * A batch's counters live here, one block per kernel worker (a worker runs
 * one batch at a time), not on ds_batch's stack: ds_batch plus skel_dispatch
 * (with the allocator inlined) must stay under the 512-byte stack limit.
 */
#define SKEL_MAX_KWORKERS 256
/* (Raw words: the generated skeleton header cannot name the struct.) */
__u64 batch_counts[SKEL_MAX_KWORKERS][sizeof(struct skel_counts) / 8];

SEC("syscall")
int ds_batch(struct skel_batch_args *a)
{
	struct skel_counts *c =
		(struct skel_counts *)batch_counts[(__u32)a->ctx_id % SKEL_MAX_KWORKERS];
	struct skel_mix mix;
	struct ds_req r = {};
	void __arena *head = ds_head;
	__u32 nops = a->nops, key_range = a->key_range, i, k;
	__u64 rng = a->rng;
	int rc, retry = 0;

	if (!head)
		return -1;
	mix.insert = a->mix.insert;
	mix.delete = a->mix.delete;
	mix.pop = a->mix.pop;
	mix.range = a->mix.range;
	struct lin_op __arena *hist = (struct lin_op __arena *)a->hist;
	__u64 hist_len = a->hist_len, hist_cap = a->hist_cap, ctx_id = a->ctx_id, t0 = 0;

	arena_loop_arm(op_budget);
	arena_refill(SKEL_RESERVE_TARGET);
	arena_loop_arm(op_budget);
	for (i = ARENA_ZERO; i < nops && can_loop; i++) {
		if (!retry)
			wl_pick(&rng, key_range, &mix, &r);
		/* Each operation its own budget: a spent one ends the batch
		 * (the loop's can_loop), not the next operations' work. */
		arena_loop_arm(op_budget);
		if (hist)
			t0 = bpf_ktime_get_ns();
		rc = skel_dispatch(head, &r);
		/* Sleepable: out of objects is fixed here, then the same
		 * operation runs again. */
		if (rc == DS_ERROR_NOMEM && !retry &&
		    (arena_loop_arm(op_budget), arena_refill(SKEL_RESERVE_TARGET) > 0)) {
			retry = 1;
			i--;
			continue;
		}
		retry = 0;
		/* A lock held by a descheduled context: end the batch so the
		 * worker goes back to userspace and lets it run, then retry.
		 * Only a batch's first operation counts a BUSY. */
		if (rc == DS_ERROR_BUSY && i)
			break;
		/* Roles (spsc, deque): hand FULL / empty back to the worker. */
		if ((rc == DS_ERROR_FULL && (a->flags & SKEL_BATCH_RETRY_FULL)) ||
		    (rc == DS_ERROR_NOT_FOUND && (a->flags & SKEL_BATCH_END_EMPTY))) {
			a->stop = rc;
			break;
		}
		skel_count(c, r.op, rc);
		if (hist && hist_len < hist_cap) {
			struct lin_op __arena *rec = hist + hist_len;

			rec->ret_ns = bpf_ktime_get_ns();
			rec->call_ns = t0;
			rec->ctx = ctx_id;
			rec->op = r.op;
			rec->key = r.key;
			rec->value = r.value;
			rec->rc = rc;
			rec->out_key = r.out_key;
			rec->out_value = r.out_value;
			hist_len++;
		}
	}
	a->hist_len = hist_len;
	for (k = 0; k < DS_OP_MAX; k++) {
		a->counts.calls[k] += c->calls[k];
		a->counts.ok[k] += c->ok[k];
		c->calls[k] = 0;
		c->ok[k] = 0;
	}
	for (k = 0; k < DS_NR_ERRORS; k++) {
		a->counts.err[k] += c->err[k];
		c->err[k] = 0;
	}
	a->counts.miss += c->miss;
	c->miss = 0;
	a->rng = rng;
	a->done = i;
	return 0;
}

SEC("syscall")
int ds_verify(struct skel_verify_args *a)
{
	void __arena *head = ds_head;
	struct ds_req r = { .op = DS_OP_VERIFY };

	if (!head) {
		a->rc = DS_ERROR_INVALID;
		return 0;
	}
	arena_loop_arm(verify_budget);
	a->flush_rc = ds_quiesce(ds_kind, head);
	arena_loop_arm(verify_budget);
#ifdef ARENA_SANITIZE
	arena_san_check_all();	/* freed objects still poisoned? (counted) */
#endif
	a->rc = skel_dispatch(head, &r);
	a->reason = ds_verify_reason(ds_kind, head);
	return 0;
}

/* ---------------------------------------------------------------- hooks */

/*
 * The page path of the hooks.  Kernels where bpf_arena_alloc_pages() is
 * sleepable-only (before 7.0): the non-sleepable hooks only take pages from
 * the reserve that sleepable programs and the driver keep stocked; an empty
 * reserve means DS_ERROR_NOMEM.  Kernels where any program may take arena
 * pages (tp_may_alloc, probed by the driver): an insert that finds the
 * reserve empty first takes a page from the kernel itself.  With
 * tp_may_alloc 0 the verifier never sees the call (dead code on a frozen
 * constant), so the same object loads on both.
 */
static __always_inline void hook_pages(void)
{
	int n;

	if (!tp_may_alloc || arena_reserve_pages())
		return;
	n = arena_refill(1);
	if (n > 0)
		__sync_fetch_and_add(&hook_direct_pages, n);
}

static __always_inline void hook_do(__u32 src, __u32 op, __u64 key, __u64 value)
{
	struct lin_op __arena *hist = hook_hist, *rec;
	__u64 __arena *lens = hook_hist_len;
	struct ds_req r = {};
	struct skel_counts *c;
	void __arena *head = ds_head;
	__u64 t0 = 0, idx;
	__u32 cpu = 0;
	int rc;

	if (!head)
		return;
	if (hook_tripped) {
		__sync_fetch_and_add(&hook_skipped, 1);
		return;
	}
	if (op == DS_OP_INSERT)
		hook_pages();
	r.op = op;
	r.key = key;
	r.value = value;
	if (hist)
		t0 = bpf_ktime_get_ns();
	arena_loop_arm(hook_budget);
	rc = skel_dispatch(head, &r);
	if (rc == DS_ERROR_BUSY || rc == DS_ERROR_CORRUPT) {
		__sync_fetch_and_add(&hook_busy, 1);
		if (__sync_fetch_and_add(&hook_fail_row, 1) + 1 >= hook_breaker_limit &&
		    hook_breaker_limit)
			hook_tripped = 1;
	} else if (hook_fail_row) {
		hook_fail_row = 0;
	}
	if (hist && lens) {
		cpu = bpf_get_smp_processor_id();
		if (cpu < hook_hist_slots) {
			idx = arena_atomic_fetch_add(&lens[cpu], 1);
			if (idx < SKEL_HOOK_HIST_CAP) {
				rec = hist + (__u64)cpu * SKEL_HOOK_HIST_CAP + idx;
				rec->ret_ns = bpf_ktime_get_ns();
				rec->call_ns = t0;
				rec->ctx = LIN_CTX_HOOK(cpu);
				rec->op = op;
				rec->key = key;
				rec->value = value;
				rec->rc = rc;
				rec->out_key = r.out_key;
				rec->out_value = r.out_value;
			}
		}
	}
	c = bpf_map_lookup_elem(&hook_counts, &src);
	if (c)
		skel_count_atomic(c, op, rc);
}

/*
 * Hook entry: counted in flight, and off unless hooks_on.  Returns 1 if
 * the hook may act; then hook_leave(*saved) must follow.  The CPU slot's
 * step budget is saved here and put back by hook_leave(): a hook can run
 * in the middle of a preempted sleepable program on the same CPU (a verify
 * with no step budget) and must not leave its own budget behind there.
 */
static __always_inline int hook_enter(__u64 *saved)
{
	__sync_fetch_and_add(&hook_inflight, 1);
	if (!hooks_on) {
		__sync_fetch_and_add(&hook_inflight, -1);
		return 0;
	}
	*saved = arena_loop_save();
	return 1;
}

static __always_inline void hook_leave(__u64 saved)
{
	arena_loop_restore(saved);
	__sync_fetch_and_add(&hook_inflight, -1);
}

static __always_inline __u32 hook_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

SEC("lsm.s/inode_create")
int BPF_PROG(lsm_inode_create, struct inode *dir, struct dentry *dentry, umode_t mode)
{
	__u64 saved = 0;
	__u32 tgid = hook_tgid();

	if (tgid == own_tgid || !hook_enter(&saved))
		return 0;
	/* Sleepable: keep the reserve stocked for the non-sleepable hooks. */
	arena_loop_arm(hook_budget);
	if (arena_reserve_pages() < SKEL_RESERVE_LOW)
		arena_refill(SKEL_RESERVE_TARGET);
	hook_do(SKEL_HOOK_CREATE, DS_OP_INSERT, SKEL_HOOK_KEY(tgid), bpf_ktime_get_ns());
	hook_leave(saved);
	return 0;
}

SEC("lsm.s/file_open")
int BPF_PROG(lsm_file_open, struct file *file)
{
	__u64 saved = 0;
	__u32 tgid = hook_tgid();

	if (tgid != own_tgid && hook_enter(&saved)) {
		hook_do(SKEL_HOOK_OPEN, DS_OP_SEARCH, SKEL_HOOK_KEY(tgid), 0);
		hook_leave(saved);
	}
	return 0;
}

SEC("lsm/task_free")
int BPF_PROG(lsm_task_free, struct task_struct *task)
{
	__u64 saved = 0;
	/* Once per process: when its leader goes. */
	if (hook_exit_delete && task->pid == task->tgid && (__u32)task->tgid != own_tgid &&
	    hook_enter(&saved)) {
		hook_do(SKEL_HOOK_EXIT, DS_OP_DELETE, SKEL_HOOK_KEY(task->tgid), 0);
		hook_leave(saved);
	}
	return 0;
}

#define SKEL_O_CREAT 0100

SEC("tp/syscalls/sys_enter_openat")
int tp_openat(struct trace_event_raw_sys_enter *ctx)
{
	__u64 saved = 0;
	__u32 tgid = hook_tgid();

	if (tgid == own_tgid || !hook_enter(&saved))
		return 0;
	arena_loop_arm(hook_budget);
	if (ctx->args[2] & SKEL_O_CREAT)
		hook_do(SKEL_HOOK_CREATE, DS_OP_INSERT, SKEL_HOOK_KEY(tgid), bpf_ktime_get_ns());
	else
		hook_do(SKEL_HOOK_OPEN, DS_OP_SEARCH, SKEL_HOOK_KEY(tgid), 0);
	hook_leave(saved);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int tp_process_exit(void *ctx)
{
	__u64 saved = 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if (hook_exit_delete && (__u32)id == tgid && tgid != own_tgid && hook_enter(&saved)) {
		hook_do(SKEL_HOOK_EXIT, DS_OP_DELETE, SKEL_HOOK_KEY(tgid), 0);
		hook_leave(saved);
	}
	return 0;
}

#ifdef ARENA_SANITIZE
#include "san_plant.h"

/* Test-only (SKELETON_SAN_PLANT=kernel-<kind>): plant one memory bug. */
SEC("syscall")
int san_plant_prog(struct san_plant_args *a)
{
	arena_bind();
	arena_loop_arm(0);
	a->rc = san_plant(a->kind);
	return 0;
}
#endif

char LICENSE[] SEC("license") = "GPL";

/* ================================================================ relay */
/*
 * -w relay (src/relay.h): lane A is ds_head, lane B relay_lane_b, a second
 * structure of the same kind that userspace creates.  Kernel producers run
 * relay_produce, kernel consumers relay_consume, each from a worker thread
 * of its own; the movers in between are userspace threads.  This block is
 * self-contained: nothing above depends on it.
 */
#include "relay.h"

void __arena *relay_lane_b;
__u64 relay_recs[RELAY_MAX_PRODUCERS];	/* each producer's ring of side records */
__u64 relay_cap;			/* items per producer at most */
__u32 relay_nprod;
__u32 relay_nmovers;

/*
 * One producer batch: up to nops items into lane A, sequence numbers from
 * a->seq.  Ends early, with the item not sent, when lane A answers FULL or
 * another fault, or the item RELAY_RING before has not left lane B yet;
 * userspace retries.
 */
SEC("syscall")
int relay_produce(struct skel_relay_args *a)
{
	struct relay_rec __arena *recs = (struct relay_rec __arena *)a->state, *rec;
	void __arena *head = ds_head;
	struct ds_req r = {};
	__u64 seq = a->seq, first = a->seq, end = a->end, id = a->id, now, seen;
	__u32 i, nops = a->nops;
	int rc, retried = 0;

	if (!head || !recs)
		return -1;
	a->stop = 0;
	arena_loop_arm(op_budget);
	arena_refill(SKEL_RESERVE_TARGET);
	for (i = ARENA_ZERO; i < nops && seq < end && can_loop; i++) {
		arena_loop_arm(op_budget);
		rec = recs + (seq & RELAY_RING_MASK);
		if (rec->seq != seq) {
			/* First attempt for seq: the record's item is done? */
			if (seq >= RELAY_RING) {
				seen = rec->seen;
				if (!(seen >> 32)) {
					a->stop = RELAY_STOP_WINDOW;
					break;
				}
				if (seen != (RELAY_SEEN_A | RELAY_SEEN_B) ||
				    rec->seq != seq - RELAY_RING) {
					if (!a->bad) {
						a->bad_seq = seq - RELAY_RING;
						a->bad_seen = seen;
					}
					a->bad++;
				}
			}
			rec->seen = 0;
			rec->seq = seq;
		}
		now = bpf_ktime_get_ns();
		rec->t_enq = now;
		r.op = DS_OP_INSERT;
		r.key = RELAY_KEY(0, id, seq);
		r.value = now;
		rc = skel_dispatch(head, &r);
		if (rc == DS_ERROR_NOMEM && !retried &&
		    arena_refill(SKEL_RESERVE_TARGET) > 0) {
			retried = 1;
			i--;
			continue;
		}
		retried = 0;
		if (rc != DS_SUCCESS) {
			a->stop = rc;
			break;
		}
		seq++;
	}
	a->done = seq - first;
	a->seq = seq;
	return 0;
}

/* Account one item taken from lane B at @now. */
static __always_inline void relay_account(struct relay_cons_state __arena *st, __u64 key,
					  __u64 t_b, __u64 now)
{
	__u64 p = RELAY_KEY_PROD(key), m = RELAY_KEY_MOVER(key), seq = RELAY_KEY_SEQ(key);
	struct relay_rec __arena *rec;
	__u64 idx, last, t_a;

	st->items++;
	if (p >= relay_nprod || !m || m > relay_nmovers || seq >= relay_cap ||
	    !relay_recs[p & (RELAY_MAX_PRODUCERS - 1)]) {
		st->bad_key++;
		return;
	}
	rec = (struct relay_rec __arena *)relay_recs[p & (RELAY_MAX_PRODUCERS - 1)] +
	      (seq & RELAY_RING_MASK);
	relay_hist_add(&st->lat_b, now > t_b ? now - t_b : 0);
	if (rec->seq == seq) {
		/* t_enq first: once seen says "left lane B" the producer may
		 * reuse the record. */
		t_a = rec->t_enq;
		arena_atomic_add(&rec->seen, RELAY_SEEN_B);
		relay_hist_add(&st->lat_e2e, now > t_a ? now - t_a : 0);
	} else {
		st->stale++;	/* a copy of an item whose record was reused */
	}
	/* One mover moves one producer's items in the order it took them,
	 * and lane B keeps that order: per (producer, mover) they arrive
	 * here in increasing sequence. */
	idx = (p * RELAY_MAX_MOVERS + m - 1) & (RELAY_MAX_PRODUCERS * RELAY_MAX_MOVERS - 1);
	last = st->last[idx];
	if (seq + 1 <= last) {
		if (!st->order_viol) {
			st->viol_key = key;
			st->viol_prev = last - 1;
		}
		st->order_viol++;
	}
	st->last[idx] = seq + 1;
}

/* One consumer batch: up to nops items out of lane B; ends early on empty
 * (or BUSY), and userspace decides whether more can come. */
SEC("syscall")
int relay_consume(struct skel_relay_args *a)
{
	struct relay_cons_state __arena *st = (struct relay_cons_state __arena *)a->state;
	void __arena *head = relay_lane_b;
	struct ds_req r = {};
	__u32 i, nops = a->nops;
	int rc;

	if (!head || !st)
		return -1;
	a->stop = 0;
	for (i = ARENA_ZERO; i < nops && can_loop; i++) {
		arena_loop_arm(op_budget);
		r.op = DS_OP_POP;
		rc = skel_dispatch(head, &r);
		if (rc != DS_SUCCESS) {
			a->stop = rc;
			break;
		}
		relay_account(st, r.out_key, r.out_value, bpf_ktime_get_ns());
	}
	a->done = i;
	return 0;
}

/* Lane B's kernel-side verify (ds_verify does lane A). */
SEC("syscall")
int relay_verify(struct skel_relay_verify_args *a)
{
	void __arena *head = relay_lane_b;
	struct ds_req r = { .op = DS_OP_VERIFY };

	if (!head) {
		a->rc = DS_ERROR_INVALID;
		return 0;
	}
	arena_loop_arm(verify_budget);
	a->flush_rc = ds_quiesce(ds_kind, head);
	arena_loop_arm(verify_budget);
	a->rc = skel_dispatch(head, &r);
	a->reason = ds_verify_reason(ds_kind, head);
	return 0;
}
