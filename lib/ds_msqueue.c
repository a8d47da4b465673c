/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_msqueue.c - Michael-Scott lock-free FIFO queue, unbounded and
 * allocator-backed, shared by BPF programs and userspace threads.
 *
 * The queue is a singly linked list that always holds one dummy node: head
 * points to the dummy, the elements are the nodes after it, and tail points
 * to the last node or, for the short moment between linking a node and
 * swinging tail, to the one before it.  Enqueue links a node behind the
 * last one with a CAS on its next word, then moves tail (any context that
 * sees a lagging tail helps it on).  Dequeue moves head one node on with a
 * CAS; the node it lands on becomes the new dummy and its key and value are
 * the element returned.  The old dummy is retired to the head's EBR domain.
 *
 * Why no node is read after it is freed: head never passes tail (dequeue
 * first helps tail on when both point to the same node), so tail only ever
 * names unretired nodes; every node an operation reaches from head or tail
 * was still linked when the operation entered its EBR critical section, so
 * it is not freed before the operation leaves.  A node's next word goes
 * from 0 to its successor once and never changes again while it is
 * reachable; key and value never change after publication.
 *
 * Concurrency mode (Concurrency Kit naming): every operation is _mpmc, any
 * number of producers and consumers in any context, at once.
 *
 * API mapping: insert = enqueue (key and value both stored); delete =
 * dequeue, the key argument is ignored (the oldest element goes); pop =
 * dequeue returning the oldest element; search = scan from the oldest
 * element for the first one with the key (O(length), bounded by can_loop in
 * BPF: DS_ERROR_BUSY when the budget ends first); range is unsupported.
 */
#include <libarena-ds/ds_msqueue.h>
#include "ds_internal.h"

/*
 * ds_msqueue_init - make @h an empty queue: allocate its dummy node (one
 * allocator object, so the driver stocks the reserve before creating the
 * structure).  @h points to zeroed memory of sizeof(*h) bytes.
 * Concurrency: once, before any other call on @h.  Returns DS_SUCCESS,
 * DS_ERROR_INVALID (NULL head) or DS_ERROR_NOMEM (no dummy node).
 */
DS_API int ds_msqueue_init(struct ds_msqueue_head __arena *h __arg_arena)
{
	struct ds_msqueue_node __arena *dummy;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	dummy = bpf_arena_alloc(sizeof(*dummy));
	if (!dummy)
		return DS_ERROR_NOMEM;
	/* Only next matters: the dummy's key and value are never read.  (Zeroing
	 * three adjacent words would also let clang merge them into a memset,
	 * which loses the arena address-space cast in BPF.) */
	dummy->next = 0;
	h->head = (__u64)dummy;
	h->tail = (__u64)dummy;
	h->verify_reason = 0;
	return DS_SUCCESS;
}

/*
 * ds_msqueue_enqueue_mpmc - append (@key, @value) at the tail.  Does not
 * count the operation (the API wrappers do).
 * Concurrency: any number of producers and consumers, any context.
 * Progress: lock-free (bounded by can_loop in BPF).
 * Returns DS_SUCCESS, DS_ERROR_NOMEM, or DS_ERROR_BUSY (retry budget or EBR
 * records exhausted; the queue is unchanged).
 */
DS_API int ds_msqueue_enqueue_mpmc(struct ds_msqueue_head __arena *h __arg_arena,
						   __u64 key, __u64 value)
{
	struct ds_msqueue_node __arena *node, *last;
	int idx, rc = DS_ERROR_BUSY;
	__u64 tl, nx;

	arena_bind();
	node = bpf_arena_alloc(sizeof(*node));
	if (!node)
		return DS_ERROR_NOMEM;
	node->next = 0;
	node->key = key;
	node->value = value;
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_free;
	while (can_loop) {
		tl = arena_atomic_load_acquire(&h->tail);
		last = DS_MSQUEUE_PTR(tl);
		if (!last)
			break;		/* not initialised */
		nx = arena_atomic_load_acquire(&last->next);
		if (tl != arena_atomic_load_acquire(&h->tail))
			continue;
		if (nx) {
			/* tail lags behind: help it on, then retry. */
			arena_atomic_cmpxchg(&h->tail, tl, nx);
			continue;
		}
		if (arena_atomic_cmpxchg(&last->next, 0, (__u64)node) == 0) {
			/* Linked.  Swing tail; failure means someone helped. */
			arena_atomic_cmpxchg(&h->tail, tl, (__u64)node);
			node = NULL;
			rc = DS_SUCCESS;
			break;
		}
	}
	arena_ebr_exit(&h->ebr, idx);
out_free:
	if (node)
		bpf_arena_free(node);	/* never published */
	return rc;
}

