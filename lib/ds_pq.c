/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_pq.c - priority queue: a binary min-heap of (key = priority, value)
 * in a fixed array, shared by BPF programs and userspace threads and guarded
 * by one arena spinlock.  Duplicate keys are allowed.
 *
 * The array (DS_PQ_CAPACITY entries) lives inside the head, which ds_create()
 * allocates in one multi-page piece: init allocates nothing, elements are
 * stored inline (DS_CAP_INLINE: no allocator object per element), and
 * insert answers DS_ERROR_FULL at capacity.
 *
 * Operations (the queue is not keyed: keys are priorities, not names)
 *   insert(key, value)   add; sift up.  O(log n)
 *   pop()                remove a minimum and return (key, value); sift
 *                        down.  O(log n)
 *   delete(key)          remove a minimum (@key is ignored: the driver's
 *                        dequeue for unkeyed structures).  O(log n)
 *   search(key)          peek: the value of a minimum (@key is ignored).
 *                        O(1)
 *   range(lo, hi)        count elements with lo <= key <= hi: a pre-order
 *                        walk that skips every subtree whose root is above
 *                        @hi (heap order: nothing below it can count).
 *                        O(elements with key <= hi)
 * All run under h->lock, readers included: the heap is only touched by the
 * lock holder, nothing is freed, quiesce has nothing to do.
 * Progress: blocking (bounded spin); DS_ERROR_BUSY changes nothing.
 *
 * verify reasons: DS_CORRUPT_ORDER (a child above its parent),
 * DS_CORRUPT_INDEX (count beyond the capacity), DS_CORRUPT_COUNT (count !=
 * inserts - deletes - pops).
 */
#include <libarena-ds/ds_pq.h>
#include "ds_internal.h"
#include "lock.h"

/*
 * Take the lock.  In BPF give up after DS_PQ_BPF_LOCK_TRIES attempts: on a
 * kernel without preemption a spinning program keeps a descheduled
 * userspace holder off its CPU, so spinning out the whole may_goto budget
 * only delays it.
 */
static __always_inline int ds_pq_lock(struct ds_pq_head __arena *h)
{
#ifdef __BPF__
	return arena_spin_lock_tries(&h->lock, DS_PQ_BPF_LOCK_TRIES);
#else
	return arena_spin_lock(&h->lock);
#endif
}

/*
 * ds_pq_init - make @h an empty queue.  @h points to zeroed memory.
 * Concurrency: before any other call on @h.
 * Returns DS_SUCCESS or DS_ERROR_INVALID for a NULL head.
 */
DS_API int ds_pq_init(struct ds_pq_head __arena *h __arg_arena)
{
	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->count = 0;
	return DS_SUCCESS;
}

/* Slot @to = slot @from, field by field (a struct copy may become a memcpy
 * that loses the arena address-space cast in BPF). */
static __always_inline void ds_pq_copy(struct ds_pq_head __arena *h, __u32 to, __u32 from)
{
	h->heap[to].key = h->heap[from].key;
	h->heap[to].value = h->heap[from].value;
}

/* Move (key, value) up from slot @i to its place.  Under the lock. */
static __always_inline void ds_pq_sift_up(struct ds_pq_head __arena *h, __u32 i,
					  __u64 key, __u64 value)
{
	__u32 p;

	i = (i + ARENA_ZERO) & (DS_PQ_CAPACITY - 1);
	while (i > 0 && can_loop) {
		p = (i - 1) / 2;
		if (h->heap[p].key <= key)
			break;
		ds_pq_copy(h, i, p);
		i = p;
	}
	h->heap[i].key = key;
	h->heap[i].value = value;
}

/* Move (key, value) down from slot @i in a heap of @n.  Under the lock. */
static __always_inline void ds_pq_sift_down(struct ds_pq_head __arena *h, __u32 i,
					    __u32 n, __u64 key, __u64 value)
{
	__u32 c;

	i = (i + ARENA_ZERO) & (DS_PQ_CAPACITY - 1);
	while (can_loop) {
		c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && h->heap[c + 1].key < h->heap[c].key)
			c++;
		if (h->heap[c].key >= key)
			break;
		ds_pq_copy(h, i, c);
		i = c & (DS_PQ_CAPACITY - 1);
	}
	h->heap[i].key = key;
	h->heap[i].value = value;
}

