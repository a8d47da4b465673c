// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_mpmc.h (bounded MPMC ring) on a standalone arena. */
#include <sched.h>
#include "unit.h"

#define CAP DS_MPMC_CAPACITY

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

	pthread_barrier_wait(&s->barrier);
	for (i = 0; i < s->n; i++) {
		while ((rc = ds_mpmc_insert(s->h, w->id, (__u64)w->id << 32 | i)) != DS_SUCCESS) {
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

static void test_mpmc_stress(void **state)
{
	struct mpmc_stress s = { .n = unit_scale(400000) };
	struct mpmc_worker w[NPROD + NCONS];
	struct ds_stats st;
	unsigned long i;
	int t, p;

	(void)state;
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
		T(test_mpmc_exhaustion),
	};

	return UNIT_RUN_TESTS(tests, corruptions);
}
