/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ident.h - who a userspace context is, and whether it is still alive:
 * the identity EBR records own (lib/ebr.h) and the allocator packs into a
 * guard or cache ownership word while a userspace thread holds it
 * (lib/alloc.h, "Dead holders").  Userspace only; a BPF program cannot die
 * mid-run and is never asked about.
 *
 * arena_ebr_me() is a thread's identity, made once per thread (one TLS
 * load afterwards); arena_ebr_owner_dead() tells, with one system call,
 * whether the thread behind an identity is gone (the generation bits are
 * not looked at, so an identity without them works too).  0 and
 * ARENA_EBR_REAPING (a reaper at work) are never dead: the allocator's 0
 * means "no userspace holder" (a BPF holder, or none).
 */
#ifndef __LIB_IDENT_H
#define __LIB_IDENT_H

#ifndef __BPF__
#include <libarena-ds/ebr.h>	/* ARENA_EBR_REAPING */
#include <unistd.h>
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>

/*
 * The calling thread's identity, computed once per thread: getpid() and
 * gettid() are system calls, far too slow for every operation.  A fork()
 * child forgets the copy it inherited (pthread_atfork, registered once).
 *
 * Layout: bit 63 borrowed mark (set in the record, not here), bits 44..61 a
 * generation, bits 22..43 the tgid, bits 0..21 the tid (pid_max is at most
 * 2^22).  The generation tells a thread apart from an earlier one with the
 * same ids: without it, a thread whose tid was reused would take the dead
 * one's record as its own (same owner word) between a reaper's liveness
 * check and its CAS, and the reaper would clear a live critical section.
 * It counts identities made in this process, offset by a per-process value
 * from the clock, so a reused pid starts elsewhere too.
 */
#define ARENA_EBR_ID_BITS	22
#define ARENA_EBR_ID_MASK	((1ULL << ARENA_EBR_ID_BITS) - 1)
#define ARENA_EBR_GEN_SHIFT	(2 * ARENA_EBR_ID_BITS)
#define ARENA_EBR_GEN_MASK	((1ULL << 18) - 1)
/* One per process, in lib/alloc.c: every translation unit that inlines
 * this header must see the same identity for a thread (a per-unit copy
 * would register one thread's record under two owners). */
extern __thread __u64 arena_ebr_me_cache;
__u64 arena_ebr_me_first(void);	/* a thread's first call: makes it */

static inline __u64 arena_ebr_me(void)
{
	__u64 me = arena_ebr_me_cache;

	return __builtin_expect(me != 0, 1) ? me : arena_ebr_me_first();
}

/* Is the thread behind @owner gone?  (A reused tid reads as alive: the
 * record is then kept, the safe direction; the generation keeps the new
 * thread from taking the old one's record as its own.) */
static inline int arena_ebr_owner_dead(__u64 owner)
{
	if (!owner || owner == ARENA_EBR_REAPING)
		return 0;
	return syscall(SYS_tgkill, (pid_t)((owner >> ARENA_EBR_ID_BITS) & ARENA_EBR_ID_MASK),
		       (pid_t)(owner & ARENA_EBR_ID_MASK), 0) < 0 && errno == ESRCH;
}
#endif /* !__BPF__ */

#endif /* __LIB_IDENT_H */
