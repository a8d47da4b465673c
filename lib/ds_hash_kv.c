/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_hash_kv.c - the split-ordered hash table with keys and values of
 * any fixed size (issue 12), shared by BPF programs and userspace threads.
 *
 * A wide-key table is an ordinary ds_hash table (same head, dummies,
 * resizing, EBR; lib/ds_hash.c) whose head says key_size / value_size
 * (bytes, set at creation: ds_hash_new_kv(), ds_hash_init_kv()).  Its
 * operations are the ds_hash_kv_* functions; the u64 ones refuse it with
 * DS_ERROR_INVALID and these refuse a u64 table the same way.
 *
 * Element: {ebr_link, next, o, key words, value words}, both rounded up to
 * 8 bytes (the key zero-padded), allocated with bpf_arena_alloc() like any
 * node (so EBR-safe: freed after a grace period).  A key is read as 64-bit
 * words (its bytes in address order, ds_hash_kv_get_word()); its hash is a
 * chain of ds_hash_mix over the words, and o = bitreverse(hash) as for u64
 * keys, so bucket choice, dummies and resizing are the same.  Unlike for
 * u64 keys o does not identify the key: the list is ordered by (o, key
 * words), and a node of equal o costs one word-by-word compare (one per
 * successful lookup; more only on a 64-bit hash collision).
 *
 * Key and value arguments.  In BPF they are arena pointers (__arg_arena):
 * the verifier needs no size for them, and a program of any type (syscall,
 * tracepoint, ...) passes a staging buffer in the arena (a per-CPU slot of
 * an arena array, or an object from bpf_arena_alloc()).  Stack or map
 * memory is not accepted: copy it into the arena first.  In userspace any
 * memory.  No alignment is required of either.
 *
 * Values wider than 8 bytes: an update stores the value one 64-bit word at
 * a time, each word with one atomic (release) store, and a lookup loads it
 * one word at a time (acquire).  A word is never torn, but the value as a
 * whole is not atomic: a lookup running during an update may return some
 * words of the old value and some of the new one.  Callers that need whole
 * values consistent keep a version word in the value (a seqlock through
 * ds_hash_kv_value_ptr()), or give each field its own 8-byte word and
 * update it with atomics in place, or serialize the updates of a key and
 * read it only when quiet.
 */
#include <libarena-ds/ds_hash.h>
#include "ds_internal.h"
#include "ds_hash_ops.h"

#define DS_HASH_KV_SEED 0x9e3779b97f4a7c15ULL

/*
 * Hash of the key words: a chain of bijective mixes seeded with the key
 * size.  The unit test may redefine it (DS_HASH_KV_TEST_HASH) to force
 * split-order collisions.
 */
#ifndef DS_HASH_KV_TEST_HASH
#define DS_HASH_KV_TEST_HASH(hv) (hv)
#endif

/*
 * Set @sc up for @key in @h (kw words): its zero-padded words in sc->kbuf,
 * their hash in sc->hv and its split-order key in sc->key.  Returns 0 or
 * DS_ERROR_BUSY (loop budget spent).
 */
static __always_inline int ds_hash_kv_prepare(struct ds_hash_head __arena *h,
					      struct ds_hash_scratch __arena *sc,
					      const __u8 __arena *key, __u32 kw)
{
	__u64 hv = DS_HASH_KV_SEED ^ h->key_size, w;
	__u32 i, ks = h->key_size;

	for (i = ARENA_ZERO; i < kw && can_loop; i++) {
		w = ds_hash_kv_get_word(key, ks, i);
		sc->kbuf[i & (DS_HASH_KV_KEY_WORDS - 1)] = w;
		hv = ds_hash_mix(hv ^ w);
	}
	if (i < kw)
		return DS_ERROR_BUSY;
	hv = DS_HASH_KV_TEST_HASH(hv);
	sc->hv = hv;
	sc->key = ds_hash_rev(hv);
	return 0;
}

/*
 * The opening of every wide-key operation: @h must be a wide-key table
 * and @key given; enter an EBR critical section (*@idx) and set up its
 * scratch row (*@sc) for @key.  Returns 0 (the caller exits *@idx),
 * DS_ERROR_INVALID or DS_ERROR_BUSY.
 */
static __always_inline int ds_hash_kv_begin(struct ds_hash_head __arena *h,
					    const void __arena *key, int *idx,
					    struct ds_hash_scratch __arena **sc)
{
	if (!h || !h->key_size || !key)
		return DS_ERROR_INVALID;
	*idx = arena_ebr_enter(&h->ebr);
	if (*idx < 0)
		return DS_ERROR_BUSY;
	*sc = &h->scratch[*idx & (ARENA_EBR_SLOTS - 1)];
	if (!ds_hash_kv_prepare(h, *sc, (const __u8 __arena *)key, ds_hash_kw(h)))
		return 0;
	arena_ebr_exit(&h->ebr, *idx);
	return DS_ERROR_BUSY;
}

