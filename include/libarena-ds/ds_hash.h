/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_hash.h - lock-free hash table that sizes itself (split-ordered list),
 * unique u64 keys, shared by BPF programs and userspace threads; or, for a
 * table made by ds_hash_new_kv() / ds_hash_init_kv(), keys and values of
 * any fixed size (the ds_hash_kv_* functions).
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_hash.c
 * and lib/ds_hash_kv.c.
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

/* Wide-key tables: sizes in bytes, each rounded up to 8 in a node. */
#define DS_HASH_KV_MAX_KEY	256
#define DS_HASH_KV_MAX_VALUE	1024
#define DS_HASH_KV_KEY_WORDS	(DS_HASH_KV_MAX_KEY / 8)

#define DS_HASH_MARK	1ULL	/* in a node's next: the node is deleted */
#define DS_HASH_DUMMY	2ULL	/* in a link: it points to a dummy */
#define DS_HASH_TAGS	(DS_HASH_MARK | DS_HASH_DUMMY)

/*
 * An element.  In a wide-key table the node is longer: its key (rounded up
 * to 8 bytes, zero-padded) starts at the place of value, its value follows
 * (ds_hash_kv_node_size()).  Dummies are 16-byte {next, o} pairs inside a segment; a link
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
	/* Wide-key tables: the key searched, as zero-padded words. */
	__u64 kbuf[DS_HASH_KV_KEY_WORDS] ARENA_ALIGNED_CL;
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
	__u16 key_size;		/* wide-key table: key bytes; 0: u64 keys */
	__u16 value_size;	/* wide-key table: value bytes */
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

/*
 * Wide keys and values (lib/ds_hash_kv.c).  In BPF every key and value
 * pointer is an arena pointer (a per-CPU staging area in the arena, an
 * object of bpf_arena_alloc()); in userspace any memory.  No alignment is
 * required.
 */
DS_API __u64 ds_hash_new_kv_u64(__u64 capacity, __u32 key_size, __u32 value_size);
DS_API int ds_hash_init_kv(struct ds_hash_head __arena *h __arg_arena, __u64 capacity,
			   __u32 key_size, __u32 value_size);
DS_API int ds_hash_kv_insert(struct ds_hash_head __arena *h __arg_arena,
			     const void __arena *key __arg_arena,
			     const void __arena *value __arg_arena);
DS_API int ds_hash_kv_lookup(struct ds_hash_head __arena *h __arg_arena,
			     const void __arena *key __arg_arena, void __arena *value __arg_arena);
DS_API int ds_hash_kv_delete(struct ds_hash_head __arena *h __arg_arena,
			     const void __arena *key __arg_arena);
DS_API int ds_hash_kv_update(struct ds_hash_head __arena *h __arg_arena,
			     const void __arena *key __arg_arena,
			     const void __arena *value __arg_arena);
DS_API __u64 ds_hash_kv_value_addr(struct ds_hash_head __arena *h __arg_arena,
				   const void __arena *key __arg_arena);

/* Bytes of an element of a wide-key table (key and value rounded up to 8). */
static __always_inline __u32 ds_hash_kv_node_size(__u32 key_size, __u32 value_size)
{
	return 24 + ((key_size + 7) & ~7U) + ((value_size + 7) & ~7U);
}

#ifndef __BPF__
/* Every element to @fn(key, value, ctx), in no key order (lib/ds_hash.c). */
long ds_hash_walk(struct ds_hash_head *h, int (*fn)(__u64 key, __u64 value, void *ctx),
		  void *ctx);
/* The same for a wide-key table: @fn gets the element's key and value in
 * the arena (lib/ds_hash_kv.c). */
long ds_hash_kv_walk(struct ds_hash_head *h,
		     int (*fn)(const void *key, const void *value, void *ctx), void *ctx);
#endif

#define ds_hash_new() ((struct ds_hash_head __arena *)ds_hash_new_u64())
/* A table sized for @capacity elements (it still grows and shrinks). */
#define ds_hash_new_cap(capacity) \
	((struct ds_hash_head __arena *)ds_hash_new_cap_u64(capacity))
/* A wide-key table: @key_size bytes of key, @value_size bytes of value. */
#define ds_hash_new_kv(capacity, key_size, value_size) \
	((struct ds_hash_head __arena *)ds_hash_new_kv_u64(capacity, key_size, value_size))
/* The arena address of @key's value (NULL: absent), see lib/ds_hash_kv.c. */
#define ds_hash_kv_value_ptr(h, key) ((void __arena *)ds_hash_kv_value_addr(h, key))

#endif /* __LIBARENA_DS_HASH_H */
