/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_btree.h - B+ tree (unique keys, ordered, leaf chain for range scans)
 * shared by BPF programs and userspace threads, guarded by one arena
 * spinlock.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_btree.c.
 */
#ifndef __LIBARENA_DS_BTREE_H
#define __LIBARENA_DS_BTREE_H

#include "api.h"
#include "lock.h"

#define DS_BTREE_LEAF_MAX	16	/* keys per leaf */
#define DS_BTREE_LEAF_MIN	8	/* keys per leaf except a root leaf */
#define DS_BTREE_INT_MAX	15	/* keys per internal node (16 children) */
#define DS_BTREE_INT_MIN	7	/* keys per internal node except the root */
#define DS_BTREE_MAX_DEPTH	8	/* levels; the pool can fill 7 at most */
#define DS_BTREE_POOL_NODES	16384
#define DS_BTREE_BPF_LOCK_TRIES	(1U << 14)

struct ds_btree_rec {
	__u64 key;
	__u64 value;
};

struct ds_btree_node {
	__u64 next;		/* leaf: next leaf; pooled: next free node */
	__u32 leaf;
	__u32 nkeys;
	/* One spare key and child: a node overflows by one, then splits. */
	__u64 keys[DS_BTREE_LEAF_MAX + 1];
	__u64 slot[DS_BTREE_LEAF_MAX + 2];	/* leaf: records; internal: children */
};

/*
 * A descent: the node at each level and the child index taken there.  It
 * lives in the head, not on the (512-byte) BPF stack: only the lock holder
 * (or verify, on a quiescent tree) uses it.
 */
struct ds_btree_path {
	__u64 node[DS_BTREE_MAX_DEPTH];
	__u32 idx[DS_BTREE_MAX_DEPTH];
};

/* verify's walk state, kept in the head (verify runs on a quiescent tree)
 * to spare BPF stack: every spilled register there counts. */
struct ds_btree_vstate {
	__u64 prev;		/* last leaf seen */
	__u64 cnt;		/* keys seen */
	__u64 last;		/* largest key seen */
	__u64 sep;		/* separator the next leaf must not go below */
	__s32 have_sep;
	__s32 leaf_depth;
};

struct ds_btree_head {
	__u64 root;
	__u32 depth;		/* levels below the root */
	__u32 verify_reason;
	struct arena_spinlock lock;
	__u64 free_nodes;	/* pool free list */
	__u32 pool_used;	/* pool nodes ever handed out */
	__u32 pool_free;	/* nodes on the free list */
	struct ds_btree_path path;	/* scratch of the lock holder / verify */
	struct ds_btree_vstate vs;	/* scratch of verify */
	struct ds_counters stats;
	struct ds_btree_node pool[DS_BTREE_POOL_NODES];
};


#define DS_BTREE_NODE(v) ((struct ds_btree_node __arena *)(__u64)(v))
#define DS_BTREE_REC(v) ((struct ds_btree_rec __arena *)(__u64)(v))

DS_DECLARE_API(btree);
DS_DECLARE_METADATA(btree);
DS_DECLARE_NO_EBR(btree)

#define ds_btree_new() ((struct ds_btree_head __arena *)ds_btree_new_u64())

#endif /* __LIBARENA_DS_BTREE_H */
