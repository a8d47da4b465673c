/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_skiplist.h - lock-free ordered skip list (Fraser / Herlihy-Shavit),
 * unique keys, shared by BPF programs and userspace threads.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_skiplist.c.
 */
#ifndef __LIBARENA_DS_SKIPLIST_H
#define __LIBARENA_DS_SKIPLIST_H

#include "api.h"

#define DS_SKIP_LEVELS	12	/* p = 1/4: good up to ~16M keys */
#define DS_SKIP_MARK	1ULL

struct ds_skiplist_node {
	__u64 ebr_link;		/* reserved for EBR while retired */
	__u64 key;
	__u64 value;
	__u32 level;		/* links in next[], 1..DS_SKIP_LEVELS */
	__u32 ref;		/* inserter done + deleter done: 2 => unlink, retire */
	__u64 next[];		/* address of the next node at each level | mark */
};

/*
 * Per-operation state of one find: the key looked for, the predecessors'
 * link arrays (address of the head's or a node's next[0]) and the link
 * values after them.  Kept in the arena, not on the BPF stack: with it the
 * whole skip list fits the stack budget of the driver's dispatch frame.
 */
struct ds_skiplist_scratch {
	__u64 key;
	__u64 value;			/* insert: the new node's value, then the
					 * next level to link */
	__u64 preds[DS_SKIP_LEVELS];
	__u64 succs[DS_SKIP_LEVELS];
} ARENA_ALIGNED_CL;

struct ds_skiplist_head {
	__u64 next[DS_SKIP_LEVELS];	/* sentinel: links of key "minus infinity" */
	__u32 verify_reason;
	__u32 top;		/* DS_SKIP_LEVELS - 1, read back by the level loops */
	struct arena_ebr ebr;
	struct ds_counters stats;
	struct ds_skiplist_scratch scratch[ARENA_EBR_SLOTS];
};


#define DS_SKIP_PTR(v)	((struct ds_skiplist_node __arena *)((v) & ~DS_SKIP_MARK))
/* The links of a predecessor: the head's or a node's next[] array. */
#define DS_SKIP_LINKS(a) ((__u64 __arena *)(a))
#define DS_SKIP_LVL(l)	((l) & 15)

DS_DECLARE_API(skiplist);
DS_DECLARE_METADATA(skiplist);
DS_DECLARE_EBR(skiplist)

#define ds_skiplist_new() ((struct ds_skiplist_head __arena *)ds_skiplist_new_u64())

#endif /* __LIBARENA_DS_SKIPLIST_H */
