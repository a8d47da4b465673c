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
 * Wide-key tables.  A key is compared as zero-padded 64-bit words (each
 * word the key's bytes in address order, loaded natively): a total order,
 * the same in BPF and userspace on one machine.  The list is ordered by
 * (o, key words); o is a hash of the words, so equal o between different
 * keys is a 64-bit hash collision, and the words decide only then.
 */
#define DS_HASH_CMP_BUSY 2	/* ds_hash_pos: the loop budget ran out */

/* The key words of element @n of a wide-key table (its value follows). */
#define ds_hash_kv_key(n) ((__u64 __arena *)&(n)->value)

/* Key words of a table (0: a u64 table). */
static __always_inline __u32 ds_hash_kw(struct ds_hash_head __arena *h)
{
	return ((__u32)h->key_size + 7) >> 3;
}

/* Order of @kw words at @a against those at @b: -1, 0, 1, or
 * DS_HASH_CMP_BUSY when the loop budget ran out before an answer. */
static __always_inline int ds_hash_kv_cmp(const __u64 __arena *a, const __u64 __arena *b,
					  __u32 kw)
{
	__u32 i;

	for (i = ARENA_ZERO; i < kw && can_loop; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return i < kw ? DS_HASH_CMP_BUSY : 0;
}

/*
 * Where the node behind @link, of split-order key @o, stands against the
 * element searched (split-order key @t; wide key @k of @kw words, kw 0 for
 * a u64 table, where o alone decides): -1 before it (a dummy of equal o
 * comes first), 0 it is that element, 1 after it, or DS_HASH_CMP_BUSY.
 * With kw a constant 0 this folds to ds_hash_before().
 */
static __always_inline int ds_hash_pos(__u64 link, __u64 o, __u64 t, const __u64 __arena *k,
				       __u32 kw)
{
	if (o != t)
		return o < t ? -1 : 1;
	if (link & DS_HASH_DUMMY)
		return -1;
	if (!kw)
		return 0;
	return ds_hash_kv_cmp(ds_hash_kv_key(DS_HASH_PTR(link)), k, kw);
}

/*
 * Walk to the element of hash @hv (and, in a wide-key table, key words @k
 * of @kw) without EBR: the caller is inside a critical section (or nothing
 * is freed meanwhile).  A u64 table's value is read into *@value (when
 * given) before the node is checked live.  Returns DS_SUCCESS (*@found:
 * the element, live when its next was read unmarked), DS_ERROR_NOT_FOUND,
 * or DS_ERROR_BUSY when the loop budget ran out.
 */
static __always_inline int ds_hash_lookup_kw(struct ds_hash_head __arena *h, __u64 hv,
					     const __u64 __arena *k, __u32 kw, __u64 *value,
					     struct ds_hash_node __arena **found)
{
	struct ds_hash_node __arena *curr;
	__u32 size = ds_hash_nbuckets(h);
	__u64 link, t = ds_hash_rev(hv);
	int c;

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
		c = ds_hash_pos(link, curr->o, t, k, kw);
		if (c == DS_HASH_CMP_BUSY)
			return DS_ERROR_BUSY;
		if (!c) {
			if (value)
				*value = arena_atomic_load_acquire(&curr->value);
			if (arena_atomic_load_acquire(&curr->next) & DS_HASH_MARK)
				return DS_ERROR_NOT_FOUND;
			*found = curr;
			return DS_SUCCESS;
		}
		if (c > 0)
			return DS_ERROR_NOT_FOUND;
		link = arena_atomic_load_acquire(&curr->next);
	}
	return DS_ERROR_BUSY;
}

/* ds_hash_lookup_kw() in a u64 table (what the benchmark's profile times). */
static __always_inline int ds_hash_lookup(struct ds_hash_head __arena *h, __u64 hv,
					  __u64 *value, struct ds_hash_node __arena **found)
{
	return ds_hash_lookup_kw(h, hv, NULL, 0, value, found);
}

#define DS_HASH_UNLINKED 1	/* ds_hash_find_step: sc->curr to retire */
#define DS_HASH_FOUND	 2	/* ds_hash_find: sc->curr is the element searched */

/*
 * One pass of ds_hash_find: walk from the dummy of sc->hv's bucket to the
 * first live node not before the element searched (split-order key
 * sc->key; in a wide-key table also the key words sc->kbuf, @kw of them).
 * Stops early after unlinking a marked node (its address in sc->curr, for
 * the caller to retire at a point with few live values).  Returns 0 or
 * DS_HASH_FOUND (sc->prev / sc->curr set), DS_HASH_UNLINKED, or
 * DS_ERROR_BUSY.
 */
static __always_inline int ds_hash_find_step(struct ds_hash_head __arena *h,
					     struct ds_hash_scratch __arena *sc, __u32 kw)
{
	struct ds_hash_node __arena *curr, *start;
	__u64 __arena *prev;
	__u64 link, next, t = sc->key;
	int c = 1;

	start = ds_hash_dummy_node(h, (__u32)(sc->hv & (ds_hash_nbuckets(h) - 1)));
	prev = &start->next;
	link = arena_atomic_load_acquire(prev);
	while (can_loop) {
		curr = DS_HASH_PTR(link);
		if (curr) {
			next = arena_atomic_load_acquire(&curr->next);
			if (next & DS_HASH_MARK) {
				if (arena_atomic_cmpxchg(prev, link, next & ~DS_HASH_MARK) != link) {
					/* The predecessor changed or was
					 * deleted: start over. */
					prev = &start->next;
					link = arena_atomic_load_acquire(prev);
					continue;
				}
				sc->curr = link;
				return DS_HASH_UNLINKED;
			}
			c = ds_hash_pos(link, curr->o, t, sc->kbuf, kw);
			if (c == DS_HASH_CMP_BUSY)
				return DS_ERROR_BUSY;
			if (c < 0) {
				prev = &curr->next;
				link = next;
				continue;
			}
		}
		sc->prev = (__u64)prev;
		sc->curr = link;
		return c ? 0 : DS_HASH_FOUND;
	}
	return DS_ERROR_BUSY;
}

/*
 * Find the first live node not before the element searched, unlinking
 * (and retiring) the marked nodes met on the way.  On return sc->prev is
 * the address of the link that held sc->curr (a link word, or 0).  Inside
 * the critical section @ebr_idx.  Returns 0, DS_HASH_FOUND (sc->curr is
 * the element), or DS_ERROR_BUSY.
 */
static __always_inline int ds_hash_find(struct ds_hash_head __arena *h, int ebr_idx,
					struct ds_hash_scratch __arena *sc, __u32 kw)
{
	int rc;

	while (can_loop) {
		rc = ds_hash_find_step(h, sc, kw);
		if (rc != DS_HASH_UNLINKED)
			return rc;
		arena_ebr_retire(&h->ebr, ebr_idx, DS_HASH_PTR(sc->curr));
	}
	return DS_ERROR_BUSY;
}

#ifndef __BPF__
/* Every live element to @fn(node, ctx) (lib/ds_hash.c; userspace). */
long ds_hash_walk_nodes(struct ds_hash_head *h, int (*fn)(struct ds_hash_node *n, void *ctx),
			void *ctx);
#endif

#endif /* __DS_HASH_WALK_H */
