/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ebr.h - epoch-based reclamation shared by BPF programs and userspace
 * threads: design and inline implementation (types and the application
 * API: <libarena-ds/ebr.h>).
 *
 * Lock-free readers (list traversals, queue dequeues) may hold a pointer to a
 * node that a concurrent delete has just unlinked.  Such a node must not be
 * reused until every reader that could have seen it has finished.  EBR
 * proves that cheaply:
 *
 *   - a global epoch E, and ARENA_EBR_SLOTS participant records in the
 *     arena, one cache line each: 0 when free, (epoch << 1) | 1 when a
 *     critical section is running;
 *   - arena_ebr_enter() takes a record (see Records below) and publishes E
 *     in it; arena_ebr_exit() clears it.  A BPF program holds a published
 *     epoch for one operation; a userspace thread for one operation, or for
 *     a pinned section (arena_ebr_pin()) in which its operations only count
 *     their nesting in the record (`nest`, written by the holder alone);
 *   - arena_ebr_retire() pushes an unlinked node onto limbo[E % 3];
 *   - E advances to E+1 once every active record shows E; the list that
 *     then comes round again, limbo[(E+1) % 3], holds nodes retired at E-2,
 *     which no active critical section can reach, and is freed.
 *
 * Contract for structures: call enter before the first read of shared
 * nodes and exit after the last; retire a node only after it is unlinked
 * and only inside a critical section; a retired node keeps its first 8 bytes
 * for the limbo link (make it a field nobody else reads, e.g. `ebr_link`).
 *
 * Records.  The first ARENA_NR_CPU_SLOTS records serve BPF programs: a
 * program claims one (its CPU's, or the next free one when programs nest)
 * with a CAS on its state for the duration of one operation.  A BPF program
 * always terminates, so such a record is held for a bounded time.  The other
 * records serve userspace threads, which register: a thread claims its
 * slot's record by writing its identity (tgid << 32 | tid) into `owner` on
 * first use and keeps it; each operation then only publishes and clears
 * `state`.  A thread whose slot is owned by another live thread borrows any
 * record with no owner for one operation.
 *
 * Stalls.  An advancer that finds a record holding the epoch back stamps it
 * (`block_ns`); past `stall_ns` (ARENA_EBR_STALL_NS unless set) the record
 * counts as stalled, once per episode, in `stalls`.  The bound:
 *   - a thread that died inside (or after) a critical section can never
 *     touch a node again; a userspace advancer that meets its stalled record
 *     checks the owner with tgkill(tgid, tid, 0), and when the thread is
 *     gone it clears the record (`reaped`), so reclamation goes on;
 *   - a live thread that stalls (stopped, descheduled) may still read the
 *     nodes it holds, so nothing it could reach is freed: reclamation waits,
 *     memory grows (allocations end in NOMEM, never in a reuse), and the
 *     stall is reported.  arena_ebr_reap() runs the dead-owner check on
 *     every record, for a driver's housekeeping loop.
 */
#ifndef __LIB_EBR_H
#define __LIB_EBR_H

#include <libarena-ds/ebr.h>
#include "alloc.h"

#ifdef __BPF__
/*
 * The allocator's and EBR's own loops are bounded by may_goto and by
 * explicit counts (ARENA_EBR_FREE_MAX, ARENA_RECLAIM_SCAN), not by the
 * step budget: a budget test on every step of these long, branchy loops
 * multiplied the verifier's states past its limit.  Structure walks keep
 * the budget (can_loop as common.h defines it).
 */
#pragma push_macro("can_loop")
#undef can_loop
#define can_loop arena_may_goto()
#endif

/*
 * A record was just claimed with state @e << 1 | 1: make sure the epoch it
 * shows is current.  The claim was a full barrier; if E moved meanwhile,
 * publish the newer value (an advancer may not have seen our record).
 */
static __always_inline int arena_ebr_settle(struct arena_ebr __arena *ebr, __u32 idx, __u64 e)
{
	struct arena_ebr_rec __arena *rec = &ebr->rec[idx % ARENA_EBR_SLOTS];
	__u64 cur;

	arena_atomic_store(&rec->block_ns, 0);	/* a new episode */
	/* Store->load: an advancer either sees our record or we see its new
	 * epoch.  The claim (xchg/cmpxchg) is fully ordered; on weak CPUs C11
	 * still lets a later acquire load pass its store (arena_rmw_fence). */
	arena_rmw_fence();
	while (can_loop) {
		cur = arena_atomic_load_acquire(&ebr->epoch);
		if (cur == e)
			break;
		e = cur;
		arena_atomic_xchg(&rec->state, e << 1 | 1);
	}
	return (int)idx;
}

#ifdef __BPF__
/*
 * arena_ebr_enter - start a read-side critical section.
 * Concurrency: any context.  Lock-free: a bounded scan for a free record.
 * Returns the record index (pass it to arena_ebr_exit), or -1 when every
 * record is taken (callers return DS_ERROR_BUSY).
 */
static __always_inline int arena_ebr_enter(struct arena_ebr __arena *ebr)
{
	__u32 start = arena_slot(), i, idx;
	__u64 e;

	for (i = ARENA_ZERO; i < ARENA_NR_CPU_SLOTS && can_loop; i++) {
		idx = (start + i) % ARENA_NR_CPU_SLOTS;
		if (arena_atomic_load(&ebr->rec[idx].state))
			continue;
		e = arena_atomic_load_acquire(&ebr->epoch);
		if (arena_atomic_cmpxchg(&ebr->rec[idx].state, 0, e << 1 | 1) != 0)
			continue;
		return arena_ebr_settle(ebr, idx, e);
	}
	return -1;
}
#else
/* The identity scheme (arena_ebr_me(), arena_ebr_owner_dead()): lib/ident.h,
 * included by alloc.h; the allocator records guard holders with it too. */

/* Clear record @i if its owner thread is gone.  Returns 1 if cleared. */
static inline int arena_ebr_reap_rec(struct arena_ebr __arena *ebr, __u32 i)
{
	struct arena_ebr_rec __arena *rec = &ebr->rec[i % ARENA_EBR_SLOTS];
	__u64 o = arena_atomic_load(&rec->owner);

	if (i < ARENA_NR_CPU_SLOTS || !arena_ebr_owner_dead(o))
		return 0;
	/* Owner REAPING: nobody can claim the record meanwhile, and the dead
	 * thread will never write it again. */
	if (arena_atomic_cmpxchg(&rec->owner, o, ARENA_EBR_REAPING) != o)
		return 0;
	arena_atomic_store_release(&rec->state, 0);
	arena_atomic_store(&rec->block_ns, 0);
	arena_atomic_add(&ebr->reaped, 1);
	arena_atomic_store_release(&rec->owner, 0);
	return 1;
}

/*
 * arena_ebr_reap - clear the records of every thread that is gone, in a
 * critical section or not.  Userspace only (a housekeeping loop); any
 * number of callers, concurrently with everything.  Lock-free.  Returns the
 * number of records cleared.
 */
static inline int arena_ebr_reap(struct arena_ebr __arena *ebr)
{
	__u32 i;
	int n = 0;

	for (i = ARENA_NR_CPU_SLOTS; i < ARENA_EBR_SLOTS; i++)
		n += arena_ebr_reap_rec(ebr, i);
	return n;
}

/* Publish the epoch in the record @idx this thread owns (or borrowed): the
 * outermost section on it. */
static inline int arena_ebr_publish(struct arena_ebr __arena *ebr, __u32 idx)
{
	__u64 e = arena_atomic_load_acquire(&ebr->epoch);

	ebr->rec[idx].nest = 1;
	arena_atomic_xchg(&ebr->rec[idx].state, e << 1 | 1);
	return arena_ebr_settle(ebr, idx, e);
}

/*
 * arena_ebr_enter - start a read-side critical section.
 * Concurrency: any context.  Lock-free (userspace: registers the thread's
 * record on first use, then one xchg).  Returns the record index (pass it
 * to arena_ebr_exit), or -1 when every record is taken (callers return
 * DS_ERROR_BUSY).
 */
static __thread __u32 arena_ebr_misses;	/* slot found owned by another */

static inline int arena_ebr_enter(struct arena_ebr __arena *ebr)
{
	__u64 me = arena_ebr_me(), o;
	__u32 idx = arena_slot(), i, pass;

	/* Fast path: the slot's record is ours (registered on first use);
	 * inside a section of ours already (a pin), only count it. */
	o = arena_atomic_load(&ebr->rec[idx].owner);
	if (o == me) {
		if (ebr->rec[idx].nest) {
			ebr->rec[idx].nest++;
			return (int)idx;
		}
		return arena_ebr_publish(ebr, idx);
	}
	/* Someone else's: maybe a dead thread's.  Checking costs a system
	 * call, so only now and then. */
	if (!o || ((++arena_ebr_misses & 4095) == 1 && arena_ebr_reap_rec(ebr, idx))) {
		if (arena_atomic_cmpxchg(&ebr->rec[idx].owner, 0, me) == 0)
			return arena_ebr_publish(ebr, idx);
	}
	/* Slot held by another live thread: borrow a record for one
	 * operation (bit 63 marks it borrowed); only when none is free,
	 * reclaim the records of dead owners. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 1; i < ARENA_NR_THREAD_SLOTS; i++) {
			idx = ARENA_NR_CPU_SLOTS + (arena_slot() - ARENA_NR_CPU_SLOTS + i) %
				ARENA_NR_THREAD_SLOTS;
			o = arena_atomic_load(&ebr->rec[idx].owner);
			if (o && (!pass || !arena_ebr_reap_rec(ebr, idx)))
				continue;
			if (arena_atomic_cmpxchg(&ebr->rec[idx].owner, 0, me | 1ULL << 63) == 0)
				return arena_ebr_publish(ebr, idx);
		}
	}
	return -1;
}
#endif

/* arena_ebr_exit - end the critical section entered as @idx. Wait-free. */
static __always_inline void arena_ebr_exit(struct arena_ebr __arena *ebr, int idx)
{
	struct arena_ebr_rec __arena *rec;

	if (idx < 0)
		return;
	rec = &ebr->rec[idx % ARENA_EBR_SLOTS];
#ifndef __BPF__
	/* Only the record's holder writes nest (1 in its outermost section). */
	if (rec->nest > 1) {
		rec->nest--;
		return;
	}
	rec->nest = 0;
#endif
	arena_atomic_store_release(&rec->state, 0);
#ifndef __BPF__
	/* A borrowed record (bit 63 of the owner) goes back. */
	if (arena_atomic_load(&rec->owner) == (arena_ebr_me() | 1ULL << 63))
		arena_atomic_store_release(&rec->owner, 0);
#endif
}

/*
 * arena_ebr_unregister - give the calling thread's record back (thread
 * exit).  Only outside a critical section.  Wait-free.
 */
static __always_inline void arena_ebr_unregister(struct arena_ebr __arena *ebr)
{
#ifndef __BPF__
	__u32 idx = arena_slot();

	arena_atomic_cmpxchg(&ebr->rec[idx].owner, arena_ebr_me(), 0);
#else
	(void)ebr;
#endif
}

static __always_inline void arena_ebr_push(__u64 __arena *head, void __arena *node)
{
	__u64 old;

	while (can_loop) {
		old = arena_atomic_load_acquire(head);
		arena_atomic_store((__u64 __arena *)node, old);
		if (arena_atomic_cmpxchg(head, old, (__u64)node) == old)
			break;
	}
}

/* Put a detached limbo list back onto @head, node by node.  Returns what a
 * spent loop budget left unplaced (0 normally). */
static __always_inline __u64 arena_ebr_requeue(__u64 __arena *head, __u64 list)
{
	void __arena *node;

	while (list && can_loop) {
		if (!arena_ptr_ok(list))
			return 0;	/* a wild link: nothing behind it to keep */
		node = (void __arena *)list;
		list = *(__u64 __arena *)node;
		arena_ebr_push(head, node);
	}
	return list;
}

/*
 * Free the nodes of a detached limbo list (all safe), at most
 * ARENA_EBR_FREE_MAX in BPF: a list that grew during a stall may hold
 * millions, more than one program run may walk.  What is left (or what a
 * spent loop budget leaves) is parked with the allocator in one exchange,
 * wait-free; the allocator's drainer (arena_reclaim, arena_park_flush)
 * frees it.  Nothing is dropped.
 */
static __always_inline void arena_ebr_free_list(struct arena_ebr __arena *ebr, __u64 list)
{
	void __arena *node;

	/* (Without a bound, in userspace and in sanitizer builds, whose
	 * programs have no verifier room for the counter: can_loop ends it.) */
#ifdef ARENA_EBR_FREE_MAX
	__u32 n;

	for (n = ARENA_ZERO; list && n < ARENA_EBR_FREE_MAX && can_loop; n++) {
#else
	while (list && can_loop) {
#endif
		if (!arena_ptr_ok(list)) {
			/* A wild link (the arena was written behind our back):
			 * never follow it; what it cut off stays allocated. */
			arena_atomic_add(&ebr->corrupt, 1);
			return;
		}
		node = (void __arena *)list;
		list = *(__u64 __arena *)node;
		bpf_arena_free(node);
	}
	if (list && arena_alloc_st)
		arena_park_nodes(arena_alloc_st, list);
}


/*
 * An advancer that lost the race for epoch e -> e+1 holds the list it
 * detached: nodes retired at e-2 and maybe some retired since, at most at
 * the epoch now.  Park it in an orphan slot with one CAS, tagged with the
 * epoch from which all of it is safe (now + 3); a later advance frees it.
 * The slots are tried without a loop budget.  Only when all are taken does
 * it fall back to putting the nodes back one by one; a node even that
 * cannot place (budget spent) is counted in `lost`, never silently.
 */
static __always_inline void arena_ebr_orphan(struct arena_ebr __arena *ebr, __u64 e, __u64 list)
{
	__u64 now = arena_atomic_load_acquire(&ebr->epoch), w;
	__u32 i, first = arena_slot() % ARENA_EBR_ORPHANS;

	if (!list)
		return;
	/* The arena offset, not the address: addresses need more than 32
	 * bits (ARENA_BASE is 2^44, or 2^45 in ASAN builds). */
	w = ((now + 3) & ARENA_EBR_TAG_MASK) << ARENA_EBR_ADDR_BITS | arena_offset(list);
	/* The first try needs no loop budget. */
	if (arena_atomic_cmpxchg(&ebr->orphan[first], 0, w) == 0) {
		arena_atomic_add(&ebr->orphaned, 1);
		return;
	}
	for (i = ARENA_ZERO + 1; i < ARENA_EBR_ORPHANS && can_loop; i++) {
		if (arena_atomic_cmpxchg(&ebr->orphan[(first + i) % ARENA_EBR_ORPHANS], 0, w) == 0) {
			arena_atomic_add(&ebr->orphaned, 1);
			return;
		}
	}
	if (arena_ebr_requeue(&ebr->limbo[(e + 1) % 3], list))
		arena_atomic_add(&ebr->lost, 1);
}

/* After an advance to @e: if the orphan slot this epoch looks at (one per
 * advance, in turn: no loop, which keeps the verifier's work small) holds a
 * list that is safe now, it goes to the allocator's parked frees (one
 * exchange; its drainer frees it). */
static __always_inline void arena_ebr_free_orphans(struct arena_ebr __arena *ebr, __u64 e)
{
	__u64 __arena *slot = &ebr->orphan[e % ARENA_EBR_ORPHANS];
	__u64 w = arena_atomic_load(slot), tag;

	if (!w || !arena_alloc_st)
		return;
	tag = w >> ARENA_EBR_ADDR_BITS;
	/* e >= tag, modulo the tag width (the tag is at most 3 ahead) */
	if (((e - tag) & ARENA_EBR_TAG_MASK) > (ARENA_EBR_TAG_MASK >> 1))
		return;
	if (arena_atomic_cmpxchg(slot, w, 0) == w)
		arena_park_nodes(arena_alloc_st, ARENA_BASE | (w & ARENA_OFF_MASK));
}

/*
 * Record @i holds epoch @e back: stamp when that was first seen, count a
 * stall once it lasts longer than the threshold, and (userspace) clear it
 * if its owner is dead.  Returns 1 if the record no longer holds E back.
 */
static __always_inline int arena_ebr_note_block(struct arena_ebr __arena *ebr, __u32 i, __u64 e)
{
	struct arena_ebr_rec __arena *rec = &ebr->rec[i % ARENA_EBR_SLOTS];
	__u64 now = arena_now_ns(), b = arena_atomic_load(&rec->block_ns), lim, se;

	if (!b) {
		arena_atomic_cmpxchg(&rec->block_ns, 0, now);
		return 0;
	}
	lim = arena_atomic_load(&ebr->stall_ns);
	if (now - b < (lim ? lim : ARENA_EBR_STALL_NS))
		return 0;
	se = arena_atomic_load(&rec->stall_epoch);
	if (se != e + 1 && arena_atomic_cmpxchg(&rec->stall_epoch, se, e + 1) == se) {
		arena_atomic_add(&ebr->stalls, 1);
		arena_atomic_store(&ebr->stall_slot, i + 1);
	}
#ifndef __BPF__
	return arena_ebr_reap_rec(ebr, i);
#else
	return 0;
#endif
}

/*
 * arena_ebr_try_advance - move the epoch on if every active participant has
 * seen it, and free what became safe.  Any context, inside or outside a
 * critical section.  Returns 1 if the epoch advanced, 0 otherwise.
 */
static __always_inline int arena_ebr_try_advance(struct arena_ebr __arena *ebr)
{
	__u64 e = arena_atomic_load_acquire(&ebr->epoch), s, list;
	__u32 i;

	for (i = ARENA_ZERO; i < ARENA_EBR_SLOTS && can_loop; i++) {
		s = arena_atomic_load_acquire(&ebr->rec[i].state);
		if ((s & 1) && (s >> 1) != e) {
			if (arena_ebr_note_block(ebr, i, e))
				continue;
			arena_atomic_add(&ebr->blocked, 1);
			return 0;
		}
	}
	if (i < ARENA_EBR_SLOTS)
		return 0;
	/*
	 * Detach the list of epoch e-2 *before* moving the epoch: once E is
	 * e+1, new retirements land in the same list, and those must wait
	 * their own two epochs.  While E is e nobody can retire into it (no
	 * record holds e-2 then).
	 */
	list = arena_atomic_xchg(&ebr->limbo[(e + 1) % 3], 0);
	if (arena_atomic_cmpxchg(&ebr->epoch, e, e + 1) != e) {
		/* Someone else advanced: put the nodes back.  If they now share
		 * the list with retirements of e+1, they are only freed later. */
		arena_ebr_orphan(ebr, e, list);
		return 0;
	}
	arena_atomic_add(&ebr->advances, 1);
	arena_ebr_free_list(ebr, list);
	arena_ebr_free_orphans(ebr, e + 1);
	return 1;
}

#ifdef __BPF__
/*
 * In BPF an advance (with the frees it does) is a global function of its
 * own (lib/ebr.c): the verifier checks it once, instead of inside every
 * operation that may retire a node, where its loops multiplied the states.
 */
DS_API int arena_ebr_advance(struct arena_ebr __arena *ebr __arg_arena);
#else
#define arena_ebr_advance(ebr) arena_ebr_try_advance(ebr)
#endif

/*
 * arena_ebr_retire - hand an unlinked node to EBR; it is freed once no
 * critical section can still reach it.  Call inside the critical section
 * @idx.  Lock-free.
 */
static __always_inline void arena_ebr_retire(struct arena_ebr __arena *ebr, int idx,
					     void __arena *node)
{
	struct arena_ebr_rec __arena *rec = &ebr->rec[idx % ARENA_EBR_SLOTS];
	__u64 s = arena_atomic_load(&rec->state);

	arena_ebr_push(&ebr->limbo[(s >> 1) % 3], node);
	if (++rec->retired % ARENA_EBR_ADVANCE_EVERY == 0)
		arena_ebr_advance(ebr);
}

/*
 * arena_ebr_flush - free everything retired.  Only when no critical section
 * is running (e.g. after all workers stopped, before verify).  Returns 0
 * when limbo is empty afterwards, 1 if something is still waiting (a
 * participant is active or stalled).
 */
static __always_inline int arena_ebr_flush(struct arena_ebr __arena *ebr)
{
	__u32 i;

	/* Four advances free every limbo list; an orphan slot is looked at
	 * every fourth advance and its list is safe three epochs on: eight
	 * cover both. */
	for (i = ARENA_ZERO; i < 8 && can_loop; i++)
		arena_ebr_advance(ebr);
#ifndef __BPF__
	arena_park_flush();	/* what a BPF advance parked */
#endif
	for (i = ARENA_ZERO; i < ARENA_EBR_ORPHANS && can_loop; i++)
		if (arena_atomic_load(&ebr->orphan[i % ARENA_EBR_ORPHANS]))
			return 1;
	return (arena_atomic_load(&ebr->limbo[0]) | arena_atomic_load(&ebr->limbo[1]) |
		arena_atomic_load(&ebr->limbo[2])) != 0;
}

static __always_inline void arena_ebr_get_stats(struct arena_ebr __arena *ebr,
						struct arena_ebr_stats *out)
{
	__u32 i, n = 0;

	out->epoch = arena_atomic_load(&ebr->epoch);
	out->advances = arena_atomic_load(&ebr->advances);
	out->blocked = arena_atomic_load(&ebr->blocked);
	out->stalls = arena_atomic_load(&ebr->stalls);
	out->reaped = arena_atomic_load(&ebr->reaped);
	out->corrupt = arena_atomic_load(&ebr->corrupt);
	out->stall_slot = (__u32)arena_atomic_load(&ebr->stall_slot);
	for (i = ARENA_ZERO; i < ARENA_EBR_SLOTS && can_loop; i++)
		n += arena_atomic_load(&ebr->rec[i].state) & 1;
	out->active = n;
}

#ifdef __BPF__
#pragma pop_macro("can_loop")
#endif

#endif /* __LIB_EBR_H */
