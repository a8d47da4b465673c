/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_hash.c - lock-free hash table with a fixed number of buckets, unique
 * keys, shared by BPF programs and userspace threads.
 *
 * Each bucket is a Harris-Michael ordered list (the same scheme as
 * ds_list.h): a node is deleted by marking its next pointer (bit 0), then
 * unlinked by a CAS on its predecessor; whoever unlinks it retires it to the
 * head's EBR domain.  A key lives in bucket ds_hash_mix(key) & (buckets-1),
 * where ds_hash_mix is a 64-bit finalizer (xor-shift-multiply rounds), so
 * sequential keys spread evenly.
 *
 * Progress: insert and delete are lock-free; search and ds_hash_update are
 * wait-free (one bucket walk, no retries).  In BPF every loop is bounded by
 * can_loop and a spent budget answers DS_ERROR_BUSY.
 *
 * The bucket table is part of the head, and so is a per-EBR-record scratch
 * row for insert/delete state (keeps the BPF dispatch frame small).  The
 * head is allocated with arena_alloc_large() by ds_create(), so init takes
 * no pages itself: every program, sleepable or not, may contain the whole
 * API.  The bucket count is DS_HASH_BUCKETS (a power of two, fixed at
 * build time).
 *
 * Memory-reuse contract: a node is freed only after it is unlinked and a
 * grace period passed (arena_ebr.h); nodes that were never published are
 * freed at once.  Keys never change after publication; values change only
 * through ds_hash_update(), one atomic 64-bit store.
 */
#include <libarena-ds/ds_hash.h>
#include "ds_internal.h"

/*
 * ds_hash_init - make @h an empty table.  @h points to zeroed memory of
 * sizeof(*h) bytes (ds_create() gives that).
 * Concurrency: before any other call on @h.  Returns DS_SUCCESS or
 * DS_ERROR_INVALID for a NULL head.
 */
DS_API int ds_hash_init(struct ds_hash_head __arena *h __arg_arena)
{
	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	h->nbuckets = DS_HASH_BUCKETS;
	return DS_SUCCESS;
}

#define DS_HASH_UNLINKED 1	/* ds_hash_find_step: sc->curr to retire */

/*
 * One pass of ds_hash_find: walk the key's bucket to the first live node
 * with key >= sc->key.  Stops early after unlinking a marked node (its
 * address in sc->curr, for the caller to retire at a point with few live
 * values).  Returns 0 (sc->prev / sc->curr set), DS_HASH_UNLINKED, or
 * DS_ERROR_BUSY.
 */
static __always_inline int ds_hash_find_step(struct ds_hash_head __arena *h,
					     struct ds_hash_scratch __arena *sc)
{
	struct ds_hash_node __arena *curr;
	__u64 __arena *prev;
	__u64 next, key = sc->key;

	prev = &h->bucket[ds_hash_bucket_of(key)];
	curr = DS_HASH_PTR(arena_atomic_load_acquire(prev));
	while (can_loop) {
		if (curr) {
			next = arena_atomic_load_acquire(&curr->next);
			if (next & DS_HASH_MARK) {
				if (arena_atomic_cmpxchg(prev, (__u64)curr,
							 next & ~DS_HASH_MARK) != (__u64)curr) {
					/* The predecessor changed or was
					 * deleted: start over. */
					prev = &h->bucket[ds_hash_bucket_of(key)];
					curr = DS_HASH_PTR(arena_atomic_load_acquire(prev));
					continue;
				}
				sc->curr = (__u64)curr;
				return DS_HASH_UNLINKED;
			}
			if (curr->key < key) {
				prev = &curr->next;
				curr = DS_HASH_PTR(next);
				continue;
			}
		}
		sc->prev = (__u64)prev;
		sc->curr = (__u64)curr;
		return 0;
	}
	return DS_ERROR_BUSY;
}

/*
 * Find the first live node with key >= sc->key in the key's bucket,
 * unlinking (and retiring) the marked nodes met on the way.  On return
 * sc->prev is the address of the link that pointed to sc->curr (a node
 * address or 0).  Inside the critical section @ebr_idx.  Returns 0 or
 * DS_ERROR_BUSY.
 */
