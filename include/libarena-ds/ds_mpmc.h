/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_mpmc.h - bounded multi-producer multi-consumer FIFO ring with a
 * sequence number in every slot (Dmitry Vyukov's design), shared by BPF
 * programs and userspace threads.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_mpmc.c.
 */
#ifndef __LIBARENA_DS_MPMC_H
#define __LIBARENA_DS_MPMC_H

#include "api.h"

#ifndef DS_MPMC_CAPACITY
#define DS_MPMC_CAPACITY 4096
#endif
#if DS_MPMC_CAPACITY < 2 || (DS_MPMC_CAPACITY & (DS_MPMC_CAPACITY - 1))
#error "DS_MPMC_CAPACITY must be a power of two >= 2"
#endif
#define DS_MPMC_MASK ((__u64)DS_MPMC_CAPACITY - 1)

/*
 * Flags of a slot's sequence number (positions stay below 2^62): SKIP, the
 * slot was taken from a producer that stalled after its claim and every
 * lap passes it by (the low bits: the last position that did); REL, that
 * producer has come back and will not write the slot again.
 */
#define DS_MPMC_SKIP	(1ULL << 63)
#define DS_MPMC_REL	(1ULL << 62)
#define DS_MPMC_POS	(DS_MPMC_REL - 1)

struct ds_mpmc_slot {
	__u64 seq;		/* turn of this slot, see lib/ds_mpmc.c */
	__u64 key;
	__u64 value;
	__u64 stuck;		/* state (low 32 bits of seq) << 32 | when it was
				 * first seen stuck (ns >> 10) */
};

struct ds_mpmc_head {
	__u64 tail ARENA_ALIGNED_CL;	/* next position to enqueue */
	__u64 head ARENA_ALIGNED_CL;	/* next position to dequeue */
	__u32 capacity ARENA_ALIGNED_CL;
	__u32 verify_reason;
	__u64 abandoned;	/* stuck claims taken over (either side) */
	__s64 lost;		/* elements claimed by a consumer that never came
				 * back for its slot (taken over, not reclaimed) */
	struct ds_counters stats;
	struct ds_mpmc_slot slots[DS_MPMC_CAPACITY];
};


DS_DECLARE_API(mpmc);
DS_DECLARE_METADATA(mpmc);
DS_DECLARE_NO_EBR(mpmc)

/* Mode-specific entry points (see lib/ds_mpmc.c). */
DS_API int ds_mpmc_enqueue_mpmc(struct ds_mpmc_head __arena *h __arg_arena, __u64 key, __u64 value);
DS_API int ds_mpmc_dequeue_mpmc(struct ds_mpmc_head __arena *h __arg_arena, __u64 *key, __u64 *value);
DS_API int ds_mpmc_peek_mpmc(struct ds_mpmc_head __arena *h __arg_arena, __u64 *value);

#define ds_mpmc_new() ((struct ds_mpmc_head __arena *)ds_mpmc_new_u64())

#endif /* __LIBARENA_DS_MPMC_H */
