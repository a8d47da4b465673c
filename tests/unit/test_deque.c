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

/*
 * Random operations against a plain reference deque: push and owner pop at
 * the bottom, steal and peek at the top.  Same return codes, keys, values
 * and final contents.
 */
static void test_deque_model(void **state)
{
	struct ds_deque_head *h = deque_new();
	unsigned long nops = unit_scale(100000), i, fulls = 0, empties = 0;
	__u64 *rk = calloc(CAP, sizeof(*rk)), *rv = calloc(CAP, sizeof(*rv));
	__u64 rtop = 0, rbot = 0, rng = 4242, x, k = 0, v = 0;
	int rc, p;

	(void)state;
	assert_non_null(rk);
	assert_non_null(rv);
	for (i = 0; i < nops; i++) {
		int fill = (i / 12000) % 2 == 0;

		x = wl_next(&rng);
		p = x % 100;
		if (p < (fill ? 70 : 20)) {
			rc = ds_deque_insert(h, x >> 40, x);
			if (rbot - rtop == CAP) {
				assert_int_equal(rc, DS_ERROR_FULL);
				fulls++;
			} else {
				assert_int_equal(rc, DS_SUCCESS);
				rk[rbot % CAP] = x >> 40;
				rv[rbot % CAP] = x;
				rbot++;
			}
		} else if (p < (fill ? 80 : 45)) {
			/* delete = steal the oldest */
			rc = ds_deque_delete(h, x);
			assert_int_equal(rc, rbot == rtop ? DS_ERROR_NOT_FOUND : DS_SUCCESS);
			if (rbot != rtop)
				rtop++;
		} else if (p < (fill ? 90 : 85)) {
			/* pop = the owner takes the newest */
			rc = ds_deque_pop(h, &k, &v);
			if (rbot == rtop) {
				assert_int_equal(rc, DS_ERROR_NOT_FOUND);
				empties++;
			} else {
				assert_int_equal(rc, DS_SUCCESS);
				rbot--;
				assert_true(k == rk[rbot % CAP] && v == rv[rbot % CAP]);
			}
		} else {
			rc = ds_deque_search(h, x, &v);
			assert_int_equal(rc, rbot == rtop ? DS_ERROR_NOT_FOUND : DS_SUCCESS);
			if (rbot != rtop)
				assert_true(v == rv[rtop % CAP]);
		}
	}
	assert_true(fulls > 0);
	assert_true(empties > 0);
	assert_int_equal(ds_deque_verify(h), DS_SUCCESS);
	/* Final contents: oldest to newest through steals. */
	while (rtop != rbot) {
		assert_int_equal(ds_deque_steal_any(h, &k, &v), DS_SUCCESS);
		assert_true(k == rk[rtop % CAP] && v == rv[rtop % CAP]);
		rtop++;
	}
	assert_int_equal(ds_deque_steal_any(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_deque_pop(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_deque_verify(h), DS_SUCCESS);
	assert_true(unit_alloc_current() == 0);
	free(rk);
	free(rv);
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

static struct ds_deque_head *deque_with(int n)
{
	struct ds_deque_head *h = deque_new();
	int i;

	for (i = 0; i < CAP - 3; i++) {
		assert_int_equal(ds_deque_insert(h, i, i), DS_SUCCESS);
		assert_int_equal(ds_deque_delete(h, 0), DS_SUCCESS);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(ds_deque_insert(h, i, i), DS_SUCCESS);
	assert_int_equal(ds_deque_verify(h), DS_SUCCESS);
	return h;
}

static void test_deque_verify_catches_overrun(void **state)
{
	struct ds_deque_head *h = deque_with(5);

	(void)state;
	h->bottom = h->top + CAP + 1;
	assert_int_equal(ds_deque_verify(h), DS_ERROR_CORRUPT);
	assert_int_equal(h->verify_reason, DS_CORRUPT_INDEX);
}

static void test_deque_verify_catches_top_past_bottom(void **state)
{
	struct ds_deque_head *h = deque_with(5);

	(void)state;
	h->top = h->bottom + 1;
	assert_int_equal(ds_deque_verify(h), DS_ERROR_CORRUPT);
	assert_int_equal(h->verify_reason, DS_CORRUPT_INDEX);
}

static void test_deque_verify_catches_count(void **state)
{
	struct ds_deque_head *h = deque_with(5);

	(void)state;
	h->bottom--;			/* the newest vanishes behind the counters */
	assert_int_equal(ds_deque_verify(h), DS_ERROR_CORRUPT);
	assert_int_equal(h->verify_reason, DS_CORRUPT_COUNT);
}

static void test_deque_verify_catches_capacity(void **state)
{
	struct ds_deque_head *h = deque_with(5);

	(void)state;
	h->capacity = 0;
	assert_int_equal(ds_deque_verify(h), DS_ERROR_CORRUPT);
	assert_int_equal(h->verify_reason, DS_CORRUPT_SHAPE);
}

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
		T(test_deque_verify_catches_overrun),
		T(test_deque_verify_catches_top_past_bottom),
		T(test_deque_verify_catches_count),
		T(test_deque_verify_catches_capacity),
		T(test_deque_exhaustion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
