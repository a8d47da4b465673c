/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/lock.h - a spinlock that lives in the arena and is taken by BPF
 * programs and userspace threads alike.
 *
 * A test-and-test-and-set lock on a 64-bit holder word that says who holds
 * it: ARENA_LOCK_KERNEL | CPU slot for a BPF program, the thread's identity
 * (tgid, tid and a generation: arena_ebr_me()) for a userspace thread.  In
 * BPF a wait is bounded (the callers' tries, and can_loop): the caller gets
 * DS_ERROR_BUSY and must back out (the holder may be a preempted sleepable
 * program or a descheduled thread).  In userspace the spin yields the CPU
 * every 1024 rounds and gives up after ARENA_LOCK_USER_SPINS rounds with
 * DS_ERROR_BUSY too, so no context waits for ever.
 *
 * A holder that dies: a BPF program always runs to its end, but a
 * userspace thread or process can be killed inside a critical section.  A
 * userspace waiter that sees the same userspace holder at two yields in a
 * row asks the kernel whether that thread still exists (tgkill(tgid, tid,
 * 0), as EBR's reaper does); when it is gone, the waiter takes the lock
 * over with a CAS from the dead holder's word to its own and counts it in
 * `recovered`.  What the dead holder left half done stays as it was: the
 * structure's verify walks it afterwards and says CORRUPT if it is broken.
 * The generation in the identity keeps a new thread with a reused tid from
 * passing for the dead one.  BPF waiters cannot ask (no such helper in
 * every program type): they answer BUSY until a userspace caller of the
 * same structure has taken the lock over.
 */
#ifndef __LIB_LOCK_H
#define __LIB_LOCK_H

#include <libarena-ds/lock.h>
#include "ds_internal.h"

#ifndef __BPF__
#include <sched.h>
#include "ident.h"	/* arena_ebr_me(), arena_ebr_owner_dead() */
#endif

#ifndef ARENA_LOCK_USER_SPINS
#define ARENA_LOCK_USER_SPINS	(1UL << 24)
#endif

/*
 * A wait for the lock is not a walk: it is bounded by may_goto in BPF and
 * by ARENA_LOCK_USER_SPINS (with yields) in userspace, not by the step
 * budget, which a lock holder that was descheduled would otherwise spend
 * for every waiter (BUSY answers on a merely busy machine).
 */
#pragma push_macro("can_loop")
#undef can_loop
#ifdef __BPF__
#define can_loop arena_may_goto()
#endif

/* The calling context's holder word. */
static __always_inline __u64 arena_lock_me(void)
{
#ifdef __BPF__
	return ARENA_LOCK_KERNEL | arena_slot();
#else
	return arena_ebr_me();
#endif
}

/*
 * arena_spin_try - take @l for holder word @me (arena_lock_me()) if it is
 * free.  Any context; wait-free.  Returns 1 with the lock held, 0 without.
 */
static __always_inline int arena_spin_try(struct arena_spinlock __arena *l, __u64 me)
{
	return !arena_atomic_load(&l->holder) && arena_atomic_cmpxchg(&l->holder, 0, me) == 0;
}

#ifdef __BPF__
/*
 * arena_spin_lock_tries - BPF: take @l in at most @tries attempts (callers
 * keep them few: on a kernel without preemption a spinning program keeps a
 * descheduled userspace holder off its CPU).
 * Returns 0 with the lock held, or DS_ERROR_BUSY.
 */
static __always_inline int arena_spin_lock_tries(struct arena_spinlock __arena *l, __u32 tries)
{
	__u64 me = arena_lock_me();
	__u32 i;

	for (i = ARENA_ZERO; i < tries && can_loop; i++)
		if (arena_spin_try(l, me))
			return 0;
	return DS_ERROR_BUSY;
}
#else
/*
 * Take @l over from @holder if that is a userspace thread that no longer
 * exists.  Userspace only (a system call).  Returns 1 with the lock held.
 */
static inline int arena_spin_take_dead(struct arena_spinlock __arena *l, __u64 holder)
{
	if (!holder || (holder & ARENA_LOCK_KERNEL) || !arena_ebr_owner_dead(holder))
		return 0;
	if (arena_atomic_cmpxchg(&l->holder, holder, arena_ebr_me()) != holder)
		return 0;
	arena_atomic_add(&l->recovered, 1);
	return 1;
}

/*
 * arena_spin_lock - take @l.  Userspace (BPF callers use
 * arena_spin_lock_tries()).  Blocking, bounded by ARENA_LOCK_USER_SPINS
 * with yields; takes the lock over from a holder thread that died (see the
 * top of this file).
 * Returns 0 with the lock held, or DS_ERROR_BUSY without it.
 */
static inline int arena_spin_lock(struct arena_spinlock __arena *l)
{
	__u64 me = arena_ebr_me(), h, seen = 0;
	unsigned long spins;

	for (spins = 1;; spins++) {
		if (arena_spin_try(l, me))
			return 0;
		if (spins >= ARENA_LOCK_USER_SPINS)
			return DS_ERROR_BUSY;
		if ((spins & 1023) == 0) {
			/* The same holder at two yields in a row: alive? */
			h = arena_atomic_load(&l->holder);
			if (h && h == seen && arena_spin_take_dead(l, h))
				return 0;
			seen = h;
			sched_yield();
		} else {
			arena_cpu_relax();
		}
	}
}
#endif

/* arena_spin_unlock - release @l, taken by this context.  Wait-free. */
static __always_inline void arena_spin_unlock(struct arena_spinlock __arena *l)
{
	arena_atomic_store_release(&l->holder, 0);
}

#pragma pop_macro("can_loop")

#endif /* __LIB_LOCK_H */
