/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_stack.h - Treiber lock-free LIFO stack, allocator-backed, shared by
 * BPF programs and userspace threads.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_stack.c.
 */
#ifndef __LIBARENA_DS_STACK_H
#define __LIBARENA_DS_STACK_H

#include "api.h"

struct ds_stack_node {
	__u64 ebr_link;		/* EBR's limbo link once retired; otherwise unused
				 * (never written here: the allocator may still
				 * read word 0 of a fresh object, see tsan.supp) */
	__u64 next;		/* address of the node below, 0 at the bottom */
	__u64 key;
	__u64 value;
};

struct ds_stack_head {
	__u64 top ARENA_ALIGNED_CL;	/* the newest node, 0 when empty */
	__u32 verify_reason;
	__u32 pad;
	struct arena_ebr ebr;
	struct ds_counters stats;
};


#define DS_STACK_PTR(v) ((struct ds_stack_node __arena *)(v))

DS_DECLARE_API(stack);
DS_DECLARE_METADATA(stack);
DS_DECLARE_EBR(stack)

/* Mode-specific entry points (see lib/ds_stack.c). */
DS_API int ds_stack_push_mpmc(struct ds_stack_head __arena *h __arg_arena, __u64 key, __u64 value);
DS_API int ds_stack_pop_mpmc(struct ds_stack_head __arena *h __arg_arena, __u64 *key, __u64 *value);

#define ds_stack_new() ((struct ds_stack_head __arena *)ds_stack_new_u64())

#endif /* __LIBARENA_DS_STACK_H */
