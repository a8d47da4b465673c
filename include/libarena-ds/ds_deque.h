/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_deque.h - Chase-Lev work-stealing deque on a bounded array, shared by
 * BPF programs and userspace threads.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_deque.c.
 */
#ifndef __LIBARENA_DS_DEQUE_H
#define __LIBARENA_DS_DEQUE_H

#include "api.h"

#ifndef DS_DEQUE_CAPACITY
#define DS_DEQUE_CAPACITY 4096
#endif
#if DS_DEQUE_CAPACITY < 2 || (DS_DEQUE_CAPACITY & (DS_DEQUE_CAPACITY - 1))
#error "DS_DEQUE_CAPACITY must be a power of two >= 2"
#endif
#define DS_DEQUE_MASK ((__u64)DS_DEQUE_CAPACITY - 1)


struct ds_deque_slot {
	__u64 key;
	__u64 value;
};

struct ds_deque_head {
	__u64 top ARENA_ALIGNED_CL;	/* oldest position; CAS by all */
	__u64 bottom ARENA_ALIGNED_CL;	/* next push position; owner only */
	__u32 capacity ARENA_ALIGNED_CL;
	__u32 verify_reason;
	struct ds_counters stats;
	struct ds_deque_slot slots[DS_DEQUE_CAPACITY];
};


DS_DECLARE_API(deque);
DS_DECLARE_METADATA(deque);
DS_DECLARE_NO_EBR(deque)

/* Mode-specific entry points (see lib/ds_deque.c). */
DS_API int ds_deque_push_owner(struct ds_deque_head __arena *h __arg_arena, __u64 key, __u64 value);
DS_API int ds_deque_pop_owner(struct ds_deque_head __arena *h __arg_arena, __u64 *key, __u64 *value);
DS_API int ds_deque_steal_any(struct ds_deque_head __arena *h __arg_arena, __u64 *key, __u64 *value);
DS_API int ds_deque_peek_any(struct ds_deque_head __arena *h __arg_arena, __u64 *value);

#define ds_deque_new() ((struct ds_deque_head __arena *)ds_deque_new_u64())

#endif /* __LIBARENA_DS_DEQUE_H */
