// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_spsc.h (bounded single-producer single-consumer ring). */
#include <sched.h>
#include "unit.h"

#define CAP DS_SPSC_CAPACITY

static struct ds_spsc_head *spsc_new(void)
{
	struct ds_spsc_head *h = ds_create(DS_KIND_spsc);

	assert_non_null(h);
	return h;
}

static void test_spsc_metadata(void **state)
{
	const struct ds_metadata *md = ds_metadata_of(DS_KIND_spsc);

	(void)state;
	assert_string_equal(md->name, "spsc");
	assert_int_equal(md->caps, DS_CAP_POP | DS_CAP_FIFO | DS_CAP_BOUNDED | DS_CAP_SPSC |
			 DS_CAP_INLINE);
	assert_int_equal(md->fixed_objects, 0);
}

static void test_spsc_api(void **state)
{
	struct ds_spsc_head *h = spsc_new();
	__u64 k = 0, v = 0;

	(void)state;
	assert_int_equal(ds_spsc_pop(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_spsc_delete(h, 1), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_spsc_search(h, 1, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_spsc_range(h, 0, 9, &v), DS_ERROR_INVALID);
	assert_int_equal(ds_spsc_insert(h, 5, 50), DS_SUCCESS);
	assert_int_equal(ds_spsc_insert(h, 3, 30), DS_SUCCESS);
	assert_int_equal(ds_spsc_insert(h, 9, 90), DS_SUCCESS);
	assert_int_equal(ds_spsc_search(h, 777, &v), DS_SUCCESS);	/* peek, key ignored */
	assert_int_equal(v, 50);
	assert_int_equal(ds_spsc_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 5);
	assert_int_equal(v, 50);
	assert_int_equal(ds_spsc_delete(h, 12345), DS_SUCCESS);	/* oldest, key ignored */
	assert_int_equal(ds_spsc_search(h, 0, &v), DS_SUCCESS);
	assert_int_equal(v, 90);
	assert_int_equal(ds_spsc_verify(h), DS_SUCCESS);
	assert_int_equal(ds_spsc_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 9);
	assert_int_equal(ds_spsc_pop(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_spsc_verify(h), DS_SUCCESS);
	assert_int_equal(ds_quiesce(DS_KIND_spsc, h), 0);
	assert_true(unit_alloc_current() == 0);
}

static void test_spsc_full(void **state)
{
	struct ds_spsc_head *h = spsc_new();
	__u64 i, k = 0, v = 0;

	(void)state;
	for (i = 0; i < CAP; i++)
		assert_int_equal(ds_spsc_insert(h, i, i + 100), DS_SUCCESS);
	assert_int_equal(ds_spsc_insert(h, 1, 1), DS_ERROR_FULL);
	assert_int_equal(ds_spsc_insert(h, 2, 2), DS_ERROR_FULL);
	assert_int_equal(ds_spsc_verify(h), DS_SUCCESS);
	assert_int_equal(ds_spsc_search(h, 0, &v), DS_SUCCESS);
	assert_int_equal(v, 100);				/* not overwritten */
	assert_int_equal(ds_spsc_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 0);
	assert_int_equal(ds_spsc_insert(h, CAP, CAP + 100), DS_SUCCESS);	/* wraps */
	assert_int_equal(ds_spsc_insert(h, 3, 3), DS_ERROR_FULL);
	for (i = 1; i <= CAP; i++) {
		assert_int_equal(ds_spsc_pop(h, &k, &v), DS_SUCCESS);
		assert_int_equal(k, i);
		assert_int_equal(v, i + 100);
	}
	assert_int_equal(ds_spsc_pop(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_spsc_verify(h), DS_SUCCESS);
}

/* Random operations against a plain reference FIFO (one thread plays both
 * roles); filling and draining phases make FULL and empty frequent. */
static void test_spsc_model(void **state)
{
	(void)state;
	unit_model_check_seq(&(struct unit_seq){ .kind = DS_KIND_spsc,
						 .order = UNIT_FIFO | UNIT_SEARCH_PEEK,
						 .nops = unit_scale(100000), .seed = 99,
						 .capacity = CAP });
}

/* ---- exactly one producer thread + one consumer thread (+ a peeker) */

struct spsc_stress {
	struct ds_spsc_head *h;
	unsigned long n;
	pthread_barrier_t barrier;
	int producer_done, consumer_done;
	unsigned long errors, order, bad, peeks;
};

static void *spsc_producer(void *arg)
{
	struct spsc_stress *s = arg;
	unsigned long i;
	int rc;

	unsigned long fulls = 0;

	pthread_barrier_wait(&s->barrier);
	for (i = 0; i < s->n; i++) {
		while ((rc = ds_spsc_insert(s->h, i, ~(__u64)i)) != DS_SUCCESS) {
			/* FULL for this long: the consumer is gone. */
			if (rc != DS_ERROR_FULL || ++fulls > 100000000) {
				__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
				goto out;
			}
			sched_yield();
		}
	}
out:
	__atomic_store_n(&s->producer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *spsc_consumer(void *arg)
{
	struct spsc_stress *s = arg;
	__u64 next = 0, k = 0, v = 0;
	int rc, done;

	pthread_barrier_wait(&s->barrier);
	while (next < s->n) {
		done = __atomic_load_n(&s->producer_done, __ATOMIC_ACQUIRE);
		/* Mostly pop (checked); every 8th a delete (order kept). */
		if ((next & 7) == 7)
			rc = ds_spsc_delete(s->h, 0);
		else
			rc = ds_spsc_pop(s->h, &k, &v);
		if (rc == DS_ERROR_NOT_FOUND) {
			if (done) {
				/* everything published, ring empty: lost values */
				__atomic_fetch_add(&s->order, 1, __ATOMIC_RELAXED);
				break;
			}
			sched_yield();
			continue;
		}
		if (rc != DS_SUCCESS) {
			__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
			break;
		}
		if ((next & 7) != 7 && (k != next || v != ~next))
			__atomic_fetch_add(&s->order, 1, __ATOMIC_RELAXED);
		next++;
	}
	__atomic_store_n(&s->consumer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Peeks may run anywhere: what they see only moves forward. */
static void *spsc_peeker(void *arg)
{
	struct spsc_stress *s = arg;
	__u64 v, last = 0;
	int rc;

	pthread_barrier_wait(&s->barrier);
	while (!__atomic_load_n(&s->consumer_done, __ATOMIC_ACQUIRE)) {
		rc = ds_spsc_peek_spsc(s->h, &v);
		if (rc == DS_SUCCESS) {
			v = ~v;
			if (v >= s->n || v < last)
				__atomic_fetch_add(&s->bad, 1, __ATOMIC_RELAXED);
			last = v;
			s->peeks++;
		} else if (rc != DS_ERROR_NOT_FOUND) {
			__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
		}
		sched_yield();
	}
	return NULL;
}

static void test_spsc_stress(void **state)
{
	struct spsc_stress s = { .n = unit_scale(1000000) };
	pthread_t prod, cons, peek;
	struct ds_stats st;

	(void)state;
	s.h = spsc_new();
	pthread_barrier_init(&s.barrier, NULL, 3);
	assert_int_equal(pthread_create(&prod, NULL, spsc_producer, &s), 0);
	assert_int_equal(pthread_create(&cons, NULL, spsc_consumer, &s), 0);
	assert_int_equal(pthread_create(&peek, NULL, spsc_peeker, &s), 0);
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	pthread_join(peek, NULL);
	pthread_barrier_destroy(&s.barrier);
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.order, 0);
	assert_int_equal(s.bad, 0);
	assert_int_equal(ds_spsc_pop(s.h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_spsc_verify(s.h), DS_SUCCESS);
	ds_spsc_get_stats(s.h, &st);
	assert_int_equal(st.current_elements, 0);
	assert_int_equal(st.ops[DS_OP_INSERT].count - st.ops[DS_OP_INSERT].failures, s.n);
}

/* ---- verify catches each kind of corruption */

static void *spsc_with(int n)
{
	return unit_filled(DS_KIND_spsc, n, CAP - 3);
}

static void plant_tail_overrun(void *p)
{
	struct ds_spsc_head *h = p;

	h->tail = h->head + CAP + 1;
}

static void plant_head_past_tail(void *p)
{
	struct ds_spsc_head *h = p;

	h->head = h->tail + 2;
}

static void plant_bad_cache(void *p)
{
	struct ds_spsc_head *h = p;

	h->tail_cache = h->tail + 1;	/* consumer would read unpublished slots */
	unit_expect_corrupt(DS_KIND_spsc, h, DS_CORRUPT_INDEX);
	h->tail_cache = h->head;
	assert_int_equal(ds_spsc_verify(h), DS_SUCCESS);
	h->head_cache = h->head + 1;	/* producer would overwrite a live slot */
}

static void plant_count(void *p)
{
	struct ds_spsc_head *h = p;

	/* An element vanishes behind the counters, indices kept consistent. */
	h->head++;
	h->tail_cache = h->tail;
}

static void plant_capacity(void *p)
{
	struct ds_spsc_head *h = p;

	h->capacity = 3;
}

#define CORRUPTION(what, why) \
	{ "test_spsc_verify_catches_" #what, DS_KIND_spsc, spsc_with, 5, plant_##what, why }

static const struct unit_corruption corruptions[] = {
	CORRUPTION(tail_overrun, DS_CORRUPT_INDEX),
	CORRUPTION(head_past_tail, DS_CORRUPT_INDEX),
	CORRUPTION(bad_cache, DS_CORRUPT_INDEX),
	CORRUPTION(count, DS_CORRUPT_COUNT),
	CORRUPTION(capacity, DS_CORRUPT_SHAPE),
};

static void test_spsc_exhaustion(void **state)
{
	(void)state;
	arena_standalone_fini();
	/* Room for the allocator state and a few pages, not for the ring. */
	assert_int_equal(arena_standalone_init(ARENA_STATE_PAGES + 5), 0);
	assert_null(ds_create(DS_KIND_spsc));
	assert_true(unit_alloc_current() == 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_spsc_metadata),
		T(test_spsc_api),
		T(test_spsc_full),
		T(test_spsc_model),
		T(test_spsc_stress),
		T(test_spsc_exhaustion),
	};

	return UNIT_RUN_TESTS(tests, corruptions);
}