/*
 * ds_msqueue_dequeue_mpmc - remove the oldest element; store its key and
 * value in *@key / *@value (either may be NULL).  Does not count the
 * operation (the API wrappers do).
 * Concurrency: any number of producers and consumers, any context.
 * Progress: lock-free (bounded by can_loop in BPF).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY (retry
 * budget or EBR records exhausted; the queue is unchanged).
 */
DS_API int ds_msqueue_dequeue_mpmc(struct ds_msqueue_head __arena *h __arg_arena,
						   __u64 *key, __u64 *value)
{
	struct ds_msqueue_node __arena *first, *next;
	int idx, rc = DS_ERROR_BUSY;
	__u64 hd, tl, nx, k, v;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		return DS_ERROR_BUSY;
	while (can_loop) {
		/* Order matters: head, then tail, then head's next, then
		 * head again, so that tail was never behind the head seen. */
		hd = arena_atomic_load_acquire(&h->head);
		tl = arena_atomic_load_acquire(&h->tail);
		first = DS_MSQUEUE_PTR(hd);
		if (!first)
			break;		/* not initialised */
		nx = arena_atomic_load_acquire(&first->next);
		if (hd != arena_atomic_load_acquire(&h->head))
			continue;
		if (hd == tl) {
			if (!nx) {
				rc = DS_ERROR_NOT_FOUND;
				break;
			}
			/* An enqueue is half done: finish it first, so head
			 * never passes tail. */
			arena_atomic_cmpxchg(&h->tail, tl, nx);
			continue;
		}
		if (!nx)
			continue;	/* inconsistent snapshot */
		next = DS_MSQUEUE_PTR(nx);
		/* Read before the CAS: afterwards next is the dummy and may
		 * be retired by the next dequeue. */
		k = next->key;
		v = next->value;
		if (arena_atomic_cmpxchg(&h->head, hd, nx) == hd) {
			arena_ebr_retire(&h->ebr, idx, first);
			if (key)
				*key = k;
			if (value)
				*value = v;
			rc = DS_SUCCESS;
			break;
		}
	}
	arena_ebr_exit(&h->ebr, idx);
	return rc;
}

/*
 * ds_msqueue_insert - enqueue (@key, @value).
 * Concurrency: _mpmc, any context, with any other queue operation.
 * Progress: lock-free.  Returns DS_SUCCESS, DS_ERROR_NOMEM or DS_ERROR_BUSY.
 */
