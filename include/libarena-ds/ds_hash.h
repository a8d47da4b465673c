/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_hash.h - lock-free hash table that sizes itself (split-ordered list),
 * unique u64 keys, shared by BPF programs and userspace threads.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_hash.c.
 */
#ifndef __LIBARENA_DS_HASH_H
#define __LIBARENA_DS_HASH_H

#include "api.h"

/* Buckets of a table made by ds_hash_init() (a power of two). */
#ifndef DS_HASH_BUCKETS
#define DS_HASH_BUCKETS 4096
#endif
#if DS_HASH_BUCKETS & (DS_HASH_BUCKETS - 1)
#error "DS_HASH_BUCKETS must be a power of two"
#endif
#define DS_HASH_MASK (DS_HASH_BUCKETS - 1)

#define DS_HASH_SEG_ORDER	12
#define DS_HASH_SEG		(1U << DS_HASH_SEG_ORDER)	/* dummies per segment */
#define DS_HASH_SEG_MASK	(DS_HASH_SEG - 1)
#define DS_HASH_MAX_ORDER	24
#define DS_HASH_MAX_BUCKETS	(1U << DS_HASH_MAX_ORDER)
#define DS_HASH_NSEG		(DS_HASH_MAX_BUCKETS / DS_HASH_SEG)
#define DS_HASH_MIN_BUCKETS	2	/* smallest table */
#define DS_HASH_CHECK_EVERY	256	/* slot count changes between load checks */
#define DS_HASH_GROW_BUDGET	(1U << 16)	/* dummies linked per maintain call in BPF */

#define DS_HASH_MARK	1ULL	/* in a node's next: the node is deleted */
#define DS_HASH_DUMMY	2ULL	/* in a link: it points to a dummy */
#define DS_HASH_TAGS	(DS_HASH_MARK | DS_HASH_DUMMY)

/*
 * An element.  Dummies are 16-byte {next, o} pairs inside a segment; a link
 * to a dummy holds its address - 8, so that next and o sit at the same
 * offsets as in an element (the 8 bytes before, ebr_link's place, are never
 * written for a dummy).
 */
struct ds_hash_node {
	__u64 ebr_link;		/* reserved for EBR while retired */
	__u64 next;		/* link to the next node | DS_HASH_MARK */
	__u64 o;		/* split-order key: ds_hash_okey(key) */
	__u64 value;
};

struct ds_hash_dummy {
	__u64 next;
	__u64 o;		/* bitreverse(bucket) */
};

/*
 * Per-operation state of insert and delete, one row per EBR record (an
 * operation owns its record for its whole critical section).  In the arena
 * rather than on the BPF stack, which the driver's dispatch frame has
 * little of.
 */
struct ds_hash_scratch {
	__u64 key;		/* the split-order key searched */
	__u64 hv;		/* its hash: ds_hash_mix(key) */
	__u64 value;
	__u64 prev;		/* address of the link that pointed to curr */
	__u64 curr;		/* link word to the first node not before key, or 0 */
} ARENA_ALIGNED_CL;

struct ds_hash_cnt {
	__s64 n;		/* inserts - deletes done from this slot */
} ARENA_ALIGNED_CL;

struct ds_hash_head {
	/* Read by every operation, written only by a resize. */
	__u32 nbuckets;		/* current size: a power of two */
	__u32 span;		/* dummies of buckets < span may be linked */
	__u32 ninit;		/* dummies of buckets < ninit are linked */
	__u32 min_buckets;	/* creation capacity: the floor of a shrink */
	__u32 verify_reason;
	__u32 pad0;
	/* Written rarely. */
	__u32 resize_lock ARENA_ALIGNED_CL;	/* 1 while a resize runs */
	__u32 grow_hint;	/* a context that cannot resize saw the load factor > 1 */
	__u32 max_buckets;	/* largest size published */
	__u32 pad1;
	__u64 grows;		/* doublings published */
	__u64 shrinks;		/* halvings published */
	struct arena_ebr ebr;
	struct ds_counters stats;
	struct ds_hash_scratch scratch[ARENA_EBR_SLOTS];
	struct ds_hash_cnt cnt[ARENA_NR_SLOTS];
	__u64 dir[DS_HASH_NSEG] ARENA_ALIGNED_CL;	/* segment addresses */
	struct ds_hash_dummy seg0[DS_HASH_SEG];		/* segment 0 */
};

typedef struct ds_hash_head ds_hash_head_t;
typedef struct ds_hash_node ds_hash_node_t;

#define DS_HASH_PTR(v) ((struct ds_hash_node __arena *)((v) & ~DS_HASH_TAGS))

/* 64-bit mixer, a bijection: every input bit affects every output bit. */
static __always_inline __u64 ds_hash_mix(__u64 x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	return x;
}

DS_DECLARE_API(hash);
DS_DECLARE_METADATA(hash);
DS_DECLARE_EBR(hash)

/* Mode-specific entry points (see lib/ds_hash.c). */
DS_API int ds_hash_init_cap(struct ds_hash_head __arena *h __arg_arena, __u64 capacity);
DS_API __u32 ds_hash_size(struct ds_hash_head __arena *h __arg_arena);
DS_API int ds_hash_maintain(struct ds_hash_head __arena *h __arg_arena);
DS_API int ds_hash_update(struct ds_hash_head __arena *h __arg_arena, __u64 key, __u64 value);
DS_API __u64 ds_hash_new_cap_u64(__u64 capacity);
DS_API __s64 ds_hash_count(struct ds_hash_head __arena *h __arg_arena);

#ifndef __BPF__
/* Every element to @fn(key, value, ctx), in no key order (lib/ds_hash.c). */
long ds_hash_walk(struct ds_hash_head *h, int (*fn)(__u64 key, __u64 value, void *ctx),
		  void *ctx);
#endif

#define ds_hash_new() ((struct ds_hash_head __arena *)ds_hash_new_u64())
/* A table sized for @capacity elements (it still grows and shrinks). */
#define ds_hash_new_cap(capacity) \
	((struct ds_hash_head __arena *)ds_hash_new_cap_u64(capacity))

#endif /* __LIBARENA_DS_HASH_H */
