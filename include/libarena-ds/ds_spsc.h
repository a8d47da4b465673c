/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_spsc.h - bounded single-producer single-consumer FIFO ring (Lamport's
 * ring with cached indices), shared by BPF programs and userspace threads.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_spsc.c.
 */
#ifndef __LIBARENA_DS_SPSC_H
#define __LIBARENA_DS_SPSC_H

#include "api.h"

#ifndef DS_SPSC_CAPACITY
#define DS_SPSC_CAPACITY 4096
#endif
#if DS_SPSC_CAPACITY < 2 || (DS_SPSC_CAPACITY & (DS_SPSC_CAPACITY - 1))
#error "DS_SPSC_CAPACITY must be a power of two >= 2"
#endif
#define DS_SPSC_MASK ((__u64)DS_SPSC_CAPACITY - 1)

struct ds_spsc_slot {
	__u64 key;
	__u64 value;
};

struct ds_spsc_head {
	/* consumer's cache line */
	__u64 head ARENA_ALIGNED_CL;	/* next position to dequeue */
	__u64 tail_cache;		/* consumer's last view of tail */
	/* producer's cache line */
	__u64 tail ARENA_ALIGNED_CL;	/* next position to enqueue */
	__u64 head_cache;		/* producer's last view of head */
	__u32 capacity ARENA_ALIGNED_CL;
	__u32 verify_reason;
	struct ds_counters stats;
	struct ds_spsc_slot slots[DS_SPSC_CAPACITY];
};


DS_DECLARE_API(spsc);
DS_DECLARE_METADATA(spsc);
DS_DECLARE_NO_EBR(spsc)

/* Mode-specific entry points (see lib/ds_spsc.c). */
DS_API int ds_spsc_enqueue_spsc(struct ds_spsc_head __arena *h __arg_arena, __u64 key, __u64 value);
DS_API int ds_spsc_dequeue_spsc(struct ds_spsc_head __arena *h __arg_arena, __u64 *key, __u64 *value);
DS_API int ds_spsc_peek_spsc(struct ds_spsc_head __arena *h __arg_arena, __u64 *value);

#define ds_spsc_new() ((struct ds_spsc_head __arena *)ds_spsc_new_u64())

#endif /* __LIBARENA_DS_SPSC_H */
