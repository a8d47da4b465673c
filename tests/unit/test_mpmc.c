// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_mpmc.h (bounded MPMC ring) on a standalone arena. */
#include <sched.h>
#include <unistd.h>
#include "unit.h"

/*
 * White-box: the ring's code with a short stuck timeout and a hook where a
 * producer has claimed its position (before it publishes) and where a
 * consumer has claimed its own (before it frees the slot).
 */
#define STUCK_MS 20
#define DS_MPMC_STUCK_NS (STUCK_MS * 1000000ULL)
static void mpmc_hook(int where);
#define DS_MPMC_HOOK(where) mpmc_hook(where)
#include "ds_mpmc.c"

#define CAP DS_MPMC_CAPACITY

/* What the calling thread does at the hook point hook_at. */
enum { HOOK_NONE, HOOK_DIE, HOOK_STALL, HOOK_RANDOM };
static __thread int hook_act, hook_at;
static __thread unsigned int hook_seed;
static int hook_reached, hook_go;

static void mpmc_hook(int where)
{
	if (hook_act == HOOK_NONE || (hook_at && where != hook_at))
		return;
	if (hook_act == HOOK_RANDOM) {
		/* now and then, stalled past the timeout */
		if (rand_r(&hook_seed) % 128 == 0)
			usleep(STUCK_MS * 1500);
		return;
	}
	__atomic_store_n(&hook_reached, 1, __ATOMIC_RELEASE);
	if (hook_act == HOOK_DIE)
		pthread_exit(NULL);	/* dies holding its claim */
	while (!__atomic_load_n(&hook_go, __ATOMIC_ACQUIRE))
		usleep(1000);
	hook_act = HOOK_NONE;
}

static void hook_reset(void)
{
	__atomic_store_n(&hook_reached, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&hook_go, 0, __ATOMIC_RELAXED);
}

static void hook_wait_reached(void)
{
	int i;

	for (i = 0; i < 10000 && !__atomic_load_n(&hook_reached, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	assert_true(__atomic_load_n(&hook_reached, __ATOMIC_ACQUIRE));
}

/* Past the timeout, with a margin for a loaded machine. */
static void past_timeout(void)
{
	usleep(STUCK_MS * 3000);
}

static struct ds_mpmc_head *mpmc_new(void)
{
	struct ds_mpmc_head *h = ds_create(DS_KIND_mpmc);

	assert_non_null(h);
	return h;
}

static void test_mpmc_metadata(void **state)
{
	const struct ds_metadata *md = ds_metadata_of(DS_KIND_mpmc);

	(void)state;
	assert_string_equal(md->name, "mpmc");
	assert_int_equal(md->caps, DS_CAP_POP | DS_CAP_FIFO | DS_CAP_BOUNDED |
			 DS_CAP_INLINE);
	assert_int_equal(md->fixed_objects, 0);
	assert_int_equal(md->head_size, sizeof(struct ds_mpmc_head));
}

static void test_mpmc_api(void **state)
{
	struct ds_mpmc_head *h = mpmc_new();
	__u64 k = 0, v = 0;

	(void)state;
	assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_mpmc_delete(h, 7), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_mpmc_search(h, 7, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_mpmc_range(h, 0, 10, &v), DS_ERROR_INVALID);
	assert_int_equal(ds_mpmc_insert(h, 5, 50), DS_SUCCESS);
	assert_int_equal(ds_mpmc_insert(h, 3, 30), DS_SUCCESS);
	assert_int_equal(ds_mpmc_insert(h, 5, 51), DS_SUCCESS);	/* duplicates are fine */
	assert_int_equal(ds_mpmc_insert(h, 9, 90), DS_SUCCESS);
	/* search peeks at the oldest, whatever the key */
	assert_int_equal(ds_mpmc_search(h, 1234, &v), DS_SUCCESS);
	assert_int_equal(v, 50);
	assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 5);
	assert_int_equal(v, 50);
	/* delete takes the oldest, whatever the key */
	assert_int_equal(ds_mpmc_delete(h, 9), DS_SUCCESS);
	assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 5);
	assert_int_equal(v, 51);
	assert_int_equal(ds_mpmc_verify(h), DS_SUCCESS);
	assert_int_equal(ds_mpmc_pop(h, NULL, NULL), DS_SUCCESS);
	assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_mpmc_verify(h), DS_SUCCESS);
	assert_int_equal(ds_quiesce(DS_KIND_mpmc, h), 0);
	assert_true(unit_alloc_current() == 0);
}

