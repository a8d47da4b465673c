/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arena_ebr.h - epoch-based reclamation shared by BPF programs and userspace
 * threads.
 *
 * Lock-free readers (list traversals, queue dequeues) may hold a pointer to a
 * node that a concurrent delete has just unlinked.  Such a node must not be
 * reused until every reader that could have seen it has finished.  EBR
 * proves that cheaply:
 *
 *   - a global epoch E, and ARENA_EBR_SLOTS participant records in the
 *     arena, one cache line each: 0 when free, (epoch << 1) | 1 when a
 *     critical section is running;
 *   - arena_ebr_enter() claims a free record (starting from the caller's
 *     slot, so uncontended in the common case) and publishes E in it;
 *     arena_ebr_exit() clears it.  A BPF invocation holds a record only for
 *     its own duration, a userspace thread only for one operation;
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
 * Stalls: a participant that never leaves blocks the epoch; retired nodes
 * then wait (memory grows, nothing is reused early).  arena_ebr_stalled()
 * reports how many advance attempts were blocked.
 */
#ifndef __ARENA_EBR_H
#define __ARENA_EBR_H

#include "libarena_ds.h"

#define ARENA_EBR_SLOTS		ARENA_NR_SLOTS
#define ARENA_EBR_ADVANCE_EVERY	64	/* retires between advance attempts */

struct arena_ebr_rec {
	__u64 state;
	__u64 retired;		/* written only by the record's holder */
} ARENA_ALIGNED_CL;

struct arena_ebr {
	__u64 epoch ARENA_ALIGNED_CL;
	__u64 limbo[3] ARENA_ALIGNED_CL;	/* arena addresses, linked via word 0 */
	__u64 blocked ARENA_ALIGNED_CL;		/* advance attempts refused */
	__u64 advances;
	struct arena_ebr_rec rec[ARENA_EBR_SLOTS];
};

/*
 * arena_ebr_enter - start a read-side critical section.
 * Concurrency: any context.  Lock-free: bounded scan for a free record.
 * Returns the record index (pass it to arena_ebr_exit), or -1 when every
 * record is taken (callers return DS_ERROR_BUSY).
 */
static __always_inline int arena_ebr_enter(struct arena_ebr __arena *ebr)
{
	__u32 start = arena_slot(), i, idx;
	__u64 e, cur;

	for (i = ARENA_ZERO; i < ARENA_EBR_SLOTS && can_loop; i++) {
		idx = (start + i) % ARENA_EBR_SLOTS;
		if (arena_atomic_load(&ebr->rec[idx].state))
			continue;
		e = arena_atomic_load_acquire(&ebr->epoch);
		if (arena_atomic_cmpxchg(&ebr->rec[idx].state, 0, e << 1 | 1) != 0)
			continue;
		/* The CAS is a full barrier; if E moved meanwhile, publish the
		 * newer value (an advancer may not have seen our record). */
		while (can_loop) {
			cur = arena_atomic_load_acquire(&ebr->epoch);
			if (cur == e)
				break;
			e = cur;
			arena_atomic_xchg(&ebr->rec[idx].state, e << 1 | 1);
		}
		return (int)idx;
	}
	return -1;
}

/* arena_ebr_exit - end the critical section entered as @idx. Wait-free. */
static __always_inline void arena_ebr_exit(struct arena_ebr __arena *ebr, int idx)
{
	if (idx < 0)
		return;
	arena_atomic_store_release(&ebr->rec[idx % ARENA_EBR_SLOTS].state, 0);
}

static __always_inline void arena_ebr_push(__u64 __arena *head, void __arena *node)
{
	__u64 old;

	while (can_loop) {
		old = arena_atomic_load_acquire(head);
		*(__u64 __arena *)node = old;
		if (arena_atomic_cmpxchg(head, old, (__u64)node) == old)
			break;
	}
}

/* Put a detached limbo list back onto @head, node by node. */
static __always_inline void arena_ebr_requeue(__u64 __arena *head, __u64 list)
{
	void __arena *node;

	while (list && can_loop) {
		node = (void __arena *)list;
		list = *(__u64 __arena *)node;
		arena_ebr_push(head, node);
	}
}

/* Free every node on a detached limbo list. */
static __always_inline void arena_ebr_free_list(struct arena_ebr __arena *ebr, __u64 list)
{
	void __arena *node;

	while (list && can_loop) {
		node = (void __arena *)list;
		list = *(__u64 __arena *)node;
		bpf_arena_free(node);
	}
	/* A BPF loop budget that ran out leaves the rest (already safe) for
	 * a later round. */
	arena_ebr_requeue(&ebr->limbo[0], list);
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
		arena_ebr_requeue(&ebr->limbo[(e + 1) % 3], list);
		return 0;
	}
	arena_atomic_add(&ebr->advances, 1);
	arena_ebr_free_list(ebr, list);
	return 1;
}

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
		arena_ebr_try_advance(ebr);
}

/*
 * arena_ebr_flush - free everything retired.  Only when no critical section
 * is running (e.g. after all workers stopped, before verify).  Returns 0
 * when limbo is empty afterwards, 1 if something is still waiting (a
 * participant is active or stalled).
 */
static __always_inline int arena_ebr_flush(struct arena_ebr __arena *ebr)
{
	int i;

	for (i = 0; i < 4; i++)
		arena_ebr_try_advance(ebr);
	return (arena_atomic_load(&ebr->limbo[0]) | arena_atomic_load(&ebr->limbo[1]) |
		arena_atomic_load(&ebr->limbo[2])) != 0;
}

#endif /* __ARENA_EBR_H */
