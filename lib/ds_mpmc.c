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
 *   seq == SKIP | x      out of use (a producer's stuck claim, below): the
 *                        positions of this slot up to x are passed by
 * A producer claims position p by a CAS of tail from p to p + 1 after it
 * saw seq == p, writes key and value, then publishes with a CAS of seq from
 * p to p + 1.  A consumer reads key and value after it saw seq == p + 1,
 * claims p by a CAS of head, then frees the slot with a CAS of seq from
 * p + 1 to p + capacity.  Only the CAS on head or tail is contended; slots
 * are handed over by their sequence number (the CAS on it is uncontended
 * unless the slot was taken over, below).
 *
 * Nothing ever waits: a producer that finds the slot at the tail not yet
 * released returns DS_ERROR_FULL, a consumer that finds the slot at the head
 * not yet published returns DS_ERROR_NOT_FOUND.  So while an operation is
 * between its claim and its publication (a preempted userspace thread), the
 * ring may report full / empty for that slot although other slots could
 * proceed; it never overwrites and never blocks.
 *
 * Stuck slots.  A userspace thread or process may die between its claim
 * and its CAS on seq (BPF programs do not die mid-run); the slot would then
 * stay claimed and the ring answer empty (full) at it for ever.  A claim is
 * recognised without knowing its holder: seq == p at the head while
 * tail > p (a producer's), seq == p + 1 - capacity at the tail while
 * head > p - capacity (a consumer's).  The first context that sees one
 * stamps the slot (its `stuck` word, by CAS: that state and the time,
 * bpf_ktime_get_ns() / CLOCK_MONOTONIC); one that sees the same state
 * DS_MPMC_STUCK_NS later takes the slot over by a CAS of seq, counted in
 * h->abandoned:
 *   - a consumer's claim: the producer a lap ahead frees the slot (seq from
 *     p + 1 to p + capacity) and goes on.  The consumer had read the element
 *     before its claim, so nothing of it is left in the slot; if it is only
 *     slow, its free CAS fails and it returns the element all the same.
 *     h->lost counts such elements until their consumer comes back (a dead
 *     one never does): get_stats subtracts it from current_elements.
 *   - a producer's claim: a slow producer may still store key and value at
 *     any time, so the slot cannot be given to the next lap.  The consumer
 *     marks it SKIP | p and moves head past p; every later lap passes the
 *     slot by (the producer at the tail records its position in it, then
 *     moves tail; the consumer at the head moves head).  A producer that
 *     comes back finds its publish CAS failed, gives the slot back (REL, or
 *     frees it for the next lap once head is past it) and retries its
 *     element from the start, at most DS_MPMC_RETRIES times (then
 *     DS_ERROR_BUSY: not stored).  A dead producer's element was never
 *     counted as inserted; its slot stays out of use (capacity - 1).
 * A live context taken for dead therefore costs a retry or a slot for a
 * while, never an element lost or stored twice.  The stamp only decides
 * when a takeover happens, never whether it is safe (a stale stamp makes it
 * early).  The cost is paid when a slot is found claimed; otherwise it is
 * one CAS on seq instead of a store on each side, and a consumer that finds
 * the ring empty reads tail once (to tell an empty slot from a claimed one).
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

/* How long a claim may stay unfinished before others take its slot. */
#ifndef DS_MPMC_STUCK_NS
#define DS_MPMC_STUCK_NS 100000000ULL
#endif
/* Attempts of an enqueue whose claimed slot was taken over. */
#define DS_MPMC_RETRIES 4

/* Test hooks (tests/unit/test_mpmc.c): after a producer's claim of tail,
 * after a consumer's claim of head. */
#define DS_MPMC_HOOK_CLAIMED	1
#define DS_MPMC_HOOK_TAKEN	2
#ifndef DS_MPMC_HOOK
#define DS_MPMC_HOOK(where) do { } while (0)
#endif

/*
 * Has slot @s been in state @seq (a claim) for DS_MPMC_STUCK_NS?  The first
 * look stamps the slot with the state's low 32 bits and the time in units
 * of 1024 ns (32 bits: about 73 minutes before the clock wraps, which at
 * worst makes one takeover early).
 */
static __always_inline int mpmc_stuck(struct ds_mpmc_slot __arena *s, __u64 seq)
{
	__u64 w = arena_atomic_load(&s->stuck);
	__u32 now = (__u32)(arena_now_ns() >> 10);

	if ((__u32)(w >> 32) != (__u32)seq) {
		arena_atomic_cmpxchg(&s->stuck, w, seq << 32 | now);
		return 0;
	}
	return (__u32)(now - (__u32)w) >= (__u32)(DS_MPMC_STUCK_NS >> 10);
}

/*
 * A producer at tail position @pos found its slot holding @seq, behind pos:
 * the ring is full, unless the consumer of pos - capacity claimed it (head
 * is past it) and has not freed it for DS_MPMC_STUCK_NS.  Then free it for
 * pos.  Returns 1 if the slot should be looked at again, 0 for FULL.
 */
static __always_inline int mpmc_unstick_tail(struct ds_mpmc_head __arena *h,
					     struct ds_mpmc_slot __arena *s, __u64 pos, __u64 seq)
{
	if (seq != pos - DS_MPMC_CAPACITY + 1)
		return 0;	/* not published yet: the consumers' turn */
	if ((__s64)(arena_atomic_load(&h->head) - (seq - 1)) <= 0)
		return 0;	/* not claimed: full */
	if (!mpmc_stuck(s, seq))
		return 0;
	if (arena_atomic_cmpxchg(&s->seq, seq, pos) != seq)
		return 1;
	arena_atomic_add(&h->abandoned, 1);
	arena_atomic_add(&h->lost, 1);	/* unless its consumer comes back */
	return 1;
}

/*
 * A consumer at head position @pos found its slot at seq == pos: empty,
 * unless a producer claimed pos (tail is past it) and has not published it
 * for DS_MPMC_STUCK_NS.  Then mark the slot SKIP | pos and move head past
 * pos.  Returns 1 if head should be looked at again, 0 for NOT_FOUND.
 */
static __always_inline int mpmc_unstick_head(struct ds_mpmc_head __arena *h,
					     struct ds_mpmc_slot __arena *s, __u64 pos)
{
	if ((__s64)(arena_atomic_load(&h->tail) - pos) <= 0)
		return 0;	/* nothing claimed: empty */
	if (!mpmc_stuck(s, pos))
		return 0;
	if (arena_atomic_cmpxchg(&s->seq, pos, pos | DS_MPMC_SKIP) != pos)
		return 1;
	arena_atomic_add(&h->abandoned, 1);
	arena_atomic_cmpxchg(&h->head, pos, pos + 1);
	return 1;
}

/*
 * A producer whose publish CAS failed: its slot was marked SKIP.  Give it
 * back: mark it REL for the consumer that passes it next, or, if head is
 * already past the last position that skipped it, free it for the lap
 * after that one.  A few tries (only producers recording a skip change the
 * word meanwhile); if they all fail the slot stays out of use.
 */
static __always_inline void mpmc_release(struct ds_mpmc_head __arena *h,
					 struct ds_mpmc_slot __arena *s)
{
	__u64 v, x, nv;
	__u32 i;

	for (i = ARENA_ZERO; i < 16 && can_loop; i++) {
		v = arena_atomic_load(&s->seq);
		x = v & DS_MPMC_POS;
		if ((__s64)(arena_atomic_load(&h->head) - x) > 0)
			nv = x + DS_MPMC_CAPACITY;
		else
			nv = v | DS_MPMC_REL;
		if (arena_atomic_cmpxchg(&s->seq, v, nv) == v)
			return;
	}
}

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
	arena_atomic_store(&h->abandoned, 0);
	arena_atomic_store(&h->lost, 0);
	for (i = ARENA_ZERO; i < DS_MPMC_CAPACITY && can_loop; i++) {
		h->slots[i & DS_MPMC_MASK].seq = i;
		/* a stamp that matches no state of the first 2^32 positions */
		h->slots[i & DS_MPMC_MASK].stuck = ~0ULL << 32;
	}
	return i == DS_MPMC_CAPACITY ? DS_SUCCESS : DS_ERROR_BUSY;
}

/*
 * ds_mpmc_enqueue_mpmc - append (@key, @value) at the tail.
 * Concurrency: any number of producers and consumers in any context.
 * Progress: lock-free claim (one CAS per attempt, retried only when another
 * producer won), publication by one uncontended CAS; bounded by can_loop.
 * A slot whose claim stayed unfinished for DS_MPMC_STUCK_NS is taken over
 * (see the top of this file); if that happened to this call's own claim
 * (the caller was stalled that long), the element is enqueued again from
 * the start, at most DS_MPMC_RETRIES times: it is stored exactly once, or
 * not at all with DS_ERROR_FULL / DS_ERROR_BUSY.
 * Returns DS_SUCCESS, DS_ERROR_FULL (the slot at the tail is still
 * occupied: ring at capacity, or its consumer has not finished), or
 * DS_ERROR_BUSY (BPF retry budget spent, or the claim was taken over
 * DS_MPMC_RETRIES times).  Counted as an insert.
 */
DS_API int ds_mpmc_enqueue_mpmc(struct ds_mpmc_head __arena *h __arg_arena, __u64 key,
						__u64 value)
{
	struct ds_mpmc_slot __arena *s;
	__u64 pos, seq, cur, x;
	int rc = DS_ERROR_BUSY, tries = 0;
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
				DS_MPMC_HOOK(DS_MPMC_HOOK_CLAIMED);
				arena_atomic_store(&s->key, key);
				/* release: a peek that reads this value with
				 * acquire then sees seq moved on (see peek) */
				arena_atomic_store_release(&s->value, value);
				if (arena_atomic_cmpxchg(&s->seq, pos, pos + 1) == pos) {
					rc = DS_SUCCESS;
					break;
				}
				/* Taken over while we were stalled: pos is
				 * skipped, our element is in no position. */
				mpmc_release(h, s);
				if (++tries >= DS_MPMC_RETRIES)
					break;
				pos = arena_atomic_load(&h->tail);
				continue;
			}
			pos = cur;	/* another producer took pos */
		} else if (seq & DS_MPMC_SKIP) {
			/* Out of use: record that lap pos passes it by, then
			 * move tail (others help once it is recorded).  Not
			 * before head is past the lap before: tail stays
			 * within capacity of head. */
			x = seq & DS_MPMC_POS;
			if ((__s64)(x - pos) < 0) {
				if ((__s64)(arena_atomic_load(&h->head) +
					    DS_MPMC_CAPACITY - pos) <= 0) {
					rc = DS_ERROR_FULL;
					break;
				}
				if (arena_atomic_cmpxchg(&s->seq, seq,
							 (seq & ~DS_MPMC_POS) | pos) != seq)
					continue;
				x = pos;
			}
			if (x == pos)
				arena_atomic_cmpxchg(&h->tail, pos, pos + 1);
			pos = arena_atomic_load(&h->tail);
		} else if (dif < 0) {
			/* Slot still holds position pos - capacity. */
			if (mpmc_unstick_tail(h, s, pos, seq))
				continue;
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
	__u64 pos, seq, cur, x, k = 0, v = 0;
	__s64 dif;

	pos = arena_atomic_load(&h->head);
	while (can_loop) {
		s = &h->slots[pos & DS_MPMC_MASK];
		seq = arena_atomic_load_acquire(&s->seq);
		if (seq & DS_MPMC_SKIP) {
			x = seq & DS_MPMC_POS;
			if ((__s64)(x - pos) < 0)
				return DS_ERROR_NOT_FOUND;	/* pos not reached */
			if (x == pos) {
				/* Skipped: pass it once tail has. */
				if ((__s64)(arena_atomic_load(&h->tail) - pos) <= 0)
					return DS_ERROR_NOT_FOUND;
				if (arena_atomic_cmpxchg(&h->head, pos, pos + 1) == pos &&
				    (seq & DS_MPMC_REL))
					/* its producer gave it back: in use
					 * again from the next lap */
					arena_atomic_cmpxchg(&s->seq, seq,
							     pos + DS_MPMC_CAPACITY);
			}
			pos = arena_atomic_load(&h->head);
			continue;
		}
		dif = (__s64)(seq - (pos + 1));
		if (dif == 0) {
			/* Read before the claim: once head is past pos, a
			 * producer a lap ahead may take the slot over. */
			if (key)
				k = arena_atomic_load(&s->key);
			if (value)
				v = arena_atomic_load(&s->value);
			cur = arena_atomic_cmpxchg(&h->head, pos, pos + 1);
			if (cur == pos) {
				DS_MPMC_HOOK(DS_MPMC_HOOK_TAKEN);
				/* Hand the slot to the producer one lap ahead. */
				if (arena_atomic_cmpxchg(&s->seq, pos + 1,
							 pos + DS_MPMC_CAPACITY) != pos + 1)
					/* It took the slot already (we were
					 * stalled); the element is ours all
					 * the same: not lost after all. */
					arena_atomic_add(&h->lost, -1);
				if (key)
					*key = k;
				if (value)
					*value = v;
				return DS_SUCCESS;
			}
			pos = cur;	/* another consumer took pos */
		} else if (dif < 0) {
			/* Not published yet: empty (or its producer is busy). */
			if (seq == pos && mpmc_unstick_head(h, s, pos)) {
				pos = arena_atomic_load(&h->head);
				continue;
			}
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
 * Progress: lock-free claim, release by one uncontended CAS; bounded by
 * can_loop.  A slot at the head whose producer has not published it for
 * DS_MPMC_STUCK_NS is passed by (see the top of this file); a call stalled
 * that long after its own claim still returns its element.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (the slot at the head holds nothing
 * published: ring empty, or its producer has not finished), or
 * DS_ERROR_BUSY.  Counted as a pop.
 */
DS_API int ds_mpmc_dequeue_mpmc(struct ds_mpmc_head __arena *h __arg_arena, __u64 *key,
						__u64 *value)
{
	int rc;

	arena_bind();
	rc = __ds_mpmc_dequeue(h, key, value);
	ds_count(&h->stats, DS_OP_POP, rc);
	return rc;
}

/*
 * ds_mpmc_peek_mpmc - read the value of the oldest element without removing
 * it.  The value is consistent: the slot's sequence number is read again
 * after the value (value stored with release, loaded with acquire, so no
 * fence is needed) and must be unchanged.  Skipped positions are passed.
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
		if (seq & DS_MPMC_SKIP) {
			if ((seq & DS_MPMC_POS) == pos &&
			    (__s64)(arena_atomic_load(&h->tail) - pos) > 0) {
				pos++;		/* skipped: look behind it */
				continue;
			}
			if ((__s64)((seq & DS_MPMC_POS) - pos) <= 0)
				return DS_ERROR_NOT_FOUND;
		} else if (seq == pos + 1) {
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
 * Is @seq a valid state for position @pos, @inside [head, tail) or not?
 * Adds to *@held the elements it holds: a published one, or one claimed by
 * a consumer that never freed the slot (it is still counted as in).
 */
static __always_inline int mpmc_seq_ok(__u64 seq, __u64 pos, int inside, __u64 *held)
{
	__u64 x = seq & DS_MPMC_POS;

	if (seq & DS_MPMC_SKIP) {
		/* out of use: the last lap that skipped it, pos itself
		 * inside; an earlier lap (or pos, recorded by a producer
		 * that stopped before moving tail) outside */
		if ((x & DS_MPMC_MASK) != (pos & DS_MPMC_MASK))
			return 0;
		return inside ? x == pos : (__s64)(x - pos) <= 0;
	}
	if (seq & DS_MPMC_REL)
		return 0;
	if (inside) {
		/* published, or claimed by a producer that never published
		 * (stuck until a consumer passes it by) */
		*held += seq == pos + 1;
		return seq == pos + 1 || seq == pos;
	}
	/* empty, or still claimed by the consumer a lap behind */
	*held += seq == pos - DS_MPMC_CAPACITY + 1;
	return seq == pos || seq == pos - DS_MPMC_CAPACITY + 1;
}

/*
 * ds_mpmc_verify - check the ring: 0 <= tail - head <= capacity
 * (DS_CORRUPT_INDEX); every slot's sequence number matches its turn, i.e.
 * position p in [head, tail) has seq p + 1 (or p: a claim never published,
 * or SKIP | p: passed by) and position p in [tail, head + capacity) has
 * seq p (or p + 1 - capacity: a consumer's claim never freed, or SKIP with
 * an earlier lap) (DS_CORRUPT_SHAPE, also for a wrong capacity); and the
 * elements held equal successful inserts - deletes - pops - h->lost, the
 * current_elements of ds_mpmc_get_stats() (DS_CORRUPT_COUNT).
 * Concurrency: only while no other operation runs on @h.
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason), or
 * DS_ERROR_BUSY (BPF loop budget spent).
 */
DS_API int ds_mpmc_verify(struct ds_mpmc_head __arena *h __arg_arena)
{
	__u64 head, tail, n, i, pos, held = 0;
	struct ds_stats st;

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
		if (!mpmc_seq_ok(h->slots[pos & DS_MPMC_MASK].seq, pos, i < n, &held))
			return ds_corrupt(h, DS_CORRUPT_SHAPE);
	}
	if (i != DS_MPMC_CAPACITY)
		return DS_ERROR_BUSY;
	ds_counters_sum(&h->stats, &st);
	if ((__s64)held != st.current_elements - h->lost)
		return ds_corrupt(h, DS_CORRUPT_COUNT);
	return DS_SUCCESS;
}

/*
 * get_stats: the operation counters; current_elements leaves out h->lost,
 * the elements whose consumer claimed them and never came back (its slot
 * was taken over), so it is what the ring holds; takeovers is
 * h->abandoned (any context; a snapshot, not atomic).  reset_stats also
 * zeroes h->abandoned and h->lost (only while no other operation runs on
 * @h).  Both return DS_SUCCESS.
 */
DS_DEFINE_STATS_FNS_X(mpmc,
		      (out->current_elements -= arena_atomic_load(&h->lost),
		       out->takeovers = arena_atomic_load(&h->abandoned)),
		      (arena_atomic_store(&h->abandoned, 0), arena_atomic_store(&h->lost, 0)))
DS_DEFINE_NO_QUIESCE(mpmc)

DS_DEFINE_METADATA(mpmc,
	.description = "bounded MPMC FIFO ring, per-slot sequence numbers (Vyukov)",
	.node_size = sizeof(struct ds_mpmc_slot),
	.head_size = sizeof(struct ds_mpmc_head),
	.caps = DS_CAP_POP | DS_CAP_FIFO | DS_CAP_BOUNDED | DS_CAP_INLINE,
	.fixed_objects = 0,
	.requires_locking = 0,
	.progress = "lock-free claim, never waits (FULL/NOT_FOUND instead); stuck claims taken over",
)

