/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_hash.c - lock-free hash table that sizes itself (split-ordered list),
 * unique u64 keys, shared by BPF programs and userspace threads.
 *
 * Layout (Shalev-Shavit split ordering)
 *   All elements sit in ONE Harris-Michael ordered list (marking of the
 *   next pointer, bit 0, then unlink by CAS; whoever unlinks retires the
 *   node to the head's EBR domain).  The list is sorted by the "split-order
 *   key" o = bitreverse(ds_hash_mix(key)).  ds_hash_mix is a bijection, so
 *   o identifies the key and the node stores o instead of the key.
 *   A table of 2^n buckets puts key k in bucket b = mix(k) & (2^n - 1).
 *   Bucket b owns a 16-byte dummy node with o = bitreverse(b), linked into
 *   the same list; since bitreverse(b) is the smallest o whose low n bits
 *   reversed are b, every element of bucket b lies between dummy(b) and the
 *   next dummy.  Doubling the table to 2^(n+1) buckets moves no element: it
 *   links dummy(b + 2^n) after dummy(b), splitting that bucket's run.
 *   Links pointing to a dummy carry DS_HASH_DUMMY (bit 1), and at equal o a
 *   dummy sorts before an element.
 *
 * Directory
 *   Dummies live in segments of DS_HASH_SEG; segment 0 is inline in the
 *   head (so ds_hash_init takes no pages), the others are arena_alloc_large
 *   arrays listed in h->dir[].  A dummy never moves and is never freed, so
 *   nothing of the directory is ever retired.  Lookup cost: one mix, one
 *   bit reversal, h->nbuckets and h->dir[] (read-mostly lines), the
 *   bucket's dummy, then the run of its elements.  No atomic RMW.
 *
 * Resizing (ds_hash_maintain)
 *   Only contexts that may take pages resize: userspace threads (an insert
 *   that sees the load factor above 1 runs it inline), sleepable BPF
 *   programs, and the driver's housekeeping.  Non-sleepable BPF programs
 *   only notice the load factor (h->grow_hint).  A resize is serialized by
 *   a try-lock (nobody waits for it) and is incremental: it first raises
 *   h->span (dummies beyond nbuckets may now be linked), then links the new
 *   dummies, and publishes the doubled h->nbuckets only when all are
 *   linked.  Operations keep running meanwhile: one that read the old size
 *   starts from the parent bucket's dummy and walks through the new dummy,
 *   which is correct, only longer.  Shrinking halves h->nbuckets when the
 *   load factor drops below 1/8 (never below the creation capacity); it is
 *   logical: the dummies above stay linked and their segments stay
 *   allocated, ready for the next growth (which then only republishes the
 *   size).  Memory of the directory is therefore held at the largest size
 *   reached.
 *
 * Element count: per-slot words (cnt[]), one uncontended atomic add per
 * successful insert/delete; summed only when checking the load factor
 * (every DS_HASH_CHECK_EVERY changes of a slot) and by verify.
 *
 * Progress: insert and delete are lock-free; search and ds_hash_update are
 * wait-free (one run walk, no retries).  In BPF every loop is bounded by
 * can_loop and a spent budget answers DS_ERROR_BUSY.
 *
 * Memory-reuse contract: a node is freed only after it is unlinked and a
 * grace period passed (arena_ebr.h); nodes that were never published are
 * freed at once.  Keys never change after publication; values change only
 * through ds_hash_update(), one atomic 64-bit store (8-byte values only).
 *
 * Wide keys and values (a table made by ds_hash_new_kv / ds_hash_init_kv)
 * are in lib/ds_hash_kv.c; the list walk, insert and delete are shared
 * with it (lib/ds_hash_walk.h, lib/ds_hash_ops.h: @kw 0 here, so the key
 * compare folds away), as are resizing and verify (which orders elements
 * of equal split-order key by their key words).
 */
#include <libarena-ds/ds_hash.h>
#include "ds_internal.h"
#include "ds_hash_ops.h"

/* Smallest power of two >= @cap within [DS_HASH_MIN_BUCKETS, MAX]. */
static __always_inline __u32 ds_hash_size_for(__u64 cap)
{
	__u32 n = DS_HASH_MIN_BUCKETS + ARENA_ZERO;

	while (n < cap && n < DS_HASH_MAX_BUCKETS && can_loop)
		n <<= 1;
	return n;
}

/*
 * ds_hash_init_cap - make @h an empty table sized for @capacity elements
 * (buckets: the power of two >= capacity, at least DS_HASH_MIN_BUCKETS, at
 * most DS_HASH_MAX_BUCKETS); the table never shrinks below that.  @h points
 * to zeroed memory of sizeof(*h) bytes (ds_create() gives that).  Takes no
 * pages: up to DS_HASH_SEG buckets are ready at once; above that the table
 * starts at DS_HASH_SEG and the first ds_hash_maintain() grows it to the
 * capacity (in userspace, ds_hash_new() does both).
 * Concurrency: before any other call on @h.  Returns DS_SUCCESS or
 * DS_ERROR_INVALID for a NULL head.
 */
DS_API int ds_hash_init_cap(struct ds_hash_head __arena *h __arg_arena, __u64 capacity)
{
	__u32 n = ds_hash_size_for(capacity), b, nb, lg;
	__u64 p;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	h->min_buckets = n;
	if (n > DS_HASH_SEG) {
		n = DS_HASH_SEG;
		h->grow_hint = 1;
	}
	h->dir[0] = (__u64)&h->seg0[0];
	for (lg = ARENA_ZERO; lg < 31 && (1U << lg) < n && can_loop; lg++)
		;
	h->dir[0] = (__u64)&h->seg0[0];
	for (b = ARENA_ZERO; b < n && can_loop; b++)
		h->seg0[b & DS_HASH_SEG_MASK].o = ds_hash_rev(b);
	/* One list: the dummies in split order, position p holding bucket
	 * bitreverse_lg(p); dummy 0 first. */
	for (p = ARENA_ZERO; p < n && can_loop; p++) {
		b = (__u32)(ds_hash_rev(p) >> (64 - lg));
		nb = (__u32)(ds_hash_rev(p + 1) >> (64 - lg));
		h->seg0[b & DS_HASH_SEG_MASK].next = p + 1 < n ? ds_hash_dummy_link(h, nb) : 0;
	}
	h->ninit = n;
	h->span = n;
	h->max_buckets = n;
	arena_atomic_store_release(&h->nbuckets, n);
	return DS_SUCCESS;
}

/* ds_hash_init - ds_hash_init_cap() with DS_HASH_BUCKETS buckets. */
DS_API int ds_hash_init(struct ds_hash_head __arena *h __arg_arena)
{
	arena_bind();
	return ds_hash_init_cap(h, DS_HASH_BUCKETS);
}

/* Bucket count an operation uses now (acquire: the dummies of every bucket
 * below it are linked). */
DS_API __u32 ds_hash_size(struct ds_hash_head __arena *h __arg_arena)
{
	arena_bind();
	return ds_hash_nbuckets(h);
}

/*
 * ds_hash_count - elements counted by the per-slot words.  Any context;
 * exact while nothing runs.
 */
DS_API __s64 ds_hash_count(struct ds_hash_head __arena *h __arg_arena)
{
	__s64 n = 0;
	__u32 i;

	arena_bind();
	for (i = ARENA_ZERO; i < ARENA_NR_SLOTS && can_loop; i++)
		n += arena_atomic_load(&h->cnt[i].n);
	return n;
}

/*
 * ds_hash_insert - add @key with @value.
 * Concurrency: any number of BPF programs and userspace threads, with any
 * other table operation, a resize included.  Progress: lock-free (bounded
 * by can_loop in BPF); in userspace an insert that finds the load factor
 * above 1 also runs a resize step (ds_hash_maintain: allocation, bounded).
 * Returns DS_SUCCESS, DS_ERROR_EXISTS (key present, table unchanged),
 * DS_ERROR_NOMEM, DS_ERROR_BUSY (retry budget or EBR records exhausted),
 * or DS_ERROR_INVALID (a wide-key table: use ds_hash_kv_insert()).
 */
DS_API int ds_hash_insert(struct ds_hash_head __arena *h __arg_arena, __u64 key,
					  __u64 value)
{
	struct ds_hash_scratch __arena *sc;
	int idx, rc = DS_ERROR_INVALID;
	__u64 hv = ds_hash_mix(key);

	arena_bind();
	if (h->key_size)
		goto out_count;		/* a wide-key table */
	rc = DS_ERROR_BUSY;
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	sc = &h->scratch[idx & (ARENA_EBR_SLOTS - 1)];
	sc->hv = hv;
	sc->key = ds_hash_rev(hv);
	sc->value = value;
	rc = ds_hash_insert_sc(h, idx, sc, 0, NULL, 0);
	arena_ebr_exit(&h->ebr, idx);
	if (rc == DS_SUCCESS)
		ds_hash_counted(h, 1);
out_count:
	ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/*
 * ds_hash_delete - remove @key.
 * Concurrency: any context, with any other table operation (a resize
 * included).  Lock-free.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, DS_ERROR_BUSY, or
 * DS_ERROR_INVALID (a wide-key table).
 */
DS_API int ds_hash_delete(struct ds_hash_head __arena *h __arg_arena, __u64 key)
{
	struct ds_hash_scratch __arena *sc;
	int idx, rc = DS_ERROR_INVALID;
	__u64 hv = ds_hash_mix(key);

	arena_bind();
	if (h->key_size)
		goto out_count;		/* a wide-key table */
	rc = DS_ERROR_BUSY;
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	sc = &h->scratch[idx & (ARENA_EBR_SLOTS - 1)];
	sc->hv = hv;
	sc->key = ds_hash_rev(hv);
	rc = ds_hash_delete_sc(h, idx, sc, 0);
	arena_ebr_exit(&h->ebr, idx);
	if (rc == DS_SUCCESS)
		ds_hash_counted(h, -1);
out_count:
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_hash_search - look @key up; store its value in *@value when found.
 * Concurrency: any context, with any other table operation (a resize
 * included).  Wait-free traversal of one run (no retries; bounded by
 * can_loop in BPF).  The value is read before the node is checked to be
 * live, so the answer is a value the key had while present.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, DS_ERROR_BUSY, or
 * DS_ERROR_INVALID (a wide-key table).
 */
DS_API int ds_hash_search(struct ds_hash_head __arena *h __arg_arena, __u64 key,
					  __u64 *value)
{
	struct ds_hash_node __arena *found;
	int idx, rc = DS_ERROR_INVALID;
	__u64 v = 0;

	arena_bind();
	if (h->key_size)
		goto out_count;		/* a wide-key table */
	rc = DS_ERROR_BUSY;
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	rc = ds_hash_lookup(h, ds_hash_mix(key), &v, &found);
	if (rc == DS_SUCCESS && value)
		*value = v;
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

/*
 * ds_hash_update - replace the value of @key in place (an extra to the
 * generic API; not counted in the op statistics).
 * Concurrency: any context, with any other table operation.  Wait-free
 * traversal plus one atomic 64-bit store.  A concurrent delete of @key may
 * take effect just after the update.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, DS_ERROR_BUSY, or
 * DS_ERROR_INVALID (a wide-key table).
 */
DS_API int ds_hash_update(struct ds_hash_head __arena *h __arg_arena, __u64 key,
					  __u64 value)
{
	struct ds_hash_node __arena *found;
	int idx, rc;

	arena_bind();
	if (h->key_size)
		return DS_ERROR_INVALID;	/* a wide-key table */
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		return DS_ERROR_BUSY;
	rc = ds_hash_lookup(h, ds_hash_mix(key), NULL, &found);
	if (rc == DS_SUCCESS)
		arena_atomic_store_release(&found->value, value);
	arena_ebr_exit(&h->ebr, idx);
	return rc;
}

/* ds_hash_pop - not supported (no order): returns DS_ERROR_INVALID. */
DS_API int ds_hash_pop(struct ds_hash_head __arena *h __arg_arena, __u64 *key,
				       __u64 *value)
{
	arena_bind();
	(void)key;
	(void)value;
	ds_count(&h->stats, DS_OP_POP, DS_ERROR_INVALID);
	return DS_ERROR_INVALID;
}

DS_DEFINE_NO_RANGE(hash)	/* no key order */

/*
 * Link the dummy of bucket @b (already initialized, not linked) into the
 * list, walking from the dummy of @parent (linked, and the run that @b
 * splits).  Inside the critical section @ebr_idx; in userspace unlinks and
 * retires marked elements met on the way, in BPF starts over until their
 * deleter has (bounded by can_loop).  Returns 0 or DS_ERROR_BUSY.
 */
static __always_inline int ds_hash_link_dummy(struct ds_hash_head __arena *h, int ebr_idx,
					      __u32 b, __u32 parent)
{
	struct ds_hash_node __arena *start = ds_hash_dummy_node(h, parent), *curr;
	struct ds_hash_node __arena *d = ds_hash_dummy_node(h, b);
	__u64 __arena *prev = &start->next;
	__u64 link = arena_atomic_load_acquire(prev), next, t = d->o;

	while (can_loop) {
		curr = DS_HASH_PTR(link);
		if (curr) {
			next = arena_atomic_load_acquire(&curr->next);
			if (next & DS_HASH_MARK) {
#ifndef __BPF__
				if (arena_atomic_cmpxchg(prev, link, next & ~DS_HASH_MARK) == link) {
					arena_ebr_retire(&h->ebr, ebr_idx, curr);
					link = next & ~DS_HASH_MARK;
					continue;
				}
#endif
				/* (BPF: the deleter or a find unlinks it; the
				 * retire path would make this program too
				 * complex for the verifier.)  Start over. */
				prev = &start->next;
				link = arena_atomic_load_acquire(prev);
				continue;
			}
			if (curr->o < t) {
				prev = &curr->next;
				link = next;
				continue;
			}
		}
		/* First node with o >= t: a dummy sorts before an element
		 * of equal o. */
		d->next = link;
		if (arena_atomic_cmpxchg(prev, link, (__u64)d | DS_HASH_DUMMY) == link)
			return 0;
		/* The predecessor changed or was deleted: start over. */
		prev = &start->next;
		link = arena_atomic_load_acquire(prev);
	}
	return DS_ERROR_BUSY;
}

/*
 * ds_hash_resize_step - bring the size in line with the element count:
 * finish a growth under way, else double while count > buckets or
 * buckets < the creation capacity, else halve (logically) while count <
 * buckets / 8 and buckets > the creation capacity.  Links at most @budget
 * new dummies, allocating their segments (arena_alloc_large).
 * Context: userspace, or sleepable BPF (takes pages).  Concurrency: with
 * any table operation; one resize at a time (try-lock: a second caller
 * returns at once).  Progress: bounded by @budget and can_loop.
 * Returns DS_SUCCESS (nothing left to do), DS_ERROR_BUSY (budget spent,
 * another resize running, or EBR records exhausted: call again),
 * DS_ERROR_NOMEM (no pages for a segment; the table stays usable).
 */
static __always_inline int ds_hash_resize_step(struct ds_hash_head __arena *h, __u32 budget)
{
	struct ds_hash_dummy __arena *d;
	__u32 size, target, b, done = ARENA_ZERO, seg;
	void __arena *p;
	int rc = DS_SUCCESS, idx;
	__s64 n;

	if (!h)
		return DS_ERROR_INVALID;
	if (arena_atomic_load(&h->resize_lock) ||
	    arena_atomic_cmpxchg(&h->resize_lock, 0, 1) != 0)
		return DS_ERROR_BUSY;
	arena_atomic_store(&h->grow_hint, 0);
	while (can_loop) {
		size = h->nbuckets;
		if (h->ninit < h->span) {
			target = h->span;	/* a growth under way */
		} else {
			n = ds_hash_count(h);
			if ((size < h->min_buckets || n > (__s64)size) &&
			    size < DS_HASH_MAX_BUCKETS) {
				target = size * 2;
			} else if (size > h->min_buckets && n * 8 < (__s64)size) {
				arena_atomic_store_release(&h->nbuckets, size / 2);
				arena_atomic_store(&h->shrinks, h->shrinks + 1);
				continue;
			} else {
				break;
			}
		}
		if (h->ninit >= target) {
			/* Every dummy linked: publish. */
			arena_atomic_store_release(&h->nbuckets, target);
			if (target > h->max_buckets)
				arena_atomic_store(&h->max_buckets, target);
			arena_atomic_store(&h->grows, h->grows + 1);
			continue;
		}
		if (h->span < target) {
			/* Before any new dummy is linked (the link CAS orders
			 * it): lookups stop ending runs at dummies. */
			arena_atomic_store_release(&h->span, target);
			arena_atomic_fence();
		}
		idx = arena_ebr_enter(&h->ebr);
		if (idx < 0) {
			rc = DS_ERROR_BUSY;
			break;
		}
		for (b = h->ninit; b < target && can_loop; b++) {
			if (done >= budget) {
				rc = DS_ERROR_BUSY;
				break;
			}
			seg = (b >> DS_HASH_SEG_ORDER) & (DS_HASH_NSEG - 1);
			if (!h->dir[seg]) {
				p = arena_alloc_large((__u64)DS_HASH_SEG * sizeof(*d));
				if (!p) {
					rc = DS_ERROR_NOMEM;
					break;
				}
				arena_atomic_store_release(&h->dir[seg], (__u64)p);
			}
			d = (struct ds_hash_dummy __arena *)(h->dir[seg] +
				(__u64)(b & DS_HASH_SEG_MASK) * sizeof(*d));
			d->o = ds_hash_rev(b);
			d->next = 0;
			if (ds_hash_link_dummy(h, idx, b, b - target / 2)) {
				rc = DS_ERROR_BUSY;
				break;
			}
			arena_atomic_store(&h->ninit, b + 1);
			done++;
		}
		arena_ebr_exit(&h->ebr, idx);
		if (rc)
			break;
	}
	arena_atomic_store_release(&h->resize_lock, 0);
	return rc;
}

/*
 * ds_hash_maintain - ds_hash_resize_step() with DS_HASH_GROW_BUDGET: what
 * the driver's housekeeping, sleepable programs and userspace inserts call.
 * Same contract and return codes.
 */
DS_API int ds_hash_maintain(struct ds_hash_head __arena *h __arg_arena)
{
	arena_bind();
	return ds_hash_resize_step(h, DS_HASH_GROW_BUDGET);
}

/*
 * ds_hash_new_cap - create a table sized for @capacity elements and grow it
 * to that size; a wide-key table when @key_size is not 0 (sizes checked by
 * the caller).  Sleepable BPF or userspace (a head and the directory
 * segments take pages).  Returns the head, or 0 when out of memory.
 */
static __always_inline __u64 __ds_hash_new_cap(__u64 capacity, __u32 key_size,
						__u32 value_size)
{
	struct ds_hash_head __arena *h = arena_alloc_large(sizeof(*h));
	int rc = DS_ERROR_BUSY, i;

	if (!h || ds_hash_init_cap(h, capacity))
		return 0;
	h->key_size = key_size;
	h->value_size = value_size;
	for (i = 0; i < 1024 && can_loop; i++) {
		rc = ds_hash_maintain(h);
		if (rc != DS_ERROR_BUSY)
			break;
	}
	return rc == DS_SUCCESS ? (__u64)h : 0;
}

DS_API __u64 ds_hash_new_cap_u64(__u64 capacity)
{
	arena_bind();
	return __ds_hash_new_cap(capacity, 0, 0);
}

/* Are @key_size and @value_size fit for a wide-key table? */
static __always_inline int ds_hash_kv_sizes_ok(__u32 key_size, __u32 value_size)
{
	return key_size >= 1 && key_size <= DS_HASH_KV_MAX_KEY &&
	       value_size >= 1 && value_size <= DS_HASH_KV_MAX_VALUE;
}

/*
 * ds_hash_new_kv - create a wide-key table: @key_size (1..DS_HASH_KV_MAX_KEY)
 * bytes of key, @value_size (1..DS_HASH_KV_MAX_VALUE) bytes of value, sized
 * for @capacity elements.  Only the ds_hash_kv_* operations work on it.
 * Sleepable BPF or userspace.  Returns the head, or 0 for sizes out of
 * range or when out of memory.
 */
DS_API __u64 ds_hash_new_kv_u64(__u64 capacity, __u32 key_size, __u32 value_size)
{
	arena_bind();
	if (!ds_hash_kv_sizes_ok(key_size, value_size))
		return 0;
	return __ds_hash_new_cap(capacity, key_size, value_size);
}

/*
 * ds_hash_init_kv - ds_hash_init_cap() for a wide-key table in zeroed
 * memory of sizeof(*h) bytes.  Concurrency: before any other call on @h.
 * Returns DS_SUCCESS, or DS_ERROR_INVALID (NULL head, sizes out of range).
 */
DS_API int ds_hash_init_kv(struct ds_hash_head __arena *h __arg_arena, __u64 capacity,
			   __u32 key_size, __u32 value_size)
{
	int rc;

	arena_bind();
	if (!h || !ds_hash_kv_sizes_ok(key_size, value_size))
		return DS_ERROR_INVALID;
	rc = ds_hash_init_cap(h, capacity);
	if (rc)
		return rc;
	h->key_size = key_size;
	h->value_size = value_size;
	return DS_SUCCESS;
}

/*
 * Position @p onwards in split order of a 2^@lg table: the first position
 * whose bucket is below @ninit (returns 2^lg when none is left).
 */
static __always_inline __u64 ds_hash_next_pos(__u64 p, __u32 lg, __u32 ninit)
{
	p += ARENA_ZERO;	/* opaque to the BPF verifier: one state, not one per p */
	while (p < (1ULL << lg) && can_loop) {
		if ((ds_hash_rev(p) >> (64 - lg)) < ninit)
			break;
		p++;
	}
	return p;
}

/*
 * ds_hash_verify - check the table, also in the middle of a resize: sizes
 * consistent (nbuckets a power of two <= ninit <= span, span = 2 x nbuckets
 * while a growth is under way) and every segment present
 * (DS_CORRUPT_SHAPE); the one list holds exactly the dummies of buckets
 * < ninit, each once and in split order at its own address (else
 * DS_CORRUPT_SHAPE); every other link points into the allocator's memory
 * (DS_CORRUPT_POINTER); no deleted node is still linked (DS_CORRUPT_MARK);
 * split-order keys strictly increase along the list, a dummy before an
 * element of equal key (DS_CORRUPT_ORDER / DS_CORRUPT_DUPLICATE; this also
 * rules out cycles); in a wide-key table elements of equal split-order key
 * are ordered by their key words instead (equal keys: DUPLICATE), and the
 * sizes are within limits (DS_CORRUPT_SHAPE); every element lies before the next bucket's dummy, so
 * in its own bucket's run (DS_CORRUPT_SHAPE); the number of elements
 * equals successful inserts - deletes and the per-slot counts
 * (DS_CORRUPT_COUNT).
 * Concurrency: only while no other operation (nor a resize) runs on @h.
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason), or
 * DS_ERROR_BUSY (BPF loop budget spent before the end).
 */
DS_API int ds_hash_verify(struct ds_hash_head __arena *h __arg_arena)
{
	struct ds_hash_node __arena *curr, *pn = NULL;
	__u32 size, ninit, span, lg, s, nb, kw;
	__u64 link, next, n = ARENA_ZERO, last = 0, p, want, want_o = 0;
	struct ds_stats st;
	int last_dummy = 1, c;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	size = h->nbuckets;
	ninit = h->ninit;
	span = h->span;
	if (size < 2 || (size & (size - 1)) || size > DS_HASH_MAX_BUCKETS ||
	    ninit < size || span < ninit || span > DS_HASH_MAX_BUCKETS ||
	    (ninit < span && span != 2 * size) || (ninit == span && (span & (span - 1))) ||
	    h->dir[0] != (__u64)&h->seg0[0] || h->key_size > DS_HASH_KV_MAX_KEY ||
	    (h->key_size && (!h->value_size || h->value_size > DS_HASH_KV_MAX_VALUE)))
		return ds_corrupt(h, DS_CORRUPT_SHAPE);
	kw = ds_hash_kw(h);
	nb = (ninit + DS_HASH_SEG_MASK) >> DS_HASH_SEG_ORDER;
	for (s = ARENA_ZERO + 1; s < nb && s < DS_HASH_NSEG && can_loop; s++)
		if (!ds_link_ok(h->dir[s]) || !h->dir[s])
			return ds_corrupt(h, DS_CORRUPT_SHAPE);
	for (lg = ARENA_ZERO + 1; lg < DS_HASH_MAX_ORDER && (1U << lg) < span && can_loop; lg++)
		;
	/* Dummy 0 is position 0; the walk starts at its link. */
	p = ARENA_ZERO;
	want = ds_hash_dummy_link(h, 0);
	link = want;
	/* One flat loop over the list. */
	while (can_loop) {
		if (!link) {
			if (ds_hash_next_pos(p, lg, ninit) < (1ULL << lg))
				return ds_corrupt(h, DS_CORRUPT_SHAPE);	/* a dummy missing */
			goto walked;
		}
		if (link & DS_HASH_DUMMY) {
			if (link != want)
				return ds_corrupt(h, DS_CORRUPT_SHAPE);
			curr = DS_HASH_PTR(link);
			if (curr->o != want_o)
				return ds_corrupt(h, DS_CORRUPT_SHAPE);
			if (p && curr->o <= last)
				return ds_corrupt(h, DS_CORRUPT_ORDER);
			last_dummy = 1;
			/* The dummy after this one. */
			p = ds_hash_next_pos(p + 1, lg, ninit);
			if (p < (1ULL << lg)) {
				want_o = ds_hash_rev(p) >> (64 - lg);
				want = ds_hash_dummy_link(h, (__u32)want_o);
				want_o = ds_hash_rev(want_o);
			} else {
				want = 0;
			}
		} else {
			if (!ds_link_ok(link) || (link & 7))
				return ds_corrupt(h, DS_CORRUPT_POINTER);
			curr = DS_HASH_PTR(link);
			if (kw && pn && curr->o == last && !last_dummy) {
				/* Equal o in a wide-key table: the key
				 * words must increase. */
				c = ds_hash_kv_cmp(ds_hash_kv_key(pn), ds_hash_kv_key(curr), kw);
				if (c == DS_HASH_CMP_BUSY)
					return DS_ERROR_BUSY;
				if (c >= 0)
					return ds_corrupt(h, c ? DS_CORRUPT_ORDER :
							  DS_CORRUPT_DUPLICATE);
			} else if (curr->o < last || (curr->o == last && !last_dummy)) {
				return ds_corrupt(h, curr->o == last ?
						  DS_CORRUPT_DUPLICATE : DS_CORRUPT_ORDER);
			}
			if (want && curr->o >= want_o)
				return ds_corrupt(h, DS_CORRUPT_SHAPE);	/* past its run */
			last_dummy = 0;
			n++;
		}
		last = curr->o;
		pn = curr;
		next = curr->next;
		if (next & DS_HASH_MARK)
			return ds_corrupt(h, DS_CORRUPT_MARK);
		link = next;
	}
	return DS_ERROR_BUSY;
walked:
	ds_counters_sum(&h->stats, &st);
	if ((__s64)n != st.current_elements || (__s64)n != ds_hash_count(h))
		return ds_corrupt(h, DS_CORRUPT_COUNT);
	return DS_SUCCESS;
}

DS_DEFINE_STATS_FNS(hash)
DS_DEFINE_EBR_QUIESCE(hash)

DS_DEFINE_METADATA(hash,
	.description = "lock-free hash table, split-ordered list that resizes itself",
	.node_size = sizeof(struct ds_hash_node),
	.head_size = sizeof(struct ds_hash_head),
	.caps = DS_CAP_KEYED,
	.fixed_objects = 0,
	.requires_locking = 0,
	.progress = "lock-free; search wait-free; resize by one context at a time (try-lock)",
)

#ifndef __BPF__
/*
 * Every live element of @h to @fn(node, @ctx): one pass along the
 * split-ordered list inside an EBR critical section, dummies skipped.
 * Stops early when @fn returns non-zero.  Returns the elements visited,
 * or DS_ERROR_BUSY (EBR records or the loop budget ran out).  Userspace;
 * ds_hash_walk() and ds_hash_kv_walk() are built on it.
 */
long ds_hash_walk_nodes(struct ds_hash_head *h, int (*fn)(struct ds_hash_node *n, void *ctx),
			void *ctx)
{
	struct ds_hash_node *n;
	__u64 link, next;
	long seen = 0;
	int idx, more = 1;

	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		return DS_ERROR_BUSY;
	/* Dummy 0 heads the list; a dummy's link points to its node view. */
	link = arena_atomic_load_acquire(&h->seg0[0].next);
	while (link && (more = can_loop)) {
		n = DS_HASH_PTR(link);
		next = arena_atomic_load_acquire(&n->next);
		if (!(link & DS_HASH_DUMMY) && !(next & DS_HASH_MARK)) {
			seen++;
			if (fn(n, ctx))
				break;
		}
		link = next;
	}
	arena_ebr_exit(&h->ebr, idx);
	return more ? seen : DS_ERROR_BUSY;
}

struct ds_hash_walk_u64 {
	int (*fn)(__u64 key, __u64 value, void *ctx);
	void *ctx;
};

static int ds_hash_walk_one(struct ds_hash_node *n, void *ctx)
{
	struct ds_hash_walk_u64 *w = ctx;

	return w->fn(ds_hash_node_key(n), arena_atomic_load_acquire(&n->value), w->ctx);
}

/*
 * ds_hash_walk - call @fn(key, value, @ctx) for every element of a u64
 * table: one pass along the split-ordered list, dummies skipped, so in no
 * key order.  Userspace.  Concurrency: with any operation; inside an EBR
 * critical section, so no node it reads is reused meanwhile; an element
 * present the whole time is visited once, one inserted or deleted
 * meanwhile may or may not be.  Stops early when @fn returns non-zero.
 * Returns the elements visited, DS_ERROR_BUSY (EBR records or the loop
 * budget ran out), or DS_ERROR_INVALID (a wide-key table).
 */
long ds_hash_walk(struct ds_hash_head *h, int (*fn)(__u64 key, __u64 value, void *ctx),
		  void *ctx)
{
	struct ds_hash_walk_u64 w = { fn, ctx };

	arena_bind();
	if (h->key_size)
		return DS_ERROR_INVALID;
	return ds_hash_walk_nodes(h, ds_hash_walk_one, &w);
}
#endif
