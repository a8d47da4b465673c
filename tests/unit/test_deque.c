// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_deque.h (bounded Chase-Lev work-stealing deque). */
#include <sched.h>
#include "unit.h"

#define CAP DS_DEQUE_CAPACITY

static struct ds_deque_head *deque_new(void)
{
	struct ds_deque_head *h = ds_create(DS_KIND_deque);

	assert_non_null(h);
	return h;
}

static void test_deque_metadata(void **state)
{
	const struct ds_metadata *md = ds_metadata_of(DS_KIND_deque);

	(void)state;
	assert_string_equal(md->name, "deque");
	assert_int_equal(md->caps, DS_CAP_POP | DS_CAP_OWNER | DS_CAP_BOUNDED |
			 DS_CAP_INLINE);
	assert_int_equal(md->fixed_objects, 0);
}

static void test_deque_api(void **state)
{
	struct ds_deque_head *h = deque_new();
	__u64 k = 0, v = 0;

	(void)state;
	assert_int_equal(ds_deque_pop(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_deque_delete(h, 0), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_deque_search(h, 0, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_deque_range(h, 0, 9, &v), DS_ERROR_INVALID);
	/* an empty pop must leave the indices as they were */
	assert_int_equal(ds_deque_verify(h), DS_SUCCESS);
	assert_int_equal(ds_deque_insert(h, 1, 10), DS_SUCCESS);
	assert_int_equal(ds_deque_insert(h, 2, 20), DS_SUCCESS);
	assert_int_equal(ds_deque_insert(h, 3, 30), DS_SUCCESS);
	assert_int_equal(ds_deque_insert(h, 4, 40), DS_SUCCESS);
	/* search peeks at the oldest (the steal end) */
	assert_int_equal(ds_deque_search(h, 99, &v), DS_SUCCESS);
	assert_int_equal(v, 10);
	/* pop: the owner takes the newest */
	assert_int_equal(ds_deque_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 4);
	assert_int_equal(v, 40);
	/* delete: a steal takes the oldest */
	assert_int_equal(ds_deque_delete(h, 99), DS_SUCCESS);
	assert_int_equal(ds_deque_steal_any(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 2);
	assert_int_equal(v, 20);
	assert_int_equal(ds_deque_verify(h), DS_SUCCESS);
	/* the last element through the owner's CAS path */
	assert_int_equal(ds_deque_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 3);
	assert_int_equal(ds_deque_pop(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_deque_delete(h, 0), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_deque_verify(h), DS_SUCCESS);
	assert_true(h->bottom == h->top);
	assert_int_equal(ds_quiesce(DS_KIND_deque, h), 0);
	assert_true(unit_alloc_current() == 0);
}

static void test_deque_full(void **state)
{
	struct ds_deque_head *h = deque_new();
	__u64 i, k = 0, v = 0;

	(void)state;
	for (i = 0; i < CAP; i++)
		assert_int_equal(ds_deque_insert(h, i, i * 7), DS_SUCCESS);
	assert_int_equal(ds_deque_insert(h, 1, 1), DS_ERROR_FULL);
	assert_int_equal(ds_deque_insert(h, 2, 2), DS_ERROR_FULL);
	assert_int_equal(ds_deque_verify(h), DS_SUCCESS);
	/* nothing overwritten at either end */
	assert_int_equal(ds_deque_search(h, 0, &v), DS_SUCCESS);
	assert_int_equal(v, 0);
	assert_int_equal(ds_deque_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, CAP - 1);
	assert_int_equal(ds_deque_insert(h, CAP - 1, (CAP - 1) * 7), DS_SUCCESS);
	/* a steal frees the slot of the oldest: the next push wraps into it */
	assert_int_equal(ds_deque_steal_any(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 0);
	assert_int_equal(ds_deque_insert(h, CAP, CAP * 7), DS_SUCCESS);
	assert_int_equal(ds_deque_insert(h, 3, 3), DS_ERROR_FULL);
	for (i = 1; i <= CAP; i++) {
		assert_int_equal(ds_deque_steal_any(h, &k, &v), DS_SUCCESS);
		assert_int_equal(k, i);
		assert_int_equal(v, i * 7);
	}
	assert_int_equal(ds_deque_steal_any(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_deque_verify(h), DS_SUCCESS);
}

/* Steal with the element's key and value, for the model's final drain. */
static int deque_steal(void *h, __u64 *k, __u64 *v)
{
	return ds_deque_steal_any(h, k, v);
}

/*
 * Random operations against a plain reference deque: push and owner pop at
 * the bottom, steal (delete) and peek (search) at the top.  Same return
 * codes, keys, values and final contents (oldest to newest through steals).
 */
static void test_deque_model(void **state)
{
	(void)state;
	unit_model_check_seq(&(struct unit_seq){ .kind = DS_KIND_deque,
						 .order = UNIT_POP_NEWEST | UNIT_SEARCH_PEEK,
						 .nops = unit_scale(100000), .seed = 4242,
						 .capacity = CAP, .take_oldest = deque_steal });
}

/* ---- 1 owner (push/pop) + 2 thieves: pops + steals = pushes, none twice */

#define NTHIEF 2

struct deque_stress {
	struct ds_deque_head *h;
	unsigned long n;		/* values the owner pushes */
	pthread_barrier_t barrier;
	unsigned char *seen;		/* times each value was taken */
	int owner_done;
	int thieves_ready;
	int alternate;			/* owner: push, pop, push, pop ... */
	unsigned long popped, stolen[NTHIEF];
	unsigned long errors, dups, bad, order;
};

struct deque_thief {
	pthread_t tid;
	struct deque_stress *s;
	int id;
};

static void deque_take(struct deque_stress *s, __u64 k, __u64 v)
{
	if (k >= s->n || v != k * 2 + 1) {
		__atomic_fetch_add(&s->bad, 1, __ATOMIC_RELAXED);
		return;
	}
	if (__atomic_fetch_add(&s->seen[k], 1, __ATOMIC_RELAXED))
		__atomic_fetch_add(&s->dups, 1, __ATOMIC_RELAXED);
}

static void *deque_owner(void *arg)
{
	struct deque_stress *s = arg;
	__u64 rng = 31337, next = 0, k = 0, v = 0;
	unsigned long it = 0;
	int rc;

	pthread_barrier_wait(&s->barrier);
	/* Start only once both thieves are stealing. */
	while (__atomic_load_n(&s->thieves_ready, __ATOMIC_ACQUIRE) < NTHIEF)
		sched_yield();
	while (next < s->n) {
		if ((++it & 4095) == 0)
			sched_yield();	/* let a thief on this CPU run too */
		/* As many pushes as pops (random, or alternating): the deque
		 * stays short, so owner and thieves race for the last one. */
		if (s->alternate ? (it & 1) : wl_next(&rng) % 100 < 50) {
			rc = ds_deque_push_owner(s->h, next, next * 2 + 1);
			if (rc == DS_SUCCESS) {
				next++;
				continue;
			}
			if (rc != DS_ERROR_FULL) {
				__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
				break;
			}
			/* full: take one instead */
		}
		rc = ds_deque_pop_owner(s->h, &k, &v);
		if (rc == DS_SUCCESS) {
			deque_take(s, k, v);
			s->popped++;
		} else if (rc != DS_ERROR_NOT_FOUND) {
			__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
		}
	}
	/* Drain what the thieves leave. */
	while ((rc = ds_deque_pop_owner(s->h, &k, &v)) == DS_SUCCESS) {
		deque_take(s, k, v);
		s->popped++;
	}
	if (rc != DS_ERROR_NOT_FOUND)
		__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->owner_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *deque_thief(void *arg)
{
	struct deque_thief *t = arg;
	struct deque_stress *s = t->s;
	__u64 k = 0, v = 0, pv = 0;
	__s64 last = -1;
	unsigned long it = 0;
	int rc, done;

	pthread_barrier_wait(&s->barrier);
	__atomic_fetch_add(&s->thieves_ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		done = __atomic_load_n(&s->owner_done, __ATOMIC_ACQUIRE);
		if ((++it & 7) == 0) {
			rc = ds_deque_peek_any(s->h, &pv);
			if (rc == DS_SUCCESS && (pv & 1) == 0)
				__atomic_fetch_add(&s->bad, 1, __ATOMIC_RELAXED);
			else if (rc != DS_SUCCESS && rc != DS_ERROR_NOT_FOUND)
				__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
		}
		rc = ds_deque_steal_any(s->h, &k, &v);
		if (rc == DS_SUCCESS) {
			deque_take(s, k, v);
			/* The top only moves up and positions are filled in
			 * push order: one thief's steals increase. */
			if ((__s64)k <= last)
				__atomic_fetch_add(&s->order, 1, __ATOMIC_RELAXED);
			last = k;
			s->stolen[t->id]++;
			continue;
		}
		if (rc != DS_ERROR_NOT_FOUND) {
			__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
			break;
		}
		if (done)
			break;		/* the owner drained and stopped: empty for good */
		sched_yield();
	}
	return NULL;
}

static void deque_stress_run(unsigned long n, int alternate)
{
	struct deque_stress s = { .n = n, .alternate = alternate };
	struct deque_thief t[NTHIEF];
	pthread_t owner;
	struct ds_stats st;
	unsigned long i, total;
	int j;

	s.h = deque_new();
	s.seen = calloc(s.n, 1);
	assert_non_null(s.seen);
	pthread_barrier_init(&s.barrier, NULL, NTHIEF + 1);
	assert_int_equal(pthread_create(&owner, NULL, deque_owner, &s), 0);
	for (j = 0; j < NTHIEF; j++) {
		t[j].s = &s;
		t[j].id = j;
		assert_int_equal(pthread_create(&t[j].tid, NULL, deque_thief, &t[j]), 0);
	}
	pthread_join(owner, NULL);
	for (j = 0; j < NTHIEF; j++)
		pthread_join(t[j].tid, NULL);
	pthread_barrier_destroy(&s.barrier);
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.bad, 0);
	assert_int_equal(s.dups, 0);
	assert_int_equal(s.order, 0);
	total = s.popped;
	for (j = 0; j < NTHIEF; j++)
		total += s.stolen[j];
	assert_int_equal(total, s.n);		/* pops + steals = pushes */
	for (i = 0; i < s.n; i++)
		if (s.seen[i] != 1)
			fail_msg("value %lu taken %u times", i, s.seen[i]);
	free(s.seen);
	assert_int_equal(ds_deque_verify(s.h), DS_SUCCESS);
	ds_deque_get_stats(s.h, &st);
	assert_int_equal(st.current_elements, 0);
	print_message("# deque stress: %lu pushed, %lu popped by the owner, %lu + %lu stolen\n",
		      s.n, s.popped, s.stolen[0], s.stolen[1]);
}

static void test_deque_stress(void **state)
{
	(void)state;
	deque_stress_run(unit_scale(400000), 0);
}

/* Push one, take one: nearly every pop races the thieves for the last
 * element (the owner's CAS path). */
static void test_deque_stress_last(void **state)
{
	(void)state;
	deque_stress_run(unit_scale(400000), 1);
}

/* ---- verify catches each kind of corruption */

static void *deque_with(int n)
{
	return unit_filled(DS_KIND_deque, n, CAP - 3);
}

static void plant_overrun(void *p)
{
	struct ds_deque_head *h = p;

	h->bottom = h->top + CAP + 1;
}

static void plant_top_past_bottom(void *p)
{
	struct ds_deque_head *h = p;

	h->top = h->bottom + 1;
}

static void plant_count(void *p)
{
	struct ds_deque_head *h = p;

	h->bottom--;			/* the newest vanishes behind the counters */
}

static void plant_capacity(void *p)
{
	struct ds_deque_head *h = p;

	h->capacity = 0;
}

#define CORRUPTION(what, why) \
	{ "test_deque_verify_catches_" #what, DS_KIND_deque, deque_with, 5, plant_##what, why }

static const struct unit_corruption corruptions[] = {
	CORRUPTION(overrun, DS_CORRUPT_INDEX),
	CORRUPTION(top_past_bottom, DS_CORRUPT_INDEX),
	CORRUPTION(count, DS_CORRUPT_COUNT),
	CORRUPTION(capacity, DS_CORRUPT_SHAPE),
};

static void test_deque_exhaustion(void **state)
{
	(void)state;
	arena_standalone_fini();
	/* Room for the allocator state and a few pages, not for the ring. */
	assert_int_equal(arena_standalone_init(ARENA_STATE_PAGES + 5), 0);
	assert_null(ds_create(DS_KIND_deque));
	assert_true(unit_alloc_current() == 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_deque_metadata),
		T(test_deque_api),
		T(test_deque_full),
		T(test_deque_model),
		T(test_deque_stress),
		T(test_deque_stress_last),
		T(test_deque_exhaustion),
	};

	return UNIT_RUN_TESTS(tests, corruptions);
}
