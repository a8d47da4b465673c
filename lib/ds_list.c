/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_list.c - lock-free ordered linked list (Harris, with Michael's
 * unlink-during-search), unique keys, shared by BPF programs and userspace
 * threads.
 *
 * A node is deleted in two steps: its next pointer is marked (bit 0), which
 * removes it logically; then it is unlinked by a CAS on its predecessor.
 * Whoever unlinks a node retires it to the head's EBR domain, which frees it
 * once no critical section can still reach it, so traversals never follow a
 * reused node.
 *
 * Memory-reuse contract: a node is freed only after it is unlinked and a
 * grace period passed (arena_ebr.h); nodes that were never published are
 * freed at once.  Keys and values of a node never change after publication.
 */
#include <libarena-ds/ds_list.h>
#include "ds_internal.h"

/*
 * Test seams (tests/unit/test_ebr.c defines both before including this):
 * ds_list_retire decides what happens to an unlinked node, and
 * ds_list_step_hook runs at every step of a traversal.
 */
#ifndef ds_list_retire
#ifdef DS_LIST_BROKEN_TAKE
/* The test-only broken delete can resurrect unlinked nodes; it never frees
 * them, so it gives wrong answers (for the checker to find) but no crash. */
#define ds_list_retire(h, idx, node) ((void)(h), (void)(idx), (void)(node))
#else
#define ds_list_retire(h, idx, node) arena_ebr_retire(&(h)->ebr, (idx), (node))
#endif
#endif
#ifndef ds_list_step_hook
#define ds_list_step_hook(h, curr) do { } while (0)
#endif

/*
 * ds_list_init - make @h an empty list.  @h points to zeroed memory of
 * sizeof(*h) bytes (fresh arena pages are zeroed).
 * Concurrency: before any other call on @h.  Returns DS_SUCCESS or
 * DS_ERROR_INVALID for a NULL head.
 */
DS_API int ds_list_init(struct ds_list_head __arena *h __arg_arena)
{
	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->first = 0;
	h->verify_reason = 0;
	return DS_SUCCESS;
}

/*
 * Find the first live node with key >= @key, unlinking (and retiring) the
 * marked nodes met on the way.  On return *prev is the link that points to
 * *curr.  Inside a critical section.  Returns 0 or DS_ERROR_BUSY.
 */
static __always_inline int ds_list_find(struct ds_list_head __arena *h, int ebr_idx,
					__u64 key, __u64 __arena **pprev,
					struct ds_list_node __arena **pcurr)
{
	struct ds_list_node __arena *curr;
	__u64 __arena *prev;
	__u64 next;

	prev = &h->first;
	curr = DS_LIST_PTR(arena_atomic_load_acquire(prev));
	while (can_loop) {
		if (!curr) {
			*pprev = prev;
			*pcurr = curr;
			return 0;
		}
		ds_list_step_hook(h, curr);
		next = arena_atomic_load_acquire(&curr->next);
		if (next & DS_LIST_MARK) {
			if (arena_atomic_cmpxchg(prev, (__u64)curr, next & ~DS_LIST_MARK) !=
			    (__u64)curr) {
				/* The predecessor changed under us: start over. */
				prev = &h->first;
				curr = DS_LIST_PTR(arena_atomic_load_acquire(prev));
				continue;
			}
			ds_list_retire(h, ebr_idx, curr);
			curr = DS_LIST_PTR(next);
			continue;
		}
		if (curr->key >= key) {
			*pprev = prev;
			*pcurr = curr;
			return 0;
		}
		prev = &curr->next;
		curr = DS_LIST_PTR(next);
	}
	return DS_ERROR_BUSY;
}

/*
 * ds_list_insert - add @key with @value.
 * Concurrency: any number of BPF programs and userspace threads, with any
 * other list operation.  Progress: lock-free (bounded by can_loop in BPF).
 * Returns DS_SUCCESS, DS_ERROR_EXISTS (key present, list unchanged),
 * DS_ERROR_NOMEM, or DS_ERROR_BUSY (retry budget or EBR records exhausted).
 */
