/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_tree.h - AVL tree (unique keys, ordered) shared by BPF programs and
 * userspace threads, guarded by one arena spinlock.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_tree.c.
 */
#ifndef __LIBARENA_DS_TREE_H
#define __LIBARENA_DS_TREE_H

#include "api.h"
#include "lock.h"

struct ds_tree_node {
	struct ds_tree_node __arena *left;	/* free-list link once freed */
	struct ds_tree_node __arena *right;
	struct ds_tree_node __arena *parent;
	__u64 key;
	__u64 value;
	__s32 height;				/* leaf = 1 */
	__u32 pad;
};

struct ds_tree_head {
	struct ds_tree_node __arena *root;
	struct arena_spinlock lock;
	__u32 verify_reason;
	__u32 pad;
	struct ds_counters stats;
};


#define DS_TREE_NODE(v) ((struct ds_tree_node __arena *)(__u64)(v))

/*
 * BPF gives up on the lock after this many attempts instead of spinning
 * out the whole may_goto budget (about 250 ms on x86): on a kernel without
 * preemption a spinning program keeps a descheduled userspace holder off
 * its CPU, so a long spin only delays the holder.
 */
#define DS_TREE_BPF_LOCK_TRIES	(1U << 14)

DS_DECLARE_API(tree);
DS_DECLARE_METADATA(tree);
DS_DECLARE_NO_EBR(tree)

#define ds_tree_new() ((struct ds_tree_head __arena *)ds_tree_new_u64())

#endif /* __LIBARENA_DS_TREE_H */