/* At capacity: FULL, nothing overwritten, and room again after a pop. */
static void test_mpmc_full(void **state)
{
	struct ds_mpmc_head *h = mpmc_new();
	struct ds_stats st;
	__u64 i, k = 0, v = 0;

	(void)state;
	for (i = 0; i < CAP; i++)
		assert_int_equal(ds_mpmc_insert(h, i, i * 3 + 1), DS_SUCCESS);
	assert_int_equal(ds_mpmc_insert(h, 999999, 1), DS_ERROR_FULL);
	assert_int_equal(ds_mpmc_insert(h, 999999, 2), DS_ERROR_FULL);
	assert_int_equal(ds_mpmc_verify(h), DS_SUCCESS);
	ds_mpmc_get_stats(h, &st);
	assert_int_equal(st.current_elements, CAP);
	assert_int_equal(ds_mpmc_search(h, 0, &v), DS_SUCCESS);
	assert_int_equal(v, 1);
	assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 0);
	assert_int_equal(ds_mpmc_insert(h, CAP, CAP * 3 + 1), DS_SUCCESS);	/* wraps */
	assert_int_equal(ds_mpmc_insert(h, 999999, 3), DS_ERROR_FULL);
	for (i = 1; i <= CAP; i++) {
		assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_SUCCESS);
		assert_int_equal(k, i);
		assert_int_equal(v, i * 3 + 1);
	}
	assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_mpmc_verify(h), DS_SUCCESS);
}

/* Positions run many laps around the array. */
static void test_mpmc_laps(void **state)
{
	struct ds_mpmc_head *h = mpmc_new();
	__u64 i, k = 0, v = 0;

	(void)state;
	for (i = 0; i < 5 * CAP + 17; i++) {
		assert_int_equal(ds_mpmc_insert(h, i, ~i), DS_SUCCESS);
		if (i % 3 == 2) {
			assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_SUCCESS);
			assert_int_equal(k, i - 2);
			assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_SUCCESS);
			assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_SUCCESS);
			assert_int_equal(k, i);
			assert_int_equal(v, ~k);
			assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_ERROR_NOT_FOUND);
		}
	}
	assert_true(h->tail > 5 * CAP);
	assert_int_equal(ds_mpmc_verify(h), DS_SUCCESS);
}

/*
 * Random operations against a plain reference FIFO: the same return codes,
 * keys and values, and the same final contents.  The mix alternates between
 * filling and draining phases so that FULL and empty both happen often.
 */
static void test_mpmc_model(void **state)
{
	(void)state;
	unit_model_check_seq(&(struct unit_seq){ .kind = DS_KIND_mpmc,
						 .order = UNIT_FIFO | UNIT_SEARCH_PEEK,
						 .nops = unit_scale(100000), .seed = 77,
						 .capacity = CAP });
}

/* ---- 2 producers + 2 consumers: every value exactly once, per-producer order */

#define NPROD 2
#define NCONS 2

struct mpmc_stress {
	struct ds_mpmc_head *h;
	unsigned long n;		/* values per producer */
	pthread_barrier_t barrier;
	unsigned char *seen[NPROD];	/* times each value was dequeued */
	unsigned long consumed;
	int producers_done;
	unsigned long errors;		/* unexpected return codes */
	unsigned long dups, bad, order;	/* duplicate, malformed, out-of-order values */
	int stall;			/* workers stall at the hooks now and then */
};

struct mpmc_worker {
	pthread_t tid;
	struct mpmc_stress *s;
	int id;
};

