/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_msqueue.h - Michael-Scott lock-free FIFO queue, unbounded and
 * allocator-backed, shared by BPF programs and userspace threads.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_msqueue.c.
 */
#ifndef __LIBARENA_DS_MSQUEUE_H
#define __LIBARENA_DS_MSQUEUE_H

#include "api.h"

struct ds_msqueue_node {
	__u64 ebr_link;		/* EBR's limbo link once retired; otherwise unused
				 * (never written here: the allocator may still
				 * read word 0 of a fresh object, see tsan.supp) */
	__u64 next;		/* address of the next node, 0 at the end */
	__u64 key;
	__u64 value;
};

struct ds_msqueue_head {
	__u64 head ARENA_ALIGNED_CL;	/* the dummy node (consumers' end) */
	__u64 tail ARENA_ALIGNED_CL;	/* last node or one before (producers' end) */
	__u32 verify_reason;
	__u32 pad;
	struct arena_ebr ebr;
	struct ds_counters stats;
};


#define DS_MSQUEUE_PTR(v) ((struct ds_msqueue_node __arena *)(v))

DS_DECLARE_API(msqueue);
DS_DECLARE_METADATA(msqueue);
DS_DECLARE_EBR(msqueue)

/* Mode-specific entry points (see lib/ds_msqueue.c). */
DS_API int ds_msqueue_enqueue_mpmc(struct ds_msqueue_head __arena *h __arg_arena, __u64 key, __u64 value);
DS_API int ds_msqueue_dequeue_mpmc(struct ds_msqueue_head __arena *h __arg_arena, __u64 *key, __u64 *value);

#define ds_msqueue_new() ((struct ds_msqueue_head __arena *)ds_msqueue_new_u64())

#endif /* __LIBARENA_DS_MSQUEUE_H */
