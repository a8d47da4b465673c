/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_hash_ops.h - the cores of insert and delete, and the element
 * count, inline: shared by the u64 table (lib/ds_hash.c, kw 0: the key
 * compare folds away) and the wide-key table (lib/ds_hash_kv.c).
 * Library-internal: not installed.
 */
#ifndef __DS_HASH_OPS_H
#define __DS_HASH_OPS_H

#include "ds_hash_walk.h"

/* Unroll the next loop (a constant trip count): clang and gcc spellings. */
#ifdef __clang__
#define DS_UNROLL _Pragma("unroll")
#else
#define DS_UNROLL _Pragma("GCC unroll 8")
#endif

/*
 * Word @i of the @size bytes at @src (the bytes of src + 8i .. in address
 * order, zero past @size).  No alignment needed.  The byte loop has a
 * constant trip count and is unrolled: no loop is left in BPF.  (Userspace
 * moves a whole word with one unaligned access.)
 */
static __always_inline __u64 ds_hash_kv_get_word(const __u8 __arena *src, __u32 size, __u32 i)
{
	__u64 w = 0;
	__u8 *wb = (__u8 *)&w;
	__u32 off = i * 8, b;

#ifndef __BPF__
	if (off + 8 <= size) {
		__builtin_memcpy(&w, src + off, 8);	/* one load */
		return w;
	}
#endif
DS_UNROLL
	for (b = 0; b < 8; b++)
		if (off + b < size)
			wb[b] = src[off + b];
	return w;
}

/* The inverse: the bytes of word @w to @dst + 8i, none past @size. */
static __always_inline void ds_hash_kv_put_word(__u8 __arena *dst, __u32 size, __u32 i, __u64 w)
{
	__u8 *wb = (__u8 *)&w;
	__u32 off = i * 8, b;

#ifndef __BPF__
	if (off + 8 <= size) {
		__builtin_memcpy(dst + off, &w, 8);	/* one store */
		return;
	}
#endif
DS_UNROLL
	for (b = 0; b < 8; b++)
		if (off + b < size)
			dst[off + b] = wb[b];
}

/*
 * Count one element in or out (@d = +1 / -1); every DS_HASH_CHECK_EVERY
 * changes of this slot (every nbuckets while smaller), look at the load
 * factor: above 1 (or below 1/8 and above the creation size), userspace
 * resizes here and BPF leaves a hint for a context that may take pages.
 */
static __always_inline void ds_hash_counted(struct ds_hash_head __arena *h, __s64 d)
{
	__s64 old = arena_atomic_fetch_add(&h->cnt[arena_slot()].n, d), n;
	__u32 size = ds_hash_nbuckets(h);

	/* Small tables look more often (every size changes of a slot). */
	if (old & ((size < DS_HASH_CHECK_EVERY ? size : DS_HASH_CHECK_EVERY) - 1))
		return;
	n = ds_hash_count(h);
	if (n <= (__s64)size && (n * 8 >= (__s64)size || size <= h->min_buckets) &&
	    arena_atomic_load(&h->ninit) >= arena_atomic_load(&h->span))
		return;
#ifdef __BPF__
	if (!arena_atomic_load(&h->grow_hint))
		arena_atomic_store(&h->grow_hint, 1);
#else
	ds_hash_maintain(h);
#endif
}

/*
 * Insert the element set up in @sc (sc->hv, sc->key = its split-order key;
 * u64 table, @kw 0: value sc->value; wide-key table: key words sc->kbuf,
 * value the @vsize bytes at @vsrc), inside the critical section @idx.
 * Returns DS_SUCCESS, DS_ERROR_EXISTS, DS_ERROR_NOMEM or DS_ERROR_BUSY.
 */
static __always_inline int ds_hash_insert_sc(struct ds_hash_head __arena *h, int idx,
					     struct ds_hash_scratch __arena *sc, __u32 kw,
					     const __u8 __arena *vsrc, __u32 vsize)
{
	struct ds_hash_node __arena *node = NULL;
	__u64 __arena *w;
	int rc = DS_ERROR_BUSY, f;
	__u32 i;

	while (can_loop) {
		f = ds_hash_find(h, idx, sc, kw);
		if (f < 0)
			break;
		if (f == DS_HASH_FOUND) {
			rc = DS_ERROR_EXISTS;
			break;
		}
		if (!node) {
			node = bpf_arena_alloc(kw ? ds_hash_kv_node_size(kw * 8, vsize) :
					       sizeof(*node));
			if (!node) {
				rc = DS_ERROR_NOMEM;
				break;
			}
			arena_atomic_store(&node->ebr_link, 0);	/* a stale free-list pop may read it */
			node->o = sc->key;
			if (!kw) {
				node->value = sc->value;
			} else {
				/* Key words, then value words (unpublished:
				 * plain stores). */
				w = ds_hash_kv_key(node);
				for (i = ARENA_ZERO; i < kw && can_loop; i++)
					w[i] = sc->kbuf[i & (DS_HASH_KV_KEY_WORDS - 1)];
				w += kw;
				for (i = ARENA_ZERO; i < (vsize + 7) / 8 && can_loop; i++)
					w[i] = ds_hash_kv_get_word(vsrc, vsize, i);
				if (i < (vsize + 7) / 8)
					break;	/* budget spent: freed below */
			}
		}
		node->next = sc->curr;
		if (arena_atomic_cmpxchg((__u64 __arena *)sc->prev, sc->curr, (__u64)node) ==
		    sc->curr) {
			node = NULL;
			rc = DS_SUCCESS;
			break;
		}
	}
	if (node)
		bpf_arena_free(node);	/* never published */
	return rc;
}

/*
 * Delete the element searched by @sc (set up as for ds_hash_insert_sc()),
 * inside the critical section @idx: mark it, then unlink it here or leave
 * it to a find.  Returns DS_SUCCESS, DS_ERROR_NOT_FOUND or DS_ERROR_BUSY.
 */
static __always_inline int ds_hash_delete_sc(struct ds_hash_head __arena *h, int idx,
					     struct ds_hash_scratch __arena *sc, __u32 kw)
{
	struct ds_hash_node __arena *curr;
	int rc = DS_ERROR_BUSY, f;
	__u64 next;

	while (can_loop) {
		f = ds_hash_find(h, idx, sc, kw);
		if (f < 0)
			break;
		if (f != DS_HASH_FOUND) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		curr = DS_HASH_PTR(sc->curr);
		next = arena_atomic_load_acquire(&curr->next);
		if (next & DS_HASH_MARK)
			continue;	/* deleted meanwhile: look again */
		if (arena_atomic_cmpxchg(&curr->next, next, next | DS_HASH_MARK) != next)
			continue;
		/* Ours.  Unlink it here, or let a find do it. */
		if (arena_atomic_cmpxchg((__u64 __arena *)sc->prev, sc->curr, next) == sc->curr)
			arena_ebr_retire(&h->ebr, idx, curr);
		else
			ds_hash_find(h, idx, sc, kw);
		rc = DS_SUCCESS;
		break;
	}
	return rc;
}

#endif /* __DS_HASH_OPS_H */