/*
 * Count the keys in [@lo, @hi] into *@cnt with a pre-order walk over the
 * elements with key <= @hi (a subtree whose root is above @hi is skipped
 * whole).  Stackless: the next slot follows from the index arithmetic of
 * the implicit tree.  Returns 0, or -1 when the BPF loop budget ran out.
 */
static __always_inline int ds_pq_scan(struct ds_pq_head __arena *h, __u64 lo, __u64 hi,
				      __u32 *cnt)
{
	__u32 i = ARENA_ZERO, n = h->count, c = ARENA_ZERO, up = 0;
	__u64 k;

	if (!n)
		goto done;
	/* One flat loop: each step reads the element at i (up == 0) or
	 * climbs one level. */
	while (can_loop) {
#ifdef __BPF__
		/*
		 * The cursor goes through arena memory, where the verifier
		 * knows nothing of its value: with i's bounds changing on
		 * every step, no two steps' states were alike, and 6.12
		 * refused the path ("The sequence of 8193 jumps is too
		 * complex").  We hold the lock: the word is ours.
		 */
		ARENA_WRITE_ONCE(h->scan_pos, i);
		i = ARENA_READ_ONCE(h->scan_pos);
#endif
		if (!up) {
			k = h->heap[i & (DS_PQ_CAPACITY - 1)].key;
			if (k <= hi) {
				if (k >= lo)
					c++;
				if (2 * i + 1 < n) {
					i = 2 * i + 1;	/* descend to the left child */
					continue;
				}
			}
			/* Subtree at i done: go to the right sibling of the
			 * nearest ancestor-or-self that is a left child and
			 * has one. */
			up = 1;
		}
		if (i == 0)
			goto done;
		if ((i & 1) && i + 1 < n) {
			i++;
			up = 0;
		} else {
			i = (i - 1) / 2;
		}
	}
	return -1;
done:
	*cnt = c;
	return 0;
}

/*
 * ds_pq_insert - add @value with priority @key (duplicates allowed).
 * Concurrency: any number of BPF programs and userspace threads, with any
 * other pq operation.  Progress: blocking (bounded spin); O(log n).
 * Returns DS_SUCCESS, DS_ERROR_FULL (DS_PQ_CAPACITY elements), or
 * DS_ERROR_BUSY (unchanged).
 */
