/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/lock.h - a spinlock that lives in the arena and is taken by BPF
 * programs and userspace threads alike.
 *
 * A test-and-test-and-set lock on a 32-bit word.  In BPF the spin is bounded
 * by can_loop: when the budget runs out the caller gets DS_ERROR_BUSY and
 * must back out (the lock holder may be a preempted sleepable program or a
 * descheduled thread).  In userspace the spin yields the CPU after a while
 * and gives up after ARENA_LOCK_USER_SPINS rounds with DS_ERROR_BUSY too, so
 * no context can wait for ever.
 */
#ifndef __LIB_LOCK_H
#define __LIB_LOCK_H

#include <libarena-ds/lock.h>
#include "ds_internal.h"

#ifndef __BPF__
#include <sched.h>
#endif

#define ARENA_LOCK_USER_SPINS	(1UL << 24)

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
#else
#define can_loop true
#endif


/*
 * arena_spin_lock - take @l.
 * Concurrency: any context.  Blocking, bounded.
 * Returns 0 with the lock held, or DS_ERROR_BUSY without it.
 */
static __always_inline int arena_spin_lock(struct arena_spinlock __arena *l)
{
#ifndef __BPF__
	unsigned long spins = 0;
#endif

	while (can_loop) {
		if (!arena_atomic_load(&l->locked) &&
		    arena_atomic_cmpxchg(&l->locked, 0, 1) == 0) {
			l->owner = arena_slot();
			return 0;
		}
#ifndef __BPF__
		if (++spins >= ARENA_LOCK_USER_SPINS)
			return DS_ERROR_BUSY;
		if ((spins & 1023) == 0)
			sched_yield();
		else
			arena_cpu_relax();
#endif
	}
	return DS_ERROR_BUSY;
}

/* arena_spin_unlock - release @l, taken by this context.  Wait-free. */
static __always_inline void arena_spin_unlock(struct arena_spinlock __arena *l)
{
	arena_atomic_store_release(&l->locked, 0);
}

#pragma pop_macro("can_loop")

#endif /* __LIB_LOCK_H */