/* The value words of element @n of @h. */
static __always_inline __u64 __arena *ds_hash_kv_val(struct ds_hash_head __arena *h,
						     struct ds_hash_node __arena *n)
{
	return ds_hash_kv_key(n) + ds_hash_kw(h);
}

/* Value words of @h's elements. */
static __always_inline __u32 ds_hash_vw(struct ds_hash_head __arena *h)
{
	return ((__u32)h->value_size + 7) >> 3;
}

/*
 * The live element of the key set up in @sc (*@found) and its value words
 * (NULL when not found: *@rc says why, see ds_hash_lookup_kw()).
 */
static __always_inline __u64 __arena *ds_hash_kv_find_val(struct ds_hash_head __arena *h,
							  struct ds_hash_scratch __arena *sc,
							  struct ds_hash_node __arena **found,
							  int *rc)
{
	*rc = ds_hash_lookup_kw(h, sc->hv, sc->kbuf, ds_hash_kw(h), NULL, found);
	return *rc == DS_SUCCESS ? ds_hash_kv_val(h, *found) : NULL;
}

/*
 * ds_hash_kv_insert - add @key (h->key_size bytes) with @value
 * (h->value_size bytes).
 * Concurrency: any number of BPF programs and userspace threads, with any
 * other operation on @h, a resize included.  Progress: lock-free (bounded
 * by can_loop in BPF); in userspace an insert that finds the load factor
 * above 1 also runs a resize step, as ds_hash_insert() does.
 * Returns DS_SUCCESS, DS_ERROR_EXISTS (key present, table unchanged),
 * DS_ERROR_NOMEM, DS_ERROR_BUSY (retry budget or EBR records exhausted),
 * or DS_ERROR_INVALID (a u64 table, or NULL arguments).
 */
