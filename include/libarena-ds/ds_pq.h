/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_pq.h - priority queue: a binary min-heap of (key = priority, value)
 * in a fixed array, shared by BPF programs and userspace threads and guarded
 * by one arena spinlock.  Duplicate keys are allowed.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_pq.c.
 */
#ifndef __LIBARENA_DS_PQ_H
#define __LIBARENA_DS_PQ_H

#include "api.h"
#include "lock.h"

#define DS_PQ_CAPACITY		(1U << 16)
#define DS_PQ_BPF_LOCK_TRIES	(1U << 14)

struct ds_pq_item {
	__u64 key;
	__u64 value;
};

struct ds_pq_head {
	struct arena_spinlock lock;
	__u32 count;
	__u32 verify_reason;
	__u32 scan_pos;		/* BPF range count's cursor (lib/ds_pq.c) */
	__u32 pad;
	struct ds_counters stats;
	struct ds_pq_item heap[DS_PQ_CAPACITY];
};


DS_DECLARE_API(pq);
DS_DECLARE_METADATA(pq);
DS_DECLARE_NO_EBR(pq)

#define ds_pq_new() ((struct ds_pq_head __arena *)ds_pq_new_u64())

#endif /* __LIBARENA_DS_PQ_H */