static __always_inline int ds_hash_find(struct ds_hash_head __arena *h, int ebr_idx,
					struct ds_hash_scratch __arena *sc)
{
	int rc;

	while (can_loop) {
		rc = ds_hash_find_step(h, sc);
		if (rc != DS_HASH_UNLINKED)
			return rc;
		arena_ebr_retire(&h->ebr, ebr_idx, (void __arena *)sc->curr);
	}
	return DS_ERROR_BUSY;
}

/*
 * ds_hash_insert - add @key with @value.
 * Concurrency: any number of BPF programs and userspace threads, with any
 * other table operation.  Progress: lock-free (bounded by can_loop in BPF).
 * Returns DS_SUCCESS, DS_ERROR_EXISTS (key present, table unchanged),
 * DS_ERROR_NOMEM, or DS_ERROR_BUSY (retry budget or EBR records exhausted).
 */
DS_API int ds_hash_insert(struct ds_hash_head __arena *h __arg_arena, __u64 key,
					  __u64 value)
{
	struct ds_hash_node __arena *node = NULL, *curr;
	struct ds_hash_scratch __arena *sc;
	int idx, rc = DS_ERROR_BUSY;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	sc = &h->scratch[idx & (ARENA_EBR_SLOTS - 1)];
	sc->key = key;
	sc->value = value;
	while (can_loop) {
		if (ds_hash_find(h, idx, sc))
			break;
		curr = DS_HASH_PTR(sc->curr);
		if (curr && curr->key == sc->key) {
			rc = DS_ERROR_EXISTS;
			break;
		}
		if (!node) {
			node = bpf_arena_alloc(sizeof(*node));
			if (!node) {
				rc = DS_ERROR_NOMEM;
				break;
			}
			arena_atomic_store(&node->ebr_link, 0);	/* a stale free-list pop may read it */
			node->key = sc->key;
			node->value = sc->value;
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
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/*
 * ds_hash_delete - remove @key.
 * Concurrency: any context, with any other table operation.  Lock-free.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY.
 */
DS_API int ds_hash_delete(struct ds_hash_head __arena *h __arg_arena, __u64 key)
{
	struct ds_hash_node __arena *curr;
	struct ds_hash_scratch __arena *sc;
	int idx, rc = DS_ERROR_BUSY;
	__u64 next;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	sc = &h->scratch[idx & (ARENA_EBR_SLOTS - 1)];
	sc->key = key;
	while (can_loop) {
		if (ds_hash_find(h, idx, sc))
			break;
		curr = DS_HASH_PTR(sc->curr);
		if (!curr || curr->key != sc->key) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		next = arena_atomic_load_acquire(&curr->next);
		if (next & DS_HASH_MARK)
			continue;	/* deleted meanwhile: look again */
		if (arena_atomic_cmpxchg(&curr->next, next, next | DS_HASH_MARK) != next)
			continue;
		/* Ours.  Unlink it here, or let a find do it. */
		if (arena_atomic_cmpxchg((__u64 __arena *)sc->prev, (__u64)curr, next) ==
		    (__u64)curr)
			arena_ebr_retire(&h->ebr, idx, curr);
		else
			ds_hash_find(h, idx, sc);
		rc = DS_SUCCESS;
		break;
	}
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_hash_search - look @key up; store its value in *@value when found.
 * Concurrency: any context, with any other table operation.  Wait-free
 * traversal of one bucket (no retries; bounded by can_loop in BPF).  The
 * value is read before the node is checked to be live, so the answer is a
 * value the key had while present.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY.
 */
DS_API int ds_hash_search(struct ds_hash_head __arena *h __arg_arena, __u64 key,
					  __u64 *value)
{
	struct ds_hash_node __arena *curr;
	int idx, rc = DS_ERROR_BUSY;
	__u64 next, v;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	curr = DS_HASH_PTR(arena_atomic_load_acquire(&h->bucket[ds_hash_bucket_of(key)]));
	while (can_loop) {
		if (!curr || curr->key > key) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		if (curr->key == key) {
			v = arena_atomic_load_acquire(&curr->value);
			next = arena_atomic_load_acquire(&curr->next);
			if (next & DS_HASH_MARK) {
				rc = DS_ERROR_NOT_FOUND;
			} else {
				if (value)
					*value = v;
				rc = DS_SUCCESS;
			}
			break;
		}
		curr = DS_HASH_PTR(arena_atomic_load_acquire(&curr->next));
	}
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

/*
 * ds_hash_update - replace the value of @key in place (an extra to the
 * generic API; not counted in the op statistics).
 * Concurrency: any context, with any other table operation.  Wait-free
 * traversal plus one atomic store.  A concurrent delete of @key may take
 * effect just after the update.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY.
 */
DS_API int ds_hash_update(struct ds_hash_head __arena *h __arg_arena, __u64 key,
					  __u64 value)
{
	struct ds_hash_node __arena *curr;
	int idx, rc = DS_ERROR_BUSY;
	__u64 next;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		return rc;
	curr = DS_HASH_PTR(arena_atomic_load_acquire(&h->bucket[ds_hash_bucket_of(key)]));
	while (can_loop) {
		if (!curr || curr->key > key) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		next = arena_atomic_load_acquire(&curr->next);
		if (curr->key == key) {
			if (next & DS_HASH_MARK) {
				rc = DS_ERROR_NOT_FOUND;
			} else {
				arena_atomic_store_release(&curr->value, value);
				rc = DS_SUCCESS;
			}
			break;
		}
		curr = DS_HASH_PTR(next);
	}
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
 * ds_hash_verify - check the table: every link points into the allocator's
 * memory, no deleted node is still linked, every node sits in the bucket
 * its key hashes to (else DS_CORRUPT_SHAPE), keys strictly increase along
 * each bucket (which also rules out cycles), and the number of nodes equals
 * successful inserts - deletes.
 * Concurrency: only while no other operation runs on @h.
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason), or
 * DS_ERROR_BUSY (BPF loop budget spent before the end).
 */
DS_API int ds_hash_verify(struct ds_hash_head __arena *h __arg_arena)
{
	struct ds_hash_node __arena *curr;
	struct ds_stats st;
	__u64 next, n = ARENA_ZERO, last = 0;
	__u32 b = ARENA_ZERO;
	int first = 1;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	if (h->nbuckets != DS_HASH_BUCKETS)
		return ds_corrupt(h, DS_CORRUPT_SHAPE);
	next = h->bucket[0];
	/* One flat loop over (bucket, node). */
	while (can_loop) {
		if (!next) {
			if (++b >= DS_HASH_BUCKETS)
				goto walked;
			next = h->bucket[b & DS_HASH_MASK];
			first = 1;
			continue;
		}
		if (next & DS_HASH_MARK)
			return ds_corrupt(h, DS_CORRUPT_MARK);
		if (!ds_link_ok(next))
			return ds_corrupt(h, DS_CORRUPT_POINTER);
		curr = DS_HASH_PTR(next);
		if (ds_hash_bucket_of(curr->key) != b)
			return ds_corrupt(h, DS_CORRUPT_SHAPE);
		if (!first && curr->key <= last)
			return ds_corrupt(h, curr->key == last ?
					  DS_CORRUPT_DUPLICATE : DS_CORRUPT_ORDER);
		last = curr->key;
		first = 0;
		n++;
		next = curr->next;
	}
	return DS_ERROR_BUSY;
walked:
	ds_counters_sum(&h->stats, &st);
	if ((__s64)n != st.current_elements)
		return ds_corrupt(h, DS_CORRUPT_COUNT);
	return DS_SUCCESS;
}

DS_DEFINE_STATS_FNS(hash)
DS_DEFINE_EBR_QUIESCE(hash)

DS_DEFINE_METADATA(hash,
	.description = "lock-free hash table, fixed buckets of Harris-Michael lists",
	.node_size = sizeof(struct ds_hash_node),
	.head_size = sizeof(struct ds_hash_head),
	.caps = DS_CAP_KEYED,
	.fixed_objects = 0,
	.requires_locking = 0,
	.progress = "lock-free; search wait-free",
)

