/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_spsc.c - bounded single-producer single-consumer FIFO ring (Lamport's
 * ring with cached indices), shared by BPF programs and userspace threads.
 *
 * CONTRACT: at any moment at most ONE context enqueues (insert) and at most
 * ONE context dequeues (delete, pop).  The two may be different worlds (a
 * BPF program producing, a userspace thread consuming, or the reverse); a
 * role may move from one context to another only when the old holder has
 * finished and the hand-over is ordered (e.g. a join or a barrier).  Peek
 * (search) may run in any number of contexts.  Breaking the contract
 * corrupts the ring: the functions here do not detect it; the driver
 * assigns the roles.
 *
 * Positions grow without bound; position p lives in slot p & DS_SPSC_MASK.
 * Only the producer writes tail and only the consumer writes head, each on
 * its own cache line together with that side's private copy of the other
 * index, so a side touches the other's line only when its copy says the
 * ring is full (producer) or empty (consumer).
 *
 * Memory ordering: the producer writes the slot, then publishes it with a
 * release store of tail; the consumer reads tail with acquire before it
 * reads the slot.  The consumer reads the slot, then frees it with a release
 * store of head; the producer reads head with acquire before it overwrites
 * the slot.  No RMW atomic touches the ring (in BPF on x86 these are plain
 * accesses plus compiler barriers); only the per-slot statistics counters
 * are atomic adds.  A peek reads the value with acquire (the producer
 * stores it with release) and then head again, see ds_spsc_peek_spsc().
 *
 * Operation mapping: insert = enqueue (DS_ERROR_FULL at capacity, never an
 * overwrite), delete = dequeue the oldest (key ignored), pop = dequeue the
 * oldest returning it, search = peek at the oldest value (key ignored),
 * range unsupported.  The slots are part of the head, so nothing is
 * allocated after ds_create().
 */
#include <libarena-ds/ds_spsc.h>
#include "ds_internal.h"

/*
 * ds_spsc_init - make @h an empty ring.  @h points to zeroed memory of
 * sizeof(*h) bytes.
 * Concurrency: before any other call on @h.  Returns DS_SUCCESS or
 * DS_ERROR_INVALID for a NULL head.
 */
DS_API int ds_spsc_init(struct ds_spsc_head __arena *h __arg_arena)
{
	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	/* One by one: clang may merge adjacent plain zero stores into a
	 * memset that loses the arena address-space cast in BPF. */
	arena_atomic_store(&h->head, 0);
	arena_atomic_store(&h->tail_cache, 0);
	arena_atomic_store(&h->tail, 0);
	arena_atomic_store(&h->head_cache, 0);
	h->capacity = DS_SPSC_CAPACITY;
	h->verify_reason = 0;
	return DS_SUCCESS;
}

/*
 * ds_spsc_enqueue_spsc - append (@key, @value).
 * Concurrency: the producer only (one context at a time, see CONTRACT);
 * concurrently with the consumer and with peeks.  Progress: wait-free.
 * Returns DS_SUCCESS or DS_ERROR_FULL (capacity elements queued; nothing
 * is overwritten).  Counted as an insert.
 */