DS_API int ds_pq_insert(struct ds_pq_head __arena *h __arg_arena, __u64 key,
					__u64 value)
{
	int rc = DS_ERROR_BUSY;
	__u32 n;

	arena_bind();
	if (ds_pq_lock(h))
		goto out_count;
	n = h->count;
	if (n >= DS_PQ_CAPACITY) {
		rc = DS_ERROR_FULL;
	} else {
		ds_pq_sift_up(h, n, key, value);
		h->count = n + 1;
		rc = DS_SUCCESS;
	}
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/* Remove slot @i (< count) and restore heap order.  Under the lock. */
static __always_inline void ds_pq_remove_at(struct ds_pq_head __arena *h, __u32 i)
{
	__u32 n = h->count - 1;
	__u64 key, value;

	key = h->heap[n & (DS_PQ_CAPACITY - 1)].key;
	value = h->heap[n & (DS_PQ_CAPACITY - 1)].value;
	h->count = n;
	if (i >= n)
		return;		/* it was the last slot */
	if (i > 0 && h->heap[((i - 1) / 2) & (DS_PQ_CAPACITY - 1)].key > key)
		ds_pq_sift_up(h, i, key, value);
	else
		ds_pq_sift_down(h, i, n, key, value);
}

/*
 * ds_pq_delete - remove a minimum element; @key is ignored (the queue is
 * not keyed; this is the dequeue drivers use for unkeyed structures).
 * Concurrency: any context.  Blocking (bounded spin); O(log n).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY
 * (unchanged).
 */
DS_API int ds_pq_delete(struct ds_pq_head __arena *h __arg_arena, __u64 key)
{
	int rc = DS_ERROR_BUSY;

	arena_bind();
	(void)key;
	if (ds_pq_lock(h))
		goto out_count;
	if (!h->count) {
		rc = DS_ERROR_NOT_FOUND;
	} else {
		ds_pq_remove_at(h, 0);
		rc = DS_SUCCESS;
	}
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_pq_search - peek: store the value of a minimum element in *@value;
 * @key is ignored.
 * Concurrency: any context (takes the lock).  Blocking (bounded spin); O(1).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 */
DS_API int ds_pq_search(struct ds_pq_head __arena *h __arg_arena, __u64 key,
					__u64 *value)
{
	int rc = DS_ERROR_BUSY;

	arena_bind();
	(void)key;
	if (ds_pq_lock(h))
		goto out_count;
	if (!h->count) {
		rc = DS_ERROR_NOT_FOUND;
	} else {
		if (value)
			*value = h->heap[0].value;
		rc = DS_SUCCESS;
	}
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

/*
 * ds_pq_pop - remove an element with the smallest key and return it.
 * Concurrency: any context.  Blocking (bounded spin); O(log n).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 */
DS_API int ds_pq_pop(struct ds_pq_head __arena *h __arg_arena, __u64 *key,
				     __u64 *value)
{
	int rc = DS_ERROR_BUSY;

	arena_bind();
	if (ds_pq_lock(h))
		goto out_count;
	if (!h->count) {
		rc = DS_ERROR_NOT_FOUND;
	} else {
		if (key)
			*key = h->heap[0].key;
		if (value)
			*value = h->heap[0].value;
		ds_pq_remove_at(h, 0);
		rc = DS_SUCCESS;
	}
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_POP, rc);
	return rc;
}

/*
 * ds_pq_range - count the elements with @lo <= key <= @hi into *@count.
 * Concurrency: any context; exact (under the lock).  Blocking (bounded
 * spin); O(elements with a key <= @hi).
 * Returns DS_SUCCESS or DS_ERROR_BUSY (*@count untouched).
 */
DS_API int ds_pq_range(struct ds_pq_head __arena *h __arg_arena, __u64 lo, __u64 hi,
				       __u64 *count)
{
	int rc = DS_ERROR_BUSY;
	__u32 cnt = 0;

	arena_bind();
	if (ds_pq_lock(h))
		goto out_count;
	if (ds_pq_scan(h, lo, hi, &cnt) == 0) {
		if (count)
			*count = cnt;
		rc = DS_SUCCESS;
	}
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_RANGE, rc);
	return rc;
}

/* Successful inserts - deletes - pops. */
static __always_inline __s64 ds_pq_live(struct ds_pq_head __arena *h)
{
	struct ds_slot_counters __arena *c;
	__s64 live = 0;
	__u32 i;

	for (i = ARENA_ZERO; i < ARENA_NR_SLOTS && can_loop; i++) {
		c = &h->stats.slot[i];
		live += (__s64)(arena_atomic_load(&c->ok[DS_OP_INSERT]) -
				arena_atomic_load(&c->ok[DS_OP_DELETE]) -
				arena_atomic_load(&c->ok[DS_OP_POP]));
	}
	return live;
}

/*
 * ds_pq_verify - check that the count fits the array, that no element has
 * a smaller key than its parent (so the minimum is at the head), and that
 * the count equals successful inserts - deletes - pops.
 * Concurrency: only while no other operation runs on @h.
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason), or
 * DS_ERROR_BUSY (BPF loop budget spent before the end).
 */
DS_API int ds_pq_verify(struct ds_pq_head __arena *h __arg_arena)
{
	__u32 i, n;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	n = h->count;
	if (n > DS_PQ_CAPACITY)
		return ds_corrupt(h, DS_CORRUPT_INDEX);
	for (i = ARENA_ZERO + 1; i < n && can_loop; i++)
		if (h->heap[((i - 1) / 2) & (DS_PQ_CAPACITY - 1)].key >
		    h->heap[i & (DS_PQ_CAPACITY - 1)].key)
			return ds_corrupt(h, DS_CORRUPT_ORDER);
	if (i < n)
		return DS_ERROR_BUSY;
	if ((__s64)n != ds_pq_live(h))
		return ds_corrupt(h, DS_CORRUPT_COUNT);
	return DS_SUCCESS;
}

DS_DEFINE_STATS_FNS_LOCKED(pq)
DS_DEFINE_NO_QUIESCE(pq)	/* nothing is freed: elements live in the array */

DS_DEFINE_METADATA(pq,
	.description = "binary min-heap priority queue under one arena spinlock, duplicates allowed",
	.node_size = sizeof(struct ds_pq_item),
	.head_size = sizeof(struct ds_pq_head),
	.caps = DS_CAP_POP | DS_CAP_ORDERED | DS_CAP_RANGE | DS_CAP_BOUNDED | DS_CAP_INLINE,
	.fixed_objects = 0,
	.requires_locking = 1,
	.progress = "blocking (bounded spin)",
)