DS_API int ds_list_insert(struct ds_list_head __arena *h __arg_arena, __u64 key,
					  __u64 value)
{
	struct ds_list_node __arena *node = NULL, *curr = NULL;
	__u64 __arena *prev = NULL;
	int idx, rc = DS_ERROR_BUSY;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	while (can_loop) {
		if (ds_list_find(h, idx, key, &prev, &curr))
			break;
		if (curr && curr->key == key) {
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
			node->key = key;
			node->value = value;
		}
		node->next = (__u64)curr;
		if (arena_atomic_cmpxchg(prev, (__u64)curr, (__u64)node) == (__u64)curr) {
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
 * Logically delete @curr (found at *prev), then try to unlink it.  Returns 1
 * if this call marked it, 0 if someone else got there first.
 */
static __always_inline int ds_list_take(struct ds_list_head __arena *h, int idx,
					__u64 __arena *prev,
					struct ds_list_node __arena *curr)
{
	struct ds_list_node __arena *c2;
	__u64 __arena *p2;
	__u64 next;

	next = arena_atomic_load_acquire(&curr->next);
	if (next & DS_LIST_MARK)
		return 0;
#ifdef DS_LIST_BROKEN_TAKE
	/* Tests only: a deliberately broken delete that marks with a plain
	 * store after a pause, so two deleters can both win one node.  The
	 * linearizability checker must catch it. */
	for (int spin = 0; spin < 2000; spin++)
		arena_barrier();
	arena_atomic_store(&curr->next, next | DS_LIST_MARK);
#else
	if (arena_atomic_cmpxchg(&curr->next, next, next | DS_LIST_MARK) != next)
		return 0;
#endif
	if (arena_atomic_cmpxchg(prev, (__u64)curr, next) == (__u64)curr)
		ds_list_retire(h, idx, curr);
	else
		ds_list_find(h, idx, curr->key, &p2, &c2);	/* unlinks it */
	return 1;
}

/*
 * ds_list_delete - remove @key.
 * Concurrency: any context, with any other list operation.  Lock-free.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY.
 */
DS_API int ds_list_delete(struct ds_list_head __arena *h __arg_arena, __u64 key)
{
	struct ds_list_node __arena *curr = NULL;
	__u64 __arena *prev = NULL;
	int idx, rc = DS_ERROR_BUSY;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	while (can_loop) {
		if (ds_list_find(h, idx, key, &prev, &curr))
			break;
		if (!curr || curr->key != key) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		if (ds_list_take(h, idx, prev, curr)) {
			rc = DS_SUCCESS;
			break;
		}
	}
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_list_search - look @key up; store its value in *@value when found.
 * Concurrency: any context, with any other list operation.  Wait-free
 * traversal (no retries; bounded by can_loop in BPF).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY.
 */
DS_API int ds_list_search(struct ds_list_head __arena *h __arg_arena, __u64 key,
					  __u64 *value)
{
	struct ds_list_node __arena *curr;
	int idx, rc = DS_ERROR_BUSY;
	__u64 next;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	curr = DS_LIST_PTR(arena_atomic_load_acquire(&h->first));
	while (can_loop) {
		if (!curr || curr->key > key) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		ds_list_step_hook(h, curr);
		next = arena_atomic_load_acquire(&curr->next);
		if (curr->key == key) {
			if (next & DS_LIST_MARK) {
				rc = DS_ERROR_NOT_FOUND;
			} else {
				if (value)
					*value = curr->value;
				rc = DS_SUCCESS;
			}
			break;
		}
		curr = DS_LIST_PTR(next);
	}
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

/*
 * ds_list_pop - remove the element with the smallest key and return it.
 * Concurrency: any context, with any other list operation.  Lock-free.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 */
DS_API int ds_list_pop(struct ds_list_head __arena *h __arg_arena, __u64 *key,
				       __u64 *value)
{
	struct ds_list_node __arena *curr = NULL;
	__u64 __arena *prev = NULL;
	int idx, rc = DS_ERROR_BUSY;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	while (can_loop) {
		if (ds_list_find(h, idx, 0, &prev, &curr))
			break;
		if (!curr) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		if (ds_list_take(h, idx, prev, curr)) {
			if (key)
				*key = curr->key;
			if (value)
				*value = curr->value;
			rc = DS_SUCCESS;
			break;
		}
	}
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_POP, rc);
	return rc;
}

/*
 * ds_list_range - count the keys in [@lo, @hi] into *@count.
 * Concurrency: any context; the count is exact when no writer runs.
 * Returns DS_SUCCESS or DS_ERROR_BUSY.
 */
DS_API int ds_list_range(struct ds_list_head __arena *h __arg_arena, __u64 lo,
					 __u64 hi, __u64 *count)
{
	struct ds_list_node __arena *curr;
	int idx, rc = DS_ERROR_BUSY;
	__u64 next, n = ARENA_ZERO;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	curr = DS_LIST_PTR(arena_atomic_load_acquire(&h->first));
	while (can_loop) {
		if (!curr || curr->key > hi) {
			rc = DS_SUCCESS;
			break;
		}
		next = arena_atomic_load_acquire(&curr->next);
		if (curr->key >= lo && !(next & DS_LIST_MARK))
			n++;
		curr = DS_LIST_PTR(next);
	}
	arena_ebr_exit(&h->ebr, idx);
	if (count)
		*count = n;
out_count:
	ds_count(&h->stats, DS_OP_RANGE, rc);
	return rc;
}

/*
 * ds_list_verify - check the list: every link points into the allocator's
 * memory, no deleted node is still linked, keys strictly increase (which
 * also rules out cycles), and the number of nodes equals successful
 * inserts - deletes - pops.
 * Concurrency: only while no other operation runs on @h.
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason), or
 * DS_ERROR_BUSY (BPF loop budget spent before the end).
 */
DS_API int ds_list_verify(struct ds_list_head __arena *h __arg_arena)
{
	struct ds_list_node __arena *curr;
	struct ds_stats st;
	__u64 next, n = ARENA_ZERO, last = 0;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	next = h->first;
	while (can_loop) {
		if (!next)
			goto walked;
		if (next & DS_LIST_MARK)
			return ds_corrupt(h, DS_CORRUPT_MARK);
		if (!ds_link_ok(next))
			return ds_corrupt(h, DS_CORRUPT_POINTER);
		curr = DS_LIST_PTR(next);
		if (n && curr->key <= last)
			return ds_corrupt(h, curr->key == last ?
					  DS_CORRUPT_DUPLICATE : DS_CORRUPT_ORDER);
		last = curr->key;
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

DS_DEFINE_STATS_FNS(list)
DS_DEFINE_EBR_QUIESCE(list)

DS_DEFINE_METADATA(list,
	.description = "lock-free ordered list (Harris-Michael), unique keys",
	.node_size = sizeof(struct ds_list_node),
	.head_size = sizeof(struct ds_list_head),
	.caps = DS_CAP_KEYED | DS_CAP_ORDERED | DS_CAP_POP | DS_CAP_RANGE,
	.fixed_objects = 0,
	.requires_locking = 0,
	.progress = "lock-free; search wait-free",
)

