/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_deque.c - Chase-Lev work-stealing deque on a bounded array, shared by
 * BPF programs and userspace threads.
 *
 * CONTRACT: one OWNER context at a time pushes (insert) and takes (pop) at
 * the bottom, newest first; any number of contexts steal (delete) and peek
 * (search) at the top, oldest first.  The owner role may move only when the
 * old owner has finished and the hand-over is ordered (join, barrier).  The
 * functions do not detect a second owner; the driver assigns the role.
 *
 * Positions grow without bound and live in slot p & DS_DEQUE_MASK; the
 * elements are the positions [top, bottom).  Only the owner writes bottom;
 * top only moves forward, by CAS (thieves, and the owner when it takes the
 * last element).  The array is not resized: a push onto capacity elements
 * returns DS_ERROR_FULL and overwrites nothing.  The slots are part of the
 * head, so nothing is allocated after ds_create().
 *
 * Operation mapping: insert = owner push, pop = owner take (newest),
 * delete = steal (oldest; key ignored), search = peek at the oldest value
 * (key ignored), range unsupported.
 *
 * Memory ordering (Chase and Lev 2005; the C11 formulation of Le, Pop,
 * Cohen and Zappa Nardelli 2013), with the full barriers the arena headers
 * offer (BPF has no separate fence instruction; arena_atomic_fence() is a
 * locked RMW on the stack, a full barrier on x86):
 *   push   write slot (value with release, for peeks); release store of
 *          bottom (publishes the slot).
 *   take   store bottom - 1; FULL FENCE; load top.  The store-load fence is
 *          what makes owner and thief agree on who gets the last element:
 *          either the thief sees the lowered bottom or the owner sees the
 *          raised top; when both aim at the same single element they race
 *          with a CAS on top.
 *   steal  acquire load of top; FULL FENCE; acquire load of bottom; read
 *          the slot; CAS top -> top + 1 claims it (a failed CAS discards
 *          the read, so a slot being rewritten is never returned).
 * The owner rewrites slot (t & mask) for position t + capacity only after
 * it has seen top > t, so a thief whose CAS from t succeeds read a value
 * no one overwrote.
 */
#include <libarena-ds/ds_deque.h>
#include "ds_internal.h"

/*
 * The full barrier Chase-Lev needs between a store (or load) and a later
 * load.  gcc's ThreadSanitizer refuses atomic_thread_fence(), so TSAN
 * builds use a seq_cst RMW on a dummy word instead (a locked instruction,
 * a full barrier on x86; TSAN checks races, not fences).
 */
#if !defined(__BPF__) && defined(__SANITIZE_THREAD__)
static __u64 ds_deque_fence_word;
#define ds_deque_fence() \
	((void)__atomic_fetch_add(&ds_deque_fence_word, 0, __ATOMIC_SEQ_CST))
#else
#define ds_deque_fence() arena_atomic_fence()
#endif

/*
 * ds_deque_init - make @h an empty deque.  @h points to zeroed memory of
 * sizeof(*h) bytes.
 * Concurrency: before any other call on @h.  Returns DS_SUCCESS or
 * DS_ERROR_INVALID for a NULL head.
 */
DS_API int ds_deque_init(struct ds_deque_head __arena *h __arg_arena)
{
	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	arena_atomic_store(&h->top, 0);
	arena_atomic_store(&h->bottom, 0);
	h->capacity = DS_DEQUE_CAPACITY;
	h->verify_reason = 0;
	return DS_SUCCESS;
}

/*
 * ds_deque_push_owner - push (@key, @value) at the bottom.
 * Concurrency: the owner only; concurrently with thieves and peeks.
 * Progress: wait-free.
 * Returns DS_SUCCESS or DS_ERROR_FULL (capacity elements held; nothing is
 * overwritten).  Counted as an insert.
 */