DS_API int ds_msqueue_insert(struct ds_msqueue_head __arena *h __arg_arena, __u64 key,
					     __u64 value)
{
	int rc;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	rc = ds_msqueue_enqueue_mpmc(h, key, value);
	ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/*
 * ds_msqueue_delete - dequeue and drop the oldest element; @key is ignored.
 * Concurrency: _mpmc, any context, with any other queue operation.
 * Progress: lock-free.  Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty) or
 * DS_ERROR_BUSY.
 */
DS_API int ds_msqueue_delete(struct ds_msqueue_head __arena *h __arg_arena, __u64 key)
{
	int rc;

	arena_bind();
	(void)key;
	if (!h)
		return DS_ERROR_INVALID;
	rc = ds_msqueue_dequeue_mpmc(h, NULL, NULL);
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_msqueue_pop - dequeue the oldest element into *@key, *@value.
 * Concurrency: _mpmc, any context, with any other queue operation.
 * Progress: lock-free.  Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty) or
 * DS_ERROR_BUSY.
 */
DS_API int ds_msqueue_pop(struct ds_msqueue_head __arena *h __arg_arena, __u64 *key,
					  __u64 *value)
{
	int rc;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	rc = ds_msqueue_dequeue_mpmc(h, key, value);
	ds_count(&h->stats, DS_OP_POP, rc);
	return rc;
}

/*
 * ds_msqueue_search - find the oldest element whose key is @key and store
 * its value in *@value.  Scans from the head: O(queue length).
 * Concurrency: any context, with any other queue operation; elements
 * enqueued or dequeued during the scan may or may not be seen.
 * Progress: no retries; in BPF bounded by can_loop.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY (BPF loop budget
 * or EBR records exhausted before the end: no answer).
 */
DS_API int ds_msqueue_search(struct ds_msqueue_head __arena *h __arg_arena, __u64 key,
					     __u64 *value)
{
	struct ds_msqueue_node __arena *curr;
	int idx, rc = DS_ERROR_BUSY;
	__u64 nx;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	curr = DS_MSQUEUE_PTR(arena_atomic_load_acquire(&h->head));
	while (curr && can_loop) {
		nx = arena_atomic_load_acquire(&curr->next);
		if (!nx) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		curr = DS_MSQUEUE_PTR(nx);	/* the dummy itself holds no element */
		if (curr->key == key) {
			if (value)
				*value = curr->value;
			rc = DS_SUCCESS;
			break;
		}
	}
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

DS_DEFINE_NO_RANGE(msqueue)	/* no key order */

/*
 * ds_msqueue_verify - check the queue: head is a valid node, every link
 * points into the allocator's memory, the chain from head ends (no cycle;
 * Brent's walk), tail is on the chain and names its last node or the one
 * before it, and the number of nodes after the dummy equals successful
 * inserts - deletes - pops.
 * Concurrency: only while no other operation runs on @h.
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason:
 * POINTER, CYCLE, SHAPE for head/tail, COUNT), DS_ERROR_INVALID (NULL
 * head) or DS_ERROR_BUSY (BPF loop budget spent before the end).
 */
DS_API int ds_msqueue_verify(struct ds_msqueue_head __arena *h __arg_arena)
{
	struct ds_chain c;
	struct ds_stats st;
	__u64 tl;
	int why;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	tl = h->tail;
	if (!h->head || !tl)
		return ds_corrupt(h, DS_CORRUPT_SHAPE);
	if (!ds_link_ok(tl))
		return ds_corrupt(h, DS_CORRUPT_POINTER);
	why = ds_chain_walk(h->head, offsetof(struct ds_msqueue_node, next), &c);
	if (why < 0)
		return DS_ERROR_BUSY;
	if (why)
		return ds_corrupt(h, why);
	/* The tail is the last node or, mid-enqueue, the one before it. */
	if (tl != c.last && (!c.prev || tl != c.prev))
		return ds_corrupt(h, DS_CORRUPT_SHAPE);
	ds_counters_sum(&h->stats, &st);
	if ((__s64)c.n - 1 != st.current_elements)	/* the dummy is no element */
		return ds_corrupt(h, DS_CORRUPT_COUNT);
	return DS_SUCCESS;
}

DS_DEFINE_STATS_FNS(msqueue)
DS_DEFINE_EBR_QUIESCE(msqueue)

DS_DEFINE_METADATA(msqueue,
	.description = "Michael-Scott lock-free FIFO queue (mpmc), EBR-reclaimed",
	.node_size = sizeof(struct ds_msqueue_node),
	.head_size = sizeof(struct ds_msqueue_head),
	.caps = DS_CAP_POP | DS_CAP_FIFO,
	.fixed_objects = 1,
	.requires_locking = 0,
	.progress = "lock-free; search is an O(n) scan",
)