DS_API int ds_hash_kv_insert(struct ds_hash_head __arena *h __arg_arena,
			     const void __arena *key __arg_arena,
			     const void __arena *value __arg_arena)
{
	struct ds_hash_scratch __arena *sc;
	int idx, rc;

	arena_bind();
	rc = ds_hash_kv_begin(h, value ? key : NULL, &idx, &sc);
	if (!rc) {
		rc = ds_hash_insert_sc(h, idx, sc, ds_hash_kw(h), (const __u8 __arena *)value,
				       h->value_size);
		arena_ebr_exit(&h->ebr, idx);
		if (rc == DS_SUCCESS)
			ds_hash_counted(h, 1);
	}
	if (h)
		ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/*
 * ds_hash_kv_delete - remove @key.
 * Concurrency: any context, with any other operation on @h.  Lock-free.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, DS_ERROR_BUSY, or
 * DS_ERROR_INVALID (a u64 table, or NULL arguments).
 */
DS_API int ds_hash_kv_delete(struct ds_hash_head __arena *h __arg_arena,
			     const void __arena *key __arg_arena)
{
	struct ds_hash_scratch __arena *sc;
	int idx, rc;

	arena_bind();
	rc = ds_hash_kv_begin(h, key, &idx, &sc);
	if (!rc) {
		rc = ds_hash_delete_sc(h, idx, sc, ds_hash_kw(h));
		arena_ebr_exit(&h->ebr, idx);
		if (rc == DS_SUCCESS)
			ds_hash_counted(h, -1);
	}
	if (h)
		ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_hash_kv_lookup - look @key up; copy its value (h->value_size bytes)
 * to @value when found and @value is not NULL.
 * Concurrency: any context, with any other operation on @h.  Wait-free
 * walk of one run (no retries; bounded by can_loop in BPF).  The value is
 * read word by word and the element is checked live afterwards, so every
 * word is one the key had while present; a value wider than 8 bytes read
 * during a ds_hash_kv_update() may mix words of the old and the new value
 * (see the top of this file).  On a return other than DS_SUCCESS, @value
 * may have been written.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, DS_ERROR_BUSY, or
 * DS_ERROR_INVALID (a u64 table, or a NULL key).
 */
DS_API int ds_hash_kv_lookup(struct ds_hash_head __arena *h __arg_arena,
			     const void __arena *key __arg_arena, void __arena *value __arg_arena)
{
	struct ds_hash_node __arena *found = NULL;
	struct ds_hash_scratch __arena *sc;
	__u64 __arena *v;
	int idx, rc;
	__u32 i;

	arena_bind();
	rc = ds_hash_kv_begin(h, key, &idx, &sc);
	if (rc)
		goto out;
	v = ds_hash_kv_find_val(h, sc, &found, &rc);
	if (v && value) {
		for (i = ARENA_ZERO; i < ds_hash_vw(h) && can_loop; i++)
			ds_hash_kv_put_word((__u8 __arena *)value, h->value_size, i,
					    arena_atomic_load_acquire(&v[i]));
		if (i < ds_hash_vw(h))
			rc = DS_ERROR_BUSY;
		else if (arena_atomic_load_acquire(&found->next) & DS_HASH_MARK)
			rc = DS_ERROR_NOT_FOUND;	/* deleted while read */
	}
	arena_ebr_exit(&h->ebr, idx);
out:
	if (h)
		ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

/*
 * ds_hash_kv_update - overwrite the value of @key in place with @value
 * (not counted in the op statistics).
 * Concurrency: any context, with any other operation on @h.  Wait-free:
 * one run walk, then one atomic (release) 64-bit store per value word.
 * Not atomic as a whole for values wider than 8 bytes: a concurrent
 * lookup may see a mix of old and new words (never a torn word), and two
 * concurrent updates of one key may leave a mix of both.  A concurrent
 * delete of @key may take effect just before the stores (they then go to
 * the deleted element, and are lost).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, DS_ERROR_BUSY (in BPF also when
 * the loop budget ran out half way: a prefix of the words is written), or
 * DS_ERROR_INVALID (a u64 table, or NULL arguments).
 */
DS_API int ds_hash_kv_update(struct ds_hash_head __arena *h __arg_arena,
			     const void __arena *key __arg_arena,
			     const void __arena *value __arg_arena)
{
	struct ds_hash_scratch __arena *sc;
	struct ds_hash_node __arena *found = NULL;
	int idx, rc;
	__u64 __arena *v;
	__u32 i;

	arena_bind();
	rc = ds_hash_kv_begin(h, value ? key : NULL, &idx, &sc);
	if (rc)
		return rc;
	v = ds_hash_kv_find_val(h, sc, &found, &rc);
	for (i = ARENA_ZERO; v && i < ds_hash_vw(h) && can_loop; i++)
		arena_atomic_store_release(&v[i], ds_hash_kv_get_word(
			(const __u8 __arena *)value, h->value_size, i));
	if (v && i < ds_hash_vw(h))
		rc = DS_ERROR_BUSY;
	arena_ebr_exit(&h->ebr, idx);
	return rc;
}

/*
 * ds_hash_kv_value_addr - the arena address of @key's value (its first
 * word is 8-byte aligned; value words are 8-byte aligned), for in-place
 * atomics on 8-byte fields (arena_atomic_fetch_add(), ...).  Use it
 * through ds_hash_kv_value_ptr().
 * Concurrency: any context, wait-free (one run walk).  The address stays
 * valid while @key is not deleted: the caller must know that no delete of
 * @key runs meanwhile (keys never deleted, or deleted only by this caller)
 * or that its accesses would be harmless to a freed element; after a
 * delete and a grace period the memory is reused.
 * Returns the address, or 0 (absent, a u64 table, NULL key, or the loop
 * budget ran out).
 */
DS_API __u64 ds_hash_kv_value_addr(struct ds_hash_head __arena *h __arg_arena,
				   const void __arena *key __arg_arena)
{
	struct ds_hash_node __arena *found = NULL;
	struct ds_hash_scratch __arena *sc;
	__u64 addr;
	int idx, rc;

	arena_bind();
	if (ds_hash_kv_begin(h, key, &idx, &sc))
		return 0;
	addr = (__u64)ds_hash_kv_find_val(h, sc, &found, &rc);
	arena_ebr_exit(&h->ebr, idx);
	return addr;
}

#ifndef __BPF__
struct ds_hash_kv_walk_ctx {
	int (*fn)(const void *key, const void *value, void *ctx);
	struct ds_hash_head *h;
	void *ctx;
};

static int ds_hash_kv_walk_one(struct ds_hash_node *n, void *ctx)
{
	struct ds_hash_kv_walk_ctx *w = ctx;

	return w->fn(ds_hash_kv_key(n), ds_hash_kv_val(w->h, n), w->ctx);
}

/*
 * ds_hash_kv_walk - call @fn(key, value, @ctx) for every element of a
 * wide-key table, @key and @value pointing at the element's bytes in the
 * arena (h->key_size and h->value_size of them; read them, do not keep the
 * pointers: the element may be freed once the walk returns).  In no key
 * order.  Userspace.  Concurrency: with any operation; an element present
 * the whole time is visited once, one inserted or deleted meanwhile may or
 * may not be; a value updated meanwhile may be seen torn between words.
 * Stops early when @fn returns non-zero.  Returns the elements visited,
 * DS_ERROR_BUSY (EBR records or the loop budget ran out), or
 * DS_ERROR_INVALID (a u64 table).
 */
long ds_hash_kv_walk(struct ds_hash_head *h,
		     int (*fn)(const void *key, const void *value, void *ctx), void *ctx)
{
	struct ds_hash_kv_walk_ctx w = { fn, h, ctx };

	arena_bind();
	if (!h || !h->key_size)
		return DS_ERROR_INVALID;
	return ds_hash_walk_nodes(h, ds_hash_kv_walk_one, &w);
}
#endif