DS_API int ds_deque_push_owner(struct ds_deque_head __arena *h __arg_arena, __u64 key,
					       __u64 value)
{
	struct ds_deque_slot __arena *s;
	__u64 b, t;
	int rc = DS_ERROR_FULL;

	arena_bind();
	b = arena_atomic_load(&h->bottom);
	t = arena_atomic_load_acquire(&h->top);
	if ((__s64)(b - t) >= DS_DEQUE_CAPACITY)
		goto out;
	s = &h->slots[b & DS_DEQUE_MASK];
	arena_atomic_store(&s->key, key);
	/* release: pairs with the acquire load in ds_deque_peek_any() */
	arena_atomic_store_release(&s->value, value);
	arena_atomic_store_release(&h->bottom, b + 1);
	rc = DS_SUCCESS;
out:
	ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/*
 * ds_deque_pop_owner - take the newest element (bottom); store it in
 * *@key and *@value (either may be NULL).
 * Concurrency: the owner only; concurrently with thieves and peeks.
 * Progress: wait-free (at most one CAS, for the last element).
 * Returns DS_SUCCESS or DS_ERROR_NOT_FOUND (empty, or a thief took the last
 * element first).  Counted as a pop.
 */
DS_API int ds_deque_pop_owner(struct ds_deque_head __arena *h __arg_arena, __u64 *key,
					      __u64 *value)
{
	struct ds_deque_slot __arena *s;
	__u64 b, t, k, v;
	int rc = DS_SUCCESS;
	__s64 left;

	arena_bind();
	b = arena_atomic_load(&h->bottom) - 1;
	arena_atomic_store(&h->bottom, b);
	ds_deque_fence();		/* store bottom before loading top */
	t = arena_atomic_load(&h->top);
	left = (__s64)(b - t);		/* elements that stay after this one */
	if (left < 0) {
		/* Empty: undo the reservation. */
		arena_atomic_store(&h->bottom, b + 1);
		rc = DS_ERROR_NOT_FOUND;
		goto out;
	}
	s = &h->slots[b & DS_DEQUE_MASK];
	k = arena_atomic_load(&s->key);
	v = arena_atomic_load(&s->value);
	if (left == 0) {
		/* The last element: thieves may aim at it too. */
		if (arena_atomic_cmpxchg(&h->top, t, t + 1) != t)
			rc = DS_ERROR_NOT_FOUND;
		/* Either way the deque is empty with top == b + 1. */
		arena_atomic_store_release(&h->bottom, b + 1);
	}
	if (rc == DS_SUCCESS) {
		if (key)
			*key = k;
		if (value)
			*value = v;
	}
out:
	ds_count(&h->stats, DS_OP_POP, rc);
	return rc;
}

/*
 * ds_deque_steal_any - take the oldest element (top); store it in *@key and
 * *@value (either may be NULL).
 * Concurrency: any number of contexts, with the owner and other thieves.
 * Progress: lock-free (a retry means another context took an element);
 * bounded by can_loop in BPF.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY (BPF
 * retry budget spent).  Counted as a delete.
 */
DS_API int ds_deque_steal_any(struct ds_deque_head __arena *h __arg_arena, __u64 *key,
					      __u64 *value)
{
	struct ds_deque_slot __arena *s;
	__u64 t, b, k, v;
	int rc = DS_ERROR_BUSY;

	arena_bind();
	while (can_loop) {
		t = arena_atomic_load_acquire(&h->top);
		ds_deque_fence();	/* load top before loading bottom */
		b = arena_atomic_load_acquire(&h->bottom);
		if ((__s64)(b - t) <= 0) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		s = &h->slots[t & DS_DEQUE_MASK];
		k = arena_atomic_load(&s->key);
		v = arena_atomic_load(&s->value);
		if (arena_atomic_cmpxchg(&h->top, t, t + 1) == t) {
			if (key)
				*key = k;
			if (value)
				*value = v;
			rc = DS_SUCCESS;
			break;
		}
		/* Lost to another thief or to the owner: look again. */
	}
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_deque_peek_any - read the value of the oldest element without taking
 * it: top is read again after the slot and must be unchanged (top only
 * grows, and the slot of position t is not rewritten while top == t).
 * Concurrency: any context.  Lock-free; read-only.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 * Not counted (search counts it).
 */
DS_API int ds_deque_peek_any(struct ds_deque_head __arena *h __arg_arena, __u64 *value)
{
	__u64 t, b, v;

	arena_bind();
	while (can_loop) {
		t = arena_atomic_load_acquire(&h->top);
		ds_deque_fence();
		b = arena_atomic_load_acquire(&h->bottom);
		if ((__s64)(b - t) <= 0)
			return DS_ERROR_NOT_FOUND;
		/* acquire: a value pushed for a later lap (stored with
		 * release after the owner saw top > t) makes the second
		 * look below see top > t too. */
		v = arena_atomic_load_acquire(&h->slots[t & DS_DEQUE_MASK].value);
		if (arena_atomic_load(&h->top) == t) {
			if (value)
				*value = v;
			return DS_SUCCESS;
		}
	}
	return DS_ERROR_BUSY;
}

/*
 * ds_deque_insert - generic insert: ds_deque_push_owner() (owner only).
 */
DS_API int ds_deque_insert(struct ds_deque_head __arena *h __arg_arena, __u64 key,
					   __u64 value)
{
	arena_bind();
	return ds_deque_push_owner(h, key, value);
}

/*
 * ds_deque_delete - generic delete: steal the oldest element, whatever @key
 * is.  Any context.  See ds_deque_steal_any().
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 */
DS_API int ds_deque_delete(struct ds_deque_head __arena *h __arg_arena, __u64 key)
{
	arena_bind();
	(void)key;
	return ds_deque_steal_any(h, NULL, NULL);
}

/*
 * ds_deque_search - generic search: peek at the oldest element (@key is
 * ignored).  Any context.  See ds_deque_peek_any().
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 */
DS_API int ds_deque_search(struct ds_deque_head __arena *h __arg_arena, __u64 key,
					   __u64 *value)
{
	int rc;

	arena_bind();
	(void)key;
	rc = ds_deque_peek_any(h, value);
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

/*
 * ds_deque_pop - generic pop: ds_deque_pop_owner(), newest first (owner
 * only).
 */
DS_API int ds_deque_pop(struct ds_deque_head __arena *h __arg_arena, __u64 *key,
					__u64 *value)
{
	arena_bind();
	return ds_deque_pop_owner(h, key, value);
}

DS_DEFINE_NO_RANGE(deque)	/* no key order */

/*
 * ds_deque_verify - check 0 <= bottom - top <= capacity (DS_CORRUPT_INDEX),
 * the capacity (DS_CORRUPT_SHAPE), and bottom - top equals successful
 * inserts - deletes - pops (DS_CORRUPT_COUNT).
 * Concurrency: only while no other operation runs on @h.
 * Returns DS_SUCCESS or DS_ERROR_CORRUPT (reason in h->verify_reason).
 */
DS_API int ds_deque_verify(struct ds_deque_head __arena *h __arg_arena)
{
	struct ds_stats st;
	__u64 n;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	if (h->capacity != DS_DEQUE_CAPACITY)
		return ds_corrupt(h, DS_CORRUPT_SHAPE);
	n = h->bottom - h->top;
	if ((__s64)n < 0 || n > DS_DEQUE_CAPACITY)
		return ds_corrupt(h, DS_CORRUPT_INDEX);
	ds_counters_sum(&h->stats, &st);
	if ((__s64)n != st.current_elements)
		return ds_corrupt(h, DS_CORRUPT_COUNT);
	return DS_SUCCESS;
}

DS_DEFINE_STATS_FNS(deque)
DS_DEFINE_NO_QUIESCE(deque)

DS_DEFINE_METADATA(deque,
	.description = "Chase-Lev work-stealing deque, bounded (owner push/pop, any steals)",
	.node_size = sizeof(struct ds_deque_slot),
	.head_size = sizeof(struct ds_deque_head),
	.caps = DS_CAP_POP | DS_CAP_OWNER | DS_CAP_BOUNDED | DS_CAP_INLINE,
	.fixed_objects = 0,
	.requires_locking = 0,
	.progress = "owner wait-free; steal lock-free",
)

