/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_hash.h - lock-free hash table with a fixed number of buckets, unique
 * keys, shared by BPF programs and userspace threads.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_hash.c.
 */
#ifndef __LIBARENA_DS_HASH_H
#define __LIBARENA_DS_HASH_H

#include "api.h"

#ifndef DS_HASH_BUCKETS
#define DS_HASH_BUCKETS 4096
#endif
#if DS_HASH_BUCKETS & (DS_HASH_BUCKETS - 1)
#error "DS_HASH_BUCKETS must be a power of two"
#endif
#define DS_HASH_MASK (DS_HASH_BUCKETS - 1)

#define DS_HASH_MARK 1ULL

struct ds_hash_node {
	__u64 ebr_link;		/* reserved for EBR while retired */
	__u64 next;		/* address of the next node | DS_HASH_MARK */
	__u64 key;
	__u64 value;
};

/*
 * Per-operation state of insert and delete, one row per EBR record (an
 * operation owns its record for its whole critical section): the key, the
 * new value, and what the last find saw.  In the arena rather than on the
 * BPF stack, which the driver's dispatch frame has little of.
 */
struct ds_hash_scratch {
	__u64 key;
	__u64 value;
	__u64 prev;		/* address of the link that pointed to curr */
	__u64 curr;		/* first live node with key >= key, or 0 */
} ARENA_ALIGNED_CL;

struct ds_hash_head {
	__u32 verify_reason;
	__u32 nbuckets;		/* DS_HASH_BUCKETS, recorded at init */
	struct arena_ebr ebr;
	struct ds_counters stats;
	struct ds_hash_scratch scratch[ARENA_EBR_SLOTS];
	__u64 bucket[DS_HASH_BUCKETS];	/* first node of each bucket */
};


#define DS_HASH_PTR(v) ((struct ds_hash_node __arena *)((v) & ~DS_HASH_MARK))

/* 64-bit mixer: every input bit affects every output bit. */
static __always_inline __u64 ds_hash_mix(__u64 x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	return x;
}

/* Bucket index of @key. */
static __always_inline __u32 ds_hash_bucket_of(__u64 key)
{
	return (__u32)(ds_hash_mix(key) & DS_HASH_MASK);
}

DS_DECLARE_API(hash);
DS_DECLARE_METADATA(hash);
DS_DECLARE_EBR(hash)

/* Mode-specific entry points (see lib/ds_hash.c). */
DS_API int ds_hash_update(struct ds_hash_head __arena *h __arg_arena, __u64 key, __u64 value);

#define ds_hash_new() ((struct ds_hash_head __arena *)ds_hash_new_u64())

#endif /* __LIBARENA_DS_HASH_H */