static void *mpmc_producer(void *arg)
{
	struct mpmc_worker *w = arg;
	struct mpmc_stress *s = w->s;
	unsigned long i;
	int rc;

	unsigned long fulls = 0;

	if (s->stall) {
		hook_act = HOOK_RANDOM;
		hook_seed = w->id + 1;
	}
	pthread_barrier_wait(&s->barrier);
	for (i = 0; i < s->n; i++) {
		while ((rc = ds_mpmc_insert(s->h, w->id, (__u64)w->id << 32 | i)) != DS_SUCCESS) {
			/* BUSY: taken over DS_MPMC_RETRIES times, not stored */
			if (rc == DS_ERROR_BUSY && s->stall)
				continue;
			/* FULL for this long: the consumers are gone. */
			if (rc != DS_ERROR_FULL || ++fulls > 100000000) {
				__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
				goto out;
			}
			sched_yield();
		}
	}
out:
	__atomic_fetch_add(&s->producers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *mpmc_consumer(void *arg)
{
	struct mpmc_worker *w = arg;
	struct mpmc_stress *s = w->s;
	unsigned long total = NPROD * s->n, it = 0;
	__s64 last[NPROD] = { -1, -1 };
	__u64 k = 0, v = 0, p, i;
	int rc, done;

	if (s->stall) {
		hook_act = HOOK_RANDOM;
		hook_seed = w->id + 101;
	}
	pthread_barrier_wait(&s->barrier);
	while (__atomic_load_n(&s->consumed, __ATOMIC_RELAXED) < total) {
		if ((++it & 15) == 0) {
			/* A peek sees some producer's well-formed value. */
			rc = ds_mpmc_search(s->h, 0, &v);
			if (rc == DS_SUCCESS && ((v >> 32) >= NPROD || (v & 0xffffffff) >= s->n))
				__atomic_fetch_add(&s->bad, 1, __ATOMIC_RELAXED);
			else if (rc != DS_SUCCESS && rc != DS_ERROR_NOT_FOUND)
				__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
		}
		done = __atomic_load_n(&s->producers_done, __ATOMIC_ACQUIRE) == NPROD;
		rc = ds_mpmc_pop(s->h, &k, &v);
		if (rc == DS_ERROR_NOT_FOUND) {
			if (done)
				break;	/* every value published, ring empty */
			sched_yield();
			continue;
		}
		if (rc != DS_SUCCESS) {
			__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
			return NULL;
		}
		p = v >> 32;
		i = v & 0xffffffff;
		if (p >= NPROD || i >= s->n || k != p) {
			__atomic_fetch_add(&s->bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (__atomic_fetch_add(&s->seen[p][i], 1, __ATOMIC_RELAXED))
			__atomic_fetch_add(&s->dups, 1, __ATOMIC_RELAXED);
		/* FIFO: one consumer sees each producer's values in order. */
		if ((__s64)i <= last[p])
			__atomic_fetch_add(&s->order, 1, __ATOMIC_RELAXED);
		last[p] = i;
		__atomic_fetch_add(&s->consumed, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void mpmc_stress_run(unsigned long n, int stall)
{
	struct mpmc_stress s = { .n = n, .stall = stall };
	struct mpmc_worker w[NPROD + NCONS];
	struct ds_stats st;
	unsigned long i;
	int t, p;

	s.h = mpmc_new();
	for (p = 0; p < NPROD; p++) {
		s.seen[p] = calloc(s.n, 1);
		assert_non_null(s.seen[p]);
	}
	pthread_barrier_init(&s.barrier, NULL, NPROD + NCONS);
	for (t = 0; t < NPROD + NCONS; t++) {
		w[t].s = &s;
		w[t].id = t < NPROD ? t : t - NPROD;
		assert_int_equal(pthread_create(&w[t].tid, NULL,
						t < NPROD ? mpmc_producer : mpmc_consumer, &w[t]), 0);
	}
	for (t = 0; t < NPROD + NCONS; t++)
		pthread_join(w[t].tid, NULL);
	pthread_barrier_destroy(&s.barrier);
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.bad, 0);
	assert_int_equal(s.dups, 0);
	assert_int_equal(s.order, 0);
	assert_int_equal(s.consumed, NPROD * s.n);
	for (p = 0; p < NPROD; p++) {
		for (i = 0; i < s.n; i++)
			if (s.seen[p][i] != 1)
				fail_msg("producer %d value %lu seen %u times", p, i, s.seen[p][i]);
		free(s.seen[p]);
	}
	assert_int_equal(ds_mpmc_pop(s.h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_mpmc_verify(s.h), DS_SUCCESS);
	ds_mpmc_get_stats(s.h, &st);
	assert_int_equal(st.current_elements, 0);
	assert_int_equal(st.ops[DS_OP_INSERT].count - st.ops[DS_OP_INSERT].failures, NPROD * s.n);
	assert_int_equal(s.h->lost, 0);
	if (stall)
		print_message("# mpmc stalls: %llu claims taken over\n",
			      (unsigned long long)s.h->abandoned);
}

static void test_mpmc_stress(void **state)
{
	(void)state;
	mpmc_stress_run(unit_scale(400000), 0);
}

/* ---- contexts that die or stall between their claim and its completion */

struct mpmc_one {
	struct ds_mpmc_head *h;
	int act;		/* HOOK_* at the hook */
	int at;			/* DS_MPMC_HOOK_* */
	__u64 key, value;	/* enqueued, or dequeued */
	int rc;
};

static void *mpmc_one_enqueue(void *arg)
{
	struct mpmc_one *o = arg;

	hook_act = o->act;
	hook_at = o->at;
	o->rc = ds_mpmc_insert(o->h, o->key, o->value);
	return NULL;
}

static void *mpmc_one_dequeue(void *arg)
{
	struct mpmc_one *o = arg;

	hook_act = o->act;
	hook_at = o->at;
	o->rc = ds_mpmc_pop(o->h, &o->key, &o->value);
	return NULL;
}

/* Run one operation in a thread that dies at its hook. */
static void mpmc_die_in(struct ds_mpmc_head *h, void *(*fn)(void *), int at, __u64 key)
{
	struct mpmc_one o = { .h = h, .act = HOOK_DIE, .at = at, .key = key,
			      .value = key * 10, .rc = 12345 };
	pthread_t t;

	hook_reset();
	assert_int_equal(pthread_create(&t, NULL, fn, &o), 0);
	pthread_join(t, NULL);
	assert_true(__atomic_load_n(&hook_reached, __ATOMIC_ACQUIRE));
	assert_int_equal(o.rc, 12345);	/* it never returned */
}

static void expect_pop(struct ds_mpmc_head *h, __u64 key)
{
	__u64 k = ~0ULL, v = 0;

	assert_int_equal(ds_mpmc_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, key);
	assert_int_equal(v, key * 10);
}

/* The ring's count, the stats' and verify agree. */
static void expect_consistent(struct ds_mpmc_head *h, __s64 elements)
{
	struct ds_stats st;

	assert_int_equal(ds_mpmc_verify(h), DS_SUCCESS);
	ds_mpmc_get_stats(h, &st);
	assert_int_equal(st.current_elements, elements);
}

/* Elements key0.. in, then out in order, through several laps; returns
 * how many the ring held when it said FULL. */
static __u64 mpmc_laps_after(struct ds_mpmc_head *h, __u64 key0)
{
	__u64 n = 0, i, lap;
	int rc;

	for (lap = 0; lap < 3; lap++) {
		for (n = 0; (rc = ds_mpmc_insert(h, key0 + n, (key0 + n) * 10)) == DS_SUCCESS; n++)
			;
		assert_int_equal(rc, DS_ERROR_FULL);
		for (i = 0; i < n; i++)
			expect_pop(h, key0 + i);
		assert_int_equal(ds_mpmc_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
		key0 += n;
	}
	return n;
}

/*
 * A producer that dies after claiming a position, before publishing it:
 * once the claim is DS_MPMC_STUCK_NS old, consumers pass its slot by; the
 * elements after it come out in order, none lost or repeated, and the slot
 * stays out of use (capacity - 1).  First by hand (the tail CAS without
 * the rest), then with a thread that exits at the hook.
 */
static void test_mpmc_dead_producer(void **state)
{
	struct ds_mpmc_head *h = mpmc_new();
	__u64 i, pos;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(ds_mpmc_insert(h, i, i * 10), DS_SUCCESS);
	pos = h->tail;
	assert_int_equal(__sync_val_compare_and_swap(&h->tail, pos, pos + 1), pos);
	for (i = 4; i < 10; i++)
		assert_int_equal(ds_mpmc_insert(h, i, i * 10), DS_SUCCESS);
	for (i = 0; i < 3; i++)
		expect_pop(h, i);
	/* Not stuck long enough yet: empty at the claim. */
	assert_int_equal(ds_mpmc_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(h->abandoned, 0);
	past_timeout();
	for (i = 4; i < 10; i++)
		expect_pop(h, i);
	assert_int_equal(ds_mpmc_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(h->abandoned, 1);
	assert_int_equal(h->lost, 0);
	expect_consistent(h, 0);
	/* The slot is passed by on every lap. */
	assert_int_equal(mpmc_laps_after(h, 100), CAP - 1);
	expect_consistent(h, 0);

	/* A real thread, dying between its claim and its publication. */
	assert_int_equal(ds_mpmc_insert(h, 1000, 10000), DS_SUCCESS);
	mpmc_die_in(h, mpmc_one_enqueue, DS_MPMC_HOOK_CLAIMED, 1001);
	assert_int_equal(ds_mpmc_insert(h, 1002, 10020), DS_SUCCESS);
	expect_pop(h, 1000);
	assert_int_equal(ds_mpmc_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_mpmc_verify(h), DS_SUCCESS);	/* a claim is no fault */
	past_timeout();
	expect_pop(h, 1002);
	assert_int_equal(ds_mpmc_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(h->abandoned, 2);
	expect_consistent(h, 0);
	assert_int_equal(mpmc_laps_after(h, 2000), CAP - 2);
	expect_consistent(h, 0);
}

/*
 * A consumer that dies after claiming the oldest element, before freeing
 * its slot: a lap later, once the claim is DS_MPMC_STUCK_NS old, the
 * producer at the tail frees the slot and goes on.  The element went with
 * the consumer (h->lost, left out of current_elements); nothing else is
 * lost or repeated.  By hand, then with a thread.
 */
static void test_mpmc_dead_consumer(void **state)
{
	struct ds_mpmc_head *h = mpmc_new();
	__u64 i, pos;

	(void)state;
	for (i = 0; i < CAP; i++)
		assert_int_equal(ds_mpmc_insert(h, i, i * 10), DS_SUCCESS);
	/* By hand: the head CAS, nothing after it. */
	pos = h->head;
	assert_int_equal(__sync_val_compare_and_swap(&h->head, pos, pos + 1), pos);
	expect_pop(h, 1);
	expect_pop(h, 2);
	/* Its slot is the next at the tail: full until the timeout. */
	assert_int_equal(ds_mpmc_insert(h, CAP, CAP * 10), DS_ERROR_FULL);
	assert_int_equal(ds_mpmc_verify(h), DS_SUCCESS);	/* still counted in */
	past_timeout();
	assert_int_equal(ds_mpmc_insert(h, CAP, CAP * 10), DS_SUCCESS);
	assert_int_equal(h->abandoned, 1);
	assert_int_equal(h->lost, 1);
	expect_consistent(h, CAP - 2);
	for (i = 3; i <= CAP; i++)
		expect_pop(h, i);
	assert_int_equal(ds_mpmc_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	expect_consistent(h, 0);
	assert_int_equal(mpmc_laps_after(h, 10 * CAP), CAP);	/* nothing out of use */

	/* A real thread, dying between its claim and freeing the slot. */
	for (i = 0; i < CAP; i++)
		assert_int_equal(ds_mpmc_insert(h, 20 * CAP + i, (20 * CAP + i) * 10),
				 DS_SUCCESS);
	mpmc_die_in(h, mpmc_one_dequeue, DS_MPMC_HOOK_TAKEN, 0);
	assert_int_equal(ds_mpmc_insert(h, 21 * CAP, 21 * CAP * 10), DS_ERROR_FULL);
	past_timeout();
	assert_int_equal(ds_mpmc_insert(h, 21 * CAP, 21 * CAP * 10), DS_SUCCESS);
	assert_int_equal(h->abandoned, 2);
	assert_int_equal(h->lost, 2);
	expect_consistent(h, CAP);
	for (i = 1; i <= CAP; i++)
		expect_pop(h, 20 * CAP + i);
	expect_consistent(h, 0);
}

/*
 * A producer stalled past the timeout after its claim: consumers pass its
 * position by; when it comes back its publication fails, it gives the slot
 * back and enqueues the element again, which comes out exactly once, and
 * the ring has its full capacity again.
 */
static void test_mpmc_slow_producer(void **state)
{
	struct ds_mpmc_head *h = mpmc_new();
	struct mpmc_one o = { .act = HOOK_STALL, .at = DS_MPMC_HOOK_CLAIMED,
			      .key = 7, .value = 70 };
	pthread_t t;

	(void)state;
	o.h = h;
	hook_reset();
	assert_int_equal(pthread_create(&t, NULL, mpmc_one_enqueue, &o), 0);
	hook_wait_reached();
	assert_int_equal(ds_mpmc_insert(h, 8, 80), DS_SUCCESS);
	assert_int_equal(ds_mpmc_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	past_timeout();
	expect_pop(h, 8);		/* its position passed by */
	assert_int_equal(h->abandoned, 1);
	assert_int_equal(ds_mpmc_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	__atomic_store_n(&hook_go, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_int_equal(o.rc, DS_SUCCESS);
	expect_pop(h, 7);		/* stored again, once */
	assert_int_equal(ds_mpmc_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(h->abandoned, 1);
	expect_consistent(h, 0);
	assert_int_equal(mpmc_laps_after(h, 100), CAP);	/* slot given back */
	expect_consistent(h, 0);
}

/*
 * A consumer stalled past the timeout after its claim: the producer a lap
 * later frees its slot; when the consumer comes back it still returns its
 * element (read before the claim), so nothing is lost after all.
 */
static void test_mpmc_slow_consumer(void **state)
{
	struct ds_mpmc_head *h = mpmc_new();
	struct mpmc_one o = { .act = HOOK_STALL, .at = DS_MPMC_HOOK_TAKEN };
	pthread_t t;
	__u64 i;

	(void)state;
	o.h = h;
	for (i = 0; i < CAP; i++)
		assert_int_equal(ds_mpmc_insert(h, i, i * 10), DS_SUCCESS);
	hook_reset();
	assert_int_equal(pthread_create(&t, NULL, mpmc_one_dequeue, &o), 0);
	hook_wait_reached();
	expect_pop(h, 1);
	assert_int_equal(ds_mpmc_insert(h, CAP, CAP * 10), DS_ERROR_FULL);
	past_timeout();
	assert_int_equal(ds_mpmc_insert(h, CAP, CAP * 10), DS_SUCCESS);
	assert_int_equal(h->abandoned, 1);
	assert_int_equal(h->lost, 1);
	__atomic_store_n(&hook_go, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_int_equal(o.rc, DS_SUCCESS);
	assert_int_equal(o.key, 0);
	assert_int_equal(o.value, 0);
	assert_int_equal(h->lost, 0);
	expect_consistent(h, CAP - 1);
	for (i = 2; i <= CAP; i++)
		expect_pop(h, i);
	assert_int_equal(ds_mpmc_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	expect_consistent(h, 0);
}

/*
 * The 2 + 2 stress with now and then a producer or consumer stalled past
 * the timeout between its claim and its completion: slots are taken over
 * under load, and still every value comes out exactly once, in each
 * producer's order.
 */
static void test_mpmc_stress_stalls(void **state)
{
	(void)state;
	mpmc_stress_run(unit_scale(4000), 1);
}

/*
 * Mixed operations from 4 threads through the registry (everybody does
 * everything): no error codes, verify passes, and the element count the
 * threads computed is what the ring holds (the slots are inline: no
 * allocator objects to conserve).
 */
static void test_mpmc_stress_mixed(void **state)
{
	struct skel_mix mix = { .insert = 50, .delete = 20, .pop = 20 };
	struct ds_mpmc_head *h;
	struct ds_stats st;

	(void)state;
	h = unit_stress(DS_KIND_mpmc, 4, unit_scale(50000), 1000, mix);
	ds_mpmc_get_stats(h, &st);
	assert_true((__s64)(h->tail - h->head) == (__s64)st.current_elements);
}

/* ---- verify catches each kind of corruption */

/* Positions moved off zero first, so that a lap is involved. */
static void *mpmc_with(int n)
{
	return unit_filled(DS_KIND_mpmc, n, CAP - 3);
}

static void plant_tail_overrun(void *p)
{
	struct ds_mpmc_head *h = p;

	h->tail = h->head + CAP + 1;
}

static void plant_head_past_tail(void *p)
{
	struct ds_mpmc_head *h = p;

	h->head = h->tail + 1;
}

static void plant_count(void *p)
{
	struct ds_mpmc_head *h = p;
	__u64 pos = h->head;

	/* Consume the oldest behind the counters' back, consistently. */
	h->slots[pos & DS_MPMC_MASK].seq = pos + CAP;
	h->head = pos + 1;
}

static void plant_full_slot_seq(void *p)
{
	struct ds_mpmc_head *h = p;

	h->slots[(h->head + 2) & DS_MPMC_MASK].seq += CAP;	/* a full slot looks freed */
}

static void plant_empty_slot_seq(void *p)
{
	struct ds_mpmc_head *h = p;

	h->slots[(h->tail + 100) & DS_MPMC_MASK].seq += 1;	/* an empty slot looks full */
}

static void plant_skip_record(void *p)
{
	struct ds_mpmc_head *h = p;
	__u64 pos = h->head + 1;

	/* a full slot marked passed by for another position */
	h->slots[pos & DS_MPMC_MASK].seq = DS_MPMC_SKIP | (pos + 1);
}

static void plant_capacity(void *p)
{
	struct ds_mpmc_head *h = p;

	h->capacity = CAP * 2;
}

#define CORRUPTION(what, why) \
	{ "test_mpmc_verify_catches_" #what, DS_KIND_mpmc, mpmc_with, 5, plant_##what, why }

static const struct unit_corruption corruptions[] = {
	CORRUPTION(tail_overrun, DS_CORRUPT_INDEX),
	CORRUPTION(head_past_tail, DS_CORRUPT_INDEX),
	CORRUPTION(count, DS_CORRUPT_COUNT),
	CORRUPTION(full_slot_seq, DS_CORRUPT_SHAPE),
	CORRUPTION(empty_slot_seq, DS_CORRUPT_SHAPE),
	CORRUPTION(skip_record, DS_CORRUPT_SHAPE),
	CORRUPTION(capacity, DS_CORRUPT_SHAPE),
};

/* Too small an arena: creation fails cleanly, and nothing is held. */
static void test_mpmc_exhaustion(void **state)
{
	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(16), 0);
	assert_null(ds_create(DS_KIND_mpmc));
	assert_true(unit_alloc_current() == 0);
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(UNIT_ARENA_PAGES), 0);
	assert_non_null(ds_create(DS_KIND_mpmc));
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mpmc_metadata),
		T(test_mpmc_api),
		T(test_mpmc_full),
		T(test_mpmc_laps),
		T(test_mpmc_model),
		T(test_mpmc_stress),
		T(test_mpmc_stress_mixed),
		T(test_mpmc_dead_producer),
		T(test_mpmc_dead_consumer),
		T(test_mpmc_slow_producer),
		T(test_mpmc_slow_consumer),
		T(test_mpmc_stress_stalls),
		T(test_mpmc_exhaustion),
	};

	return UNIT_RUN_TESTS(tests, corruptions);
}