DS_API int ds_spsc_enqueue_spsc(struct ds_spsc_head __arena *h __arg_arena, __u64 key,
						__u64 value)
{
	struct ds_spsc_slot __arena *s;
	__u64 tail = arena_atomic_load(&h->tail);
	int rc = DS_ERROR_FULL;

	arena_bind();
	if (tail - h->head_cache >= DS_SPSC_CAPACITY) {
		h->head_cache = arena_atomic_load_acquire(&h->head);
		if (tail - h->head_cache >= DS_SPSC_CAPACITY)
			goto out;
	}
	s = &h->slots[tail & DS_SPSC_MASK];
	arena_atomic_store(&s->key, key);
	/* release: pairs with the acquire load in ds_spsc_peek_spsc() */
	arena_atomic_store_release(&s->value, value);
	arena_atomic_store_release(&h->tail, tail + 1);
	rc = DS_SUCCESS;
out:
	ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/* Dequeue without counting: the body of delete and pop.  Consumer only. */
static __always_inline int __ds_spsc_dequeue(struct ds_spsc_head __arena *h, __u64 *key,
					     __u64 *value)
{
	struct ds_spsc_slot __arena *s;
	__u64 head = arena_atomic_load(&h->head), k, v;

	if (head == h->tail_cache) {
		h->tail_cache = arena_atomic_load_acquire(&h->tail);
		if (head == h->tail_cache)
			return DS_ERROR_NOT_FOUND;
	}
	s = &h->slots[head & DS_SPSC_MASK];
	k = arena_atomic_load(&s->key);
	v = arena_atomic_load(&s->value);
	arena_atomic_store_release(&h->head, head + 1);
	if (key)
		*key = k;
	if (value)
		*value = v;
	return DS_SUCCESS;
}

/*
 * ds_spsc_dequeue_spsc - remove the oldest element; store it in *@key and
 * *@value (either may be NULL).
 * Concurrency: the consumer only (one context at a time, see CONTRACT);
 * concurrently with the producer and with peeks.  Progress: wait-free.
 * Returns DS_SUCCESS or DS_ERROR_NOT_FOUND (empty).  Counted as a pop.
 */
DS_API int ds_spsc_dequeue_spsc(struct ds_spsc_head __arena *h __arg_arena, __u64 *key,
						__u64 *value)
{
	int rc;

	arena_bind();
	rc = __ds_spsc_dequeue(h, key, value);
	ds_count(&h->stats, DS_OP_POP, rc);
	return rc;
}

/*
 * ds_spsc_peek_spsc - read the value of the oldest element without removing
 * it.  After reading the slot, head is read again: unchanged means the
 * producer cannot have reused the slot, so the value is consistent.
 * Concurrency: ANY context, any number at once, with the producer and the
 * consumer.  Lock-free (retries only when the consumer moved on); read-only.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY (BPF
 * retry budget spent).  Not counted (search counts it).
 */
DS_API int ds_spsc_peek_spsc(struct ds_spsc_head __arena *h __arg_arena, __u64 *value)
{
	__u64 head, tail, v;

	arena_bind();
	while (can_loop) {
		head = arena_atomic_load_acquire(&h->head);
		tail = arena_atomic_load_acquire(&h->tail);
		if ((__s64)(tail - head) <= 0)
			return DS_ERROR_NOT_FOUND;
		/*
		 * acquire: if this reads a value the producer wrote for a
		 * later lap (with release), the producer had seen head move
		 * on, and so does the second look below.
		 */
		v = arena_atomic_load_acquire(&h->slots[head & DS_SPSC_MASK].value);
		if (arena_atomic_load(&h->head) == head) {
			if (value)
				*value = v;
			return DS_SUCCESS;
		}
	}
	return DS_ERROR_BUSY;
}

/*
 * ds_spsc_insert - generic insert: ds_spsc_enqueue_spsc() (producer only).
 */
DS_API int ds_spsc_insert(struct ds_spsc_head __arena *h __arg_arena, __u64 key,
					  __u64 value)
{
	arena_bind();
	return ds_spsc_enqueue_spsc(h, key, value);
}

/*
 * ds_spsc_delete - generic delete: dequeue the oldest element whatever @key
 * is.  Consumer only.  Wait-free.
 * Returns DS_SUCCESS or DS_ERROR_NOT_FOUND (empty).
 */
DS_API int ds_spsc_delete(struct ds_spsc_head __arena *h __arg_arena, __u64 key)
{
	int rc;

	arena_bind();
	(void)key;
	rc = __ds_spsc_dequeue(h, NULL, NULL);
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_spsc_search - generic search: peek at the oldest element (@key is
 * ignored).  Any context.  See ds_spsc_peek_spsc().
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 */
DS_API int ds_spsc_search(struct ds_spsc_head __arena *h __arg_arena, __u64 key,
					  __u64 *value)
{
	int rc;

	arena_bind();
	(void)key;
	rc = ds_spsc_peek_spsc(h, value);
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

/*
 * ds_spsc_pop - generic pop: ds_spsc_dequeue_spsc() (consumer only).
 */
DS_API int ds_spsc_pop(struct ds_spsc_head __arena *h __arg_arena, __u64 *key,
				       __u64 *value)
{
	arena_bind();
	return ds_spsc_dequeue_spsc(h, key, value);
}

DS_DEFINE_NO_RANGE(spsc)	/* no key order */

/*
 * ds_spsc_verify - check the indices: 0 <= tail - head <= capacity, and
 * each side's cached copy lies where it can: head_cache <= head and
 * head <= tail_cache <= tail (DS_CORRUPT_INDEX); the capacity
 * (DS_CORRUPT_SHAPE); and tail - head equals successful inserts - deletes -
 * pops (DS_CORRUPT_COUNT).
 * Concurrency: only while no other operation runs on @h.
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason).
 */
DS_API int ds_spsc_verify(struct ds_spsc_head __arena *h __arg_arena)
{
	struct ds_stats st;
	__u64 head, tail, n;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	if (h->capacity != DS_SPSC_CAPACITY)
		return ds_corrupt(h, DS_CORRUPT_SHAPE);
	head = h->head;
	tail = h->tail;
	n = tail - head;
	if ((__s64)n < 0 || n > DS_SPSC_CAPACITY)
		return ds_corrupt(h, DS_CORRUPT_INDEX);
	if ((__s64)(head - h->head_cache) < 0 ||
	    (__s64)(h->tail_cache - head) < 0 || (__s64)(tail - h->tail_cache) < 0)
		return ds_corrupt(h, DS_CORRUPT_INDEX);
	ds_counters_sum(&h->stats, &st);
	if ((__s64)n != st.current_elements)
		return ds_corrupt(h, DS_CORRUPT_COUNT);
	return DS_SUCCESS;
}

DS_DEFINE_STATS_FNS(spsc)
DS_DEFINE_NO_QUIESCE(spsc)

DS_DEFINE_METADATA(spsc,
	.description = "bounded SPSC FIFO ring (one producer, one consumer context)",
	.node_size = sizeof(struct ds_spsc_slot),
	.head_size = sizeof(struct ds_spsc_head),
	.caps = DS_CAP_POP | DS_CAP_FIFO | DS_CAP_BOUNDED | DS_CAP_SPSC | DS_CAP_INLINE,
	.fixed_objects = 0,
	.requires_locking = 0,
	.progress = "wait-free (producer and consumer); peek lock-free",
)

