/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_hash_walk.h - the split-ordered list's addressing and its lookup
 * walk, inline: lib/ds_hash.c builds on them, and the benchmark's profile
 * (bench/bench.bpf.c prof_run) times the walk alone.  Library-internal:
 * not installed.
 */
#ifndef __DS_HASH_WALK_H
#define __DS_HASH_WALK_H

#include <libarena-ds/ds_hash.h>
#include "ds_internal.h"

/* Bit reversal of a 64-bit word. */
static __always_inline __u64 ds_hash_rev(__u64 x)
{
	x = __builtin_bswap64(x);
	x = (x >> 4 & 0x0f0f0f0f0f0f0f0fULL) | (x & 0x0f0f0f0f0f0f0f0fULL) << 4;
	x = (x >> 2 & 0x3333333333333333ULL) | (x & 0x3333333333333333ULL) << 2;
	x = (x >> 1 & 0x5555555555555555ULL) | (x & 0x5555555555555555ULL) << 1;
	return x;
}

/* Split-order key of @key. */
static __always_inline __u64 ds_hash_okey(__u64 key)
{
	return ds_hash_rev(ds_hash_mix(key));
}

/* Bucket index of @key in a table of DS_HASH_BUCKETS buckets (the default
 * size); a table of n buckets uses ds_hash_mix(key) & (n - 1). */
static __always_inline __u32 ds_hash_bucket_of(__u64 key)
{
	return (__u32)(ds_hash_mix(key) & DS_HASH_MASK);
}

/* The table's size, inline: ds_hash_size() is a global function, a real
 * call in BPF, and every operation needs the size first. */
static __always_inline __u32 ds_hash_nbuckets(struct ds_hash_head __arena *h)
{
	return arena_atomic_load_acquire(&h->nbuckets);
}

/* Node view of the dummy of bucket @b (b < h->span, its segment exists). */
static __always_inline struct ds_hash_node __arena *
ds_hash_dummy_node(struct ds_hash_head __arena *h, __u32 b)
{
	__u64 seg = arena_atomic_load(&h->dir[(b >> DS_HASH_SEG_ORDER) & (DS_HASH_NSEG - 1)]);

	return (struct ds_hash_node __arena *)(seg + (__u64)(b & DS_HASH_SEG_MASK) *
					       sizeof(struct ds_hash_dummy) - 8);
}

/* The node view of @b's dummy as a link word (tagged). */
static __always_inline __u64 ds_hash_dummy_link(struct ds_hash_head __arena *h, __u32 b)
{
	return (__u64)ds_hash_dummy_node(h, b) | DS_HASH_DUMMY;
}

/* Does the node behind @link, with split-order key @o, come before an
 * element with key @t? */
static __always_inline int ds_hash_before(__u64 link, __u64 o, __u64 t)
{
	return o < t || (o == t && (link & DS_HASH_DUMMY));
}

#ifndef __BPF__
/* The key of element @n (userspace: tests and tools). */
static inline __u64 ds_hash_node_key(struct ds_hash_node *n)
{
	const __u64 c = 0xd6e8feb86659fd93ULL;
	__u64 inv = c, x = ds_hash_rev(n->o);
	int i;

	for (i = 0; i < 6; i++)
		inv *= 2 - c * inv;	/* Newton: inverse of c mod 2^64 */
	x ^= x >> 32;
	x *= inv;
	x ^= x >> 32;
	x *= inv;
	x ^= x >> 32;
	return x;
}
#endif

/*
 * Walk to the element of split-order key @t (hash @hv) without EBR: the
 * caller is inside a critical section (or nothing is freed meanwhile).
 * Returns the element (live when its next was read unmarked after *@v was
 * read), or NULL; DS_ERROR_BUSY through *@rc when the loop budget ran out.
 */
static __always_inline int ds_hash_lookup(struct ds_hash_head __arena *h, __u64 hv,
					  __u64 *value, struct ds_hash_node __arena **found)
{
	struct ds_hash_node __arena *curr;
	__u32 size = ds_hash_nbuckets(h);
	__u64 link, t = ds_hash_rev(hv), o;

	link = arena_atomic_load_acquire(&ds_hash_dummy_node(h, (__u32)(hv & (size - 1)))->next);
	while (can_loop) {
		curr = DS_HASH_PTR(link);
		if (!curr)
			return DS_ERROR_NOT_FOUND;
		/* The next bucket's dummy ends the run, unless dummies of a
		 * larger size may be linked (growth under way, or shrunk):
		 * h->span is raised before any of those is linked. */
		if ((link & DS_HASH_DUMMY) && arena_atomic_load(&h->span) == size)
			return DS_ERROR_NOT_FOUND;
		o = curr->o;
		if (o == t && !(link & DS_HASH_DUMMY)) {
			if (value)
				*value = arena_atomic_load_acquire(&curr->value);
			if (arena_atomic_load_acquire(&curr->next) & DS_HASH_MARK)
				return DS_ERROR_NOT_FOUND;
			*found = curr;
			return DS_SUCCESS;
		}
		if (!ds_hash_before(link, o, t))
			return DS_ERROR_NOT_FOUND;
		link = arena_atomic_load_acquire(&curr->next);
	}
	return DS_ERROR_BUSY;
}

#endif /* __DS_HASH_WALK_H */
