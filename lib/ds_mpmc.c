/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_mpmc.c - bounded multi-producer multi-consumer FIFO ring with a
 * sequence number in every slot (Dmitry Vyukov's design), shared by BPF
 * programs and userspace threads.
 *
 * Positions grow without bound (64 bits never wrap in practice); position
 * p lives in slot p & DS_MPMC_MASK.  A slot's sequence number says whose
 * turn it is:
 *   seq == p             empty, ready for the producer of position p
 *   seq == p + 1         full, ready for the consumer of position p
 *   seq == p + capacity  consumed, ready for the producer of p + capacity
 * A producer claims position p by a CAS of tail from p to p + 1 after it
 * saw seq == p, writes key and value, then publishes with a release store
 * of seq = p + 1.  A consumer claims p by a CAS of head after it saw
 * seq == p + 1, reads, then frees the slot with seq = p + capacity.  Only
 * the CAS on head or tail is contended; slots are handed over by the
 * acquire/release pair on their sequence number.
 *
 * Nothing ever waits: a producer that finds the slot at the tail not yet
 * released returns DS_ERROR_FULL, a consumer that finds the slot at the head
 * not yet published returns DS_ERROR_NOT_FOUND.  So while an operation is
 * between its claim and its publication (a preempted userspace thread), the
 * ring may report full / empty for that slot although other slots could
 * proceed; it never overwrites and never blocks.
 *
 * The slots are part of the head (ds_create() allocates it with
 * arena_alloc_large()), so init allocates nothing and every operation,
 * init included, may run in any BPF context.  (An arena_alloc_large() in
 * init would put a sleepable kfunc into the shared dispatcher, which the
 * verifier refuses in non-sleepable hook programs before kernel 7.0.)
 *
 * Operation mapping (generic API -> ring):
 *   insert(key, value)  enqueue; DS_ERROR_FULL at capacity (no overwrite)
 *   delete(key)         dequeue the oldest element (key is ignored)
 *   pop(&key, &value)   dequeue the oldest element, returning it
 *   search(key, &value) peek: value of the oldest element (key ignored)
 *   range               not supported (DS_ERROR_INVALID)
 */
#include <libarena-ds/ds_mpmc.h>
#include "ds_internal.h"

/*
 * ds_mpmc_init - make @h an empty ring: slot i gets sequence number i.
 * @h points to zeroed memory of sizeof(*h) bytes.
 * Concurrency: before any other call on @h.  Returns DS_SUCCESS or
 * DS_ERROR_INVALID for a NULL head, DS_ERROR_BUSY if the BPF loop budget ran
 * out (cannot happen with the default capacity).
 */
DS_API int ds_mpmc_init(struct ds_mpmc_head __arena *h __arg_arena)
{
	__u64 i;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	arena_atomic_store(&h->head, 0);
	arena_atomic_store(&h->tail, 0);
	h->capacity = DS_MPMC_CAPACITY;
	h->verify_reason = 0;
	for (i = ARENA_ZERO; i < DS_MPMC_CAPACITY && can_loop; i++)
		h->slots[i & DS_MPMC_MASK].seq = i;
	return i == DS_MPMC_CAPACITY ? DS_SUCCESS : DS_ERROR_BUSY;
}

/*
 * ds_mpmc_enqueue_mpmc - append (@key, @value) at the tail.
 * Concurrency: any number of producers and consumers in any context.
 * Progress: lock-free claim (one CAS per attempt, retried only when another
 * producer won), wait-free publication; bounded by can_loop in BPF.
 * Returns DS_SUCCESS, DS_ERROR_FULL (the slot at the tail is still
 * occupied: ring at capacity, or its consumer has not finished), or
 * DS_ERROR_BUSY (BPF retry budget spent).  Counted as an insert.
 */
DS_API int ds_mpmc_enqueue_mpmc(struct ds_mpmc_head __arena *h __arg_arena, __u64 key,
						__u64 value)
{
	struct ds_mpmc_slot __arena *s;
	__u64 pos, seq, cur;
	int rc = DS_ERROR_BUSY;
	__s64 dif;

	arena_bind();
	pos = arena_atomic_load(&h->tail);
	while (can_loop) {
		s = &h->slots[pos & DS_MPMC_MASK];
		seq = arena_atomic_load_acquire(&s->seq);
		dif = (__s64)(seq - pos);
		if (dif == 0) {
			cur = arena_atomic_cmpxchg(&h->tail, pos, pos + 1);
			if (cur == pos) {
				/* Position pos is ours until seq says otherwise. */
				arena_atomic_store(&s->key, key);
				/* release: a peek that reads this value with
				 * acquire then sees seq moved on (see peek) */
				arena_atomic_store_release(&s->value, value);
				arena_atomic_store_release(&s->seq, pos + 1);
				rc = DS_SUCCESS;
				break;
			}
			pos = cur;	/* another producer took pos */
		} else if (dif < 0) {
			/* Slot still holds position pos - capacity. */
			rc = DS_ERROR_FULL;
			break;
		} else {
			/* Our tail was stale: the slot already moved on. */
			pos = arena_atomic_load(&h->tail);
		}
	}
	ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/* Dequeue without counting: the body of delete and pop. */
static __always_inline int __ds_mpmc_dequeue(struct ds_mpmc_head __arena *h, __u64 *key,
					     __u64 *value)
{
	struct ds_mpmc_slot __arena *s;
	__u64 pos, seq, cur, k, v;
	__s64 dif;

	pos = arena_atomic_load(&h->head);
	while (can_loop) {
		s = &h->slots[pos & DS_MPMC_MASK];
		seq = arena_atomic_load_acquire(&s->seq);
		dif = (__s64)(seq - (pos + 1));
		if (dif == 0) {
			cur = arena_atomic_cmpxchg(&h->head, pos, pos + 1);
			if (cur == pos) {
				k = arena_atomic_load(&s->key);
				v = arena_atomic_load(&s->value);
				/* Hand the slot to the producer one lap ahead. */
				arena_atomic_store_release(&s->seq, pos + DS_MPMC_CAPACITY);
				if (key)
					*key = k;
				if (value)
					*value = v;
				return DS_SUCCESS;
			}
			pos = cur;	/* another consumer took pos */
		} else if (dif < 0) {
			/* Not published yet: empty (or its producer is busy). */
			return DS_ERROR_NOT_FOUND;
		} else {
			pos = arena_atomic_load(&h->head);
		}
	}
	return DS_ERROR_BUSY;
}

/*
 * ds_mpmc_dequeue_mpmc - remove the oldest element; store it in *@key and
 * *@value (either may be NULL).
 * Concurrency: any number of producers and consumers in any context.
 * Progress: lock-free claim, wait-free release; bounded by can_loop in BPF.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (the slot at the head holds nothing
 * published: ring empty, or its producer has not finished), or
 * DS_ERROR_BUSY.  Counted as a pop.
 */
DS_API int ds_mpmc_dequeue_mpmc(struct ds_mpmc_head __arena *h __arg_arena, __u64 *key,
						__u64 *value)
{
	int rc = __ds_mpmc_dequeue(h, key, value);

	arena_bind();
	ds_count(&h->stats, DS_OP_POP, rc);
	return rc;
}

/*
 * ds_mpmc_peek_mpmc - read the value of the oldest element without removing
 * it.  The value is consistent: the slot's sequence number is read again
 * after the value (value stored with release, loaded with acquire, so no
 * fence is needed) and must be unchanged.
 * Concurrency: any context, with any other operation.  Lock-free; read-only.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 * Not counted (search counts it).
 */
DS_API int ds_mpmc_peek_mpmc(struct ds_mpmc_head __arena *h __arg_arena, __u64 *value)
{
	struct ds_mpmc_slot __arena *s;
	__u64 pos, seq, v;

	arena_bind();
	pos = arena_atomic_load_acquire(&h->head);
	while (can_loop) {
		s = &h->slots[pos & DS_MPMC_MASK];
		seq = arena_atomic_load_acquire(&s->seq);
		if (seq == pos + 1) {
			/*
			 * acquire: if this reads a later lap's value (its
			 * producer stores it with release), the second look
			 * at seq below sees at least that lap's consumer.
			 */
			v = arena_atomic_load_acquire(&s->value);
			if (arena_atomic_load(&s->seq) == seq) {
				if (value)
					*value = v;
				return DS_SUCCESS;
			}
		} else if ((__s64)(seq - (pos + 1)) < 0) {
			return DS_ERROR_NOT_FOUND;
		}
		pos = arena_atomic_load_acquire(&h->head);
	}
	return DS_ERROR_BUSY;
}

/*
 * ds_mpmc_insert - generic insert: ds_mpmc_enqueue_mpmc().
 */
DS_API int ds_mpmc_insert(struct ds_mpmc_head __arena *h __arg_arena, __u64 key,
					  __u64 value)
{
	arena_bind();
	return ds_mpmc_enqueue_mpmc(h, key, value);
}

/*
 * ds_mpmc_delete - generic delete: dequeue the oldest element, whatever
 * @key is.  Concurrency and progress of ds_mpmc_dequeue_mpmc().
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 */
DS_API int ds_mpmc_delete(struct ds_mpmc_head __arena *h __arg_arena, __u64 key)
{
	int rc;

	arena_bind();
	(void)key;
	rc = __ds_mpmc_dequeue(h, NULL, NULL);
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_mpmc_search - generic search: peek at the oldest element (@key is
 * ignored); its value goes to *@value.  See ds_mpmc_peek_mpmc().
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 */
DS_API int ds_mpmc_search(struct ds_mpmc_head __arena *h __arg_arena, __u64 key,
					  __u64 *value)
{
	int rc;

	arena_bind();
	(void)key;
	rc = ds_mpmc_peek_mpmc(h, value);
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

/*
 * ds_mpmc_pop - generic pop: ds_mpmc_dequeue_mpmc() (oldest first).
 */
DS_API int ds_mpmc_pop(struct ds_mpmc_head __arena *h __arg_arena, __u64 *key,
				       __u64 *value)
{
	arena_bind();
	return ds_mpmc_dequeue_mpmc(h, key, value);
}

DS_DEFINE_NO_RANGE(mpmc)	/* no key order */

/*
 * ds_mpmc_verify - check the ring: 0 <= tail - head <= capacity
 * (DS_CORRUPT_INDEX); every slot's sequence number matches its turn, i.e.
 * position p in [head, tail) has seq p + 1 and position p in
 * [tail, head + capacity) has seq p (DS_CORRUPT_SHAPE, also for a wrong
 * capacity); and tail - head equals successful inserts - deletes - pops
 * (DS_CORRUPT_COUNT).
 * Concurrency: only while no other operation runs on @h.
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason), or
 * DS_ERROR_BUSY (BPF loop budget spent).
 */
DS_API int ds_mpmc_verify(struct ds_mpmc_head __arena *h __arg_arena)
{
	struct ds_stats st;
	__u64 head, tail, n, i, pos, want;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	if (h->capacity != DS_MPMC_CAPACITY)
		return ds_corrupt(h, DS_CORRUPT_SHAPE);
	head = h->head;
	tail = h->tail;
	n = tail - head;
	if ((__s64)n < 0 || n > DS_MPMC_CAPACITY)
		return ds_corrupt(h, DS_CORRUPT_INDEX);
	for (i = ARENA_ZERO; i < DS_MPMC_CAPACITY && can_loop; i++) {
		pos = head + i;
		want = i < n ? pos + 1 : pos;
		if (h->slots[pos & DS_MPMC_MASK].seq != want)
			return ds_corrupt(h, DS_CORRUPT_SHAPE);
	}
	if (i != DS_MPMC_CAPACITY)
		return DS_ERROR_BUSY;
	ds_counters_sum(&h->stats, &st);
	if ((__s64)n != st.current_elements)
		return ds_corrupt(h, DS_CORRUPT_COUNT);
	return DS_SUCCESS;
}

DS_DEFINE_STATS_FNS(mpmc)
DS_DEFINE_NO_QUIESCE(mpmc)

DS_DEFINE_METADATA(mpmc,
	.description = "bounded MPMC FIFO ring, per-slot sequence numbers (Vyukov)",
	.node_size = sizeof(struct ds_mpmc_slot),
	.head_size = sizeof(struct ds_mpmc_head),
	.caps = DS_CAP_POP | DS_CAP_FIFO | DS_CAP_BOUNDED | DS_CAP_INLINE,
	.fixed_objects = 0,
	.requires_locking = 0,
	.progress = "lock-free claim, never waits (FULL/NOT_FOUND instead)",
)

