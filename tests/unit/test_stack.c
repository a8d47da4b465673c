// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_stack.h (Treiber LIFO) on a standalone arena. */
#include <sched.h>
#include "unit.h"

#if defined(__SANITIZE_THREAD__)
/*
 * Node churn here is high, so the allocator's benign stale read
 * (arena_stack_pop, see tests/tsan.supp) often has its stack evicted from
 * TSAN's default history before a later write to the same word is checked;
 * the suppression can only match a restored stack.  Keep more history.
 */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "history_size=7";
}
#endif

#define K DS_KIND_stack

static void test_stack_api(void **state)
{
	struct ds_stack_head *h = ds_create(K);
	const struct ds_metadata *md = ds_metadata_of(K);
	struct ds_req r;

	(void)state;
	assert_non_null(h);
	assert_non_null(md);
	assert_true(md->caps == (DS_CAP_POP | DS_CAP_LIFO));
	assert_int_equal(md->fixed_objects, 0);
	assert_true(unit_alloc_current() == 0);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 7, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 7, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 50, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 3, 30, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 51, NULL), DS_SUCCESS); /* keys repeat */
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 9, 90, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	/* search finds the newest element with the key */
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 5, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 51);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 3, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 30);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 4, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_RANGE, 0, 100, NULL), DS_ERROR_INVALID);
	/* pop returns the newest */
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_key, 9);
	assert_int_equal(r.out_value, 90);
	/* delete ignores its key: the newest (5, 51) goes */
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 3, 0, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 5, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 50);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == 2);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 30);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 50);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	/* the aliases are the same operations, uncounted */
	assert_int_equal(ds_stack_push_mpmc(h, 1, 2), DS_SUCCESS);
	assert_int_equal(ds_stack_pop_mpmc(h, &r.out_key, &r.out_value), DS_SUCCESS);
	assert_int_equal(r.out_key, 1);
	assert_int_equal(r.out_value, 2);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == 0);
	assert_int_equal(ds_stack_insert(NULL, 1, 1), DS_ERROR_INVALID);
	assert_int_equal(ds_stack_verify(NULL), DS_ERROR_INVALID);
}

/*
 * Random operations against a plain array stack: every return code, every
 * value and the final contents (in order) must agree.
 */
static void test_stack_model(void **state)
{
	unsigned long nops = unit_scale(100000), i, top = 0;
	struct ds_stack_head *h = ds_create(K);
	__u64 *rk = calloc(nops, sizeof(*rk)), *rv = calloc(nops, sizeof(*rv));
	__u64 rng = 2424, x, k, v;
	struct ds_req r;
	long j;
	int p, rc;

	(void)state;
	assert_non_null(h);
	assert_non_null(rk);
	assert_non_null(rv);
	for (i = 0; i < nops; i++) {
		x = wl_next(&rng);
		p = x % 100;
		k = (x >> 32) % 64;
		if (p < 42) {
			v = (x & ~0xfffffULL) | (i & 0xfffff);
			assert_int_equal(unit_op(K, h, DS_OP_INSERT, k, v, NULL), DS_SUCCESS);
			rk[top] = k;
			rv[top++] = v;
		} else if (p < 63) {
			rc = unit_op(K, h, DS_OP_DELETE, k, 0, NULL);
			assert_int_equal(rc, top ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (top)
				top--;
		} else if (p < 84) {
			rc = unit_op(K, h, DS_OP_POP, 0, 0, &r);
			assert_int_equal(rc, top ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (top) {
				top--;
				assert_true(r.out_key == rk[top]);
				assert_true(r.out_value == rv[top]);
			}
		} else {
			for (j = (long)top - 1; j >= 0 && rk[j] != k; j--)
				;
			rc = unit_op(K, h, DS_OP_SEARCH, k, 0, &r);
			assert_int_equal(rc, j >= 0 ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (j >= 0)
				assert_true(r.out_value == rv[j]);
		}
		if ((i & 0x3fff) == 0)
			assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	}
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_true(unit_alloc_current() == (__s64)top);
	/* Final contents, newest first. */
	while (top--) {
		assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
		assert_true(r.out_key == rk[top]);
		assert_true(r.out_value == rv[top]);
	}
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_true(unit_alloc_current() == 0);
	free(rk);
	free(rv);
}

/* ---- multi-thread: every value popped exactly once */

#define SS_MAX_PROD 8

struct ss_shared {
	struct ds_stack_head *h;
	int nprod;
	unsigned long per_prod;
	unsigned char *seen[SS_MAX_PROD];	/* times each (producer, seq) came out */
	unsigned long consumed;			/* atomic */
	unsigned long total;			/* to consume before consumers stop */
	pthread_barrier_t barrier;
};

struct ss_thread {
	pthread_t tid;
	struct ss_shared *s;
	int id;
	int produce;		/* producer id + 1, or 0 */
	int consume;
	unsigned pop_pct;	/* producers: chance in % to pop after a push */
	long last[SS_MAX_PROD];	/* drain check: last sequence per producer */
	unsigned long bad_value, bad_lifo, errors, popped;
};

static int ss_take(struct ss_thread *t, int check_lifo)
{
	struct ss_shared *s = t->s;
	__u64 k, v, prod, seq;
	int rc;

	rc = ds_stack_pop(s->h, &k, &v);
	if (rc == DS_ERROR_NOT_FOUND)
		return 0;
	if (rc != DS_SUCCESS) {
		t->errors++;
		return 0;
	}
	prod = v >> 32;
	seq = v & 0xffffffffULL;
	if (prod >= (__u64)s->nprod || seq >= s->per_prod || k != prod) {
		t->bad_value++;
		return 1;
	}
	/* With no pusher running, each producer's elements come out newest
	 * first. */
	if (check_lifo && t->last[prod] >= 0 && (long)seq >= t->last[prod])
		t->bad_lifo++;
	t->last[prod] = (long)seq;
	__atomic_fetch_add(&s->seen[prod][seq], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->consumed, 1, __ATOMIC_RELAXED);
	t->popped++;
	return 1;
}

static void *ss_worker(void *arg)
{
	struct ss_thread *t = arg;
	struct ss_shared *s = t->s;
	__u64 rng = 0xabc + t->id, p;
	unsigned long i;
	int rc;

	pthread_barrier_wait(&s->barrier);
	if (t->produce) {
		p = t->produce - 1;
		for (i = 0; i < s->per_prod; i++) {
			rc = ds_stack_insert(s->h, p, p << 32 | i);
			if (rc != DS_SUCCESS) {
				t->errors++;
				continue;
			}
			if (t->consume && wl_next(&rng) % 100 < t->pop_pct)
				ss_take(t, 0);
		}
		return NULL;
	}
	while (__atomic_load_n(&s->consumed, __ATOMIC_RELAXED) < s->total) {
		if (!ss_take(t, 0))
			sched_yield();
	}
	return NULL;
}

/*
 * @nprod pushers (popping too with @pop_pct %) and @ncons pure poppers that
 * stop after @cons_share % of all elements; the main thread then drains the
 * rest alone and checks each producer's elements come out newest first.
 */
static void ss_run(int nprod, int ncons, unsigned long per_prod, unsigned pop_pct,
		   unsigned cons_share)
{
	struct ss_shared s = { 0 };
	struct ss_thread *t, drain = { 0 };
	int n = nprod + ncons, i, p;
	struct ds_stats st;
	unsigned long j;

	assert_true(nprod <= SS_MAX_PROD);
	s.h = ds_create(K);
	assert_non_null(s.h);
	s.nprod = nprod;
	s.per_prod = per_prod;
	s.total = nprod * per_prod * cons_share / 100;
	for (p = 0; p < nprod; p++) {
		s.seen[p] = calloc(per_prod, 1);
		assert_non_null(s.seen[p]);
	}
	t = calloc(n, sizeof(*t));
	assert_non_null(t);
	pthread_barrier_init(&s.barrier, NULL, n);
	for (i = 0; i < n; i++) {
		t[i].s = &s;
		t[i].id = i;
		t[i].produce = i < nprod ? i + 1 : 0;
		t[i].consume = i >= nprod || pop_pct > 0;
		t[i].pop_pct = pop_pct;
		assert_int_equal(pthread_create(&t[i].tid, NULL, ss_worker, &t[i]), 0);
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i].tid, NULL);
	pthread_barrier_destroy(&s.barrier);
	assert_int_equal(ds_quiesce(K, s.h), 0);
	assert_int_equal(ds_stack_verify(s.h), DS_SUCCESS);
	assert_true(unit_alloc_current() ==
		    (__s64)(nprod * per_prod - __atomic_load_n(&s.consumed, __ATOMIC_RELAXED)));
	drain.s = &s;
	for (p = 0; p < SS_MAX_PROD; p++)
		drain.last[p] = -1;
	while (ss_take(&drain, 1))
		;
	for (i = 0; i < n; i++) {
		assert_int_equal(t[i].errors, 0);
		assert_int_equal(t[i].bad_value, 0);
	}
	assert_int_equal(drain.errors, 0);
	assert_int_equal(drain.bad_value, 0);
	assert_int_equal(drain.bad_lifo, 0);
	assert_true(s.consumed == nprod * per_prod);
	for (p = 0; p < nprod; p++)
		for (j = 0; j < per_prod; j++)
			if (s.seen[p][j] != 1)
				fail_msg("producer %d seq %lu popped %d times", p, j, s.seen[p][j]);
	assert_int_equal(ds_quiesce(K, s.h), 0);
	assert_int_equal(ds_stack_verify(s.h), DS_SUCCESS);
	ds_stack_get_stats(s.h, &st);
	assert_true(st.current_elements == 0);
	assert_true(unit_alloc_current() == 0);
	for (p = 0; p < nprod; p++)
		free(s.seen[p]);
	free(t);
}

static void test_stack_stress_prod_cons(void **state)
{
	(void)state;
	ss_run(2, 2, unit_scale(100000), 0, 90);
}

static void test_stack_stress_mixed(void **state)
{
	(void)state;
	ss_run(4, 0, unit_scale(50000), 50, 0);
}

/* Pushers only, then a lone drain: LIFO per producer. */
static void test_stack_stress_push_then_drain(void **state)
{
	(void)state;
	ss_run(4, 0, unit_scale(50000), 0, 0);
}

static void test_stack_stress_generic(void **state)
{
	struct skel_mix mix = { .insert = 48, .delete = 24, .pop = 24, .range = 0 };

	(void)state;
	unit_stress(K, 4, unit_scale(50000), 256, mix);
}

/* ---- verify catches corruption */

static struct ds_stack_head *stack_with(int n)
{
	struct ds_stack_head *h = ds_create(K);
	int i;

	assert_non_null(h);
	for (i = 0; i < n; i++)
		assert_int_equal(ds_stack_insert(h, i, i * 10), DS_SUCCESS);
	assert_int_equal(ds_stack_verify(h), DS_SUCCESS);
	return h;
}

/* Node @i from the top (0 is the top). */
static struct ds_stack_node *nth(struct ds_stack_head *h, int i)
{
	struct ds_stack_node *n = DS_STACK_PTR(h->top);

	while (i--)
		n = DS_STACK_PTR(n->next);
	return n;
}

static void expect_corrupt(struct ds_stack_head *h, int why)
{
	assert_int_equal(ds_stack_verify(h), DS_ERROR_CORRUPT);
	assert_int_equal(h->verify_reason, why);
	assert_int_equal(ds_verify_reason(K, h), why);
}

static void test_stack_verify_catches_cycle(void **state)
{
	struct ds_stack_head *h = stack_with(5);

	(void)state;
	nth(h, 4)->next = (__u64)nth(h, 1);
	expect_corrupt(h, DS_CORRUPT_CYCLE);
	nth(h, 4)->next = (__u64)nth(h, 0);		/* back to the top */
	expect_corrupt(h, DS_CORRUPT_CYCLE);
	nth(h, 4)->next = (__u64)nth(h, 4);		/* self loop */
	expect_corrupt(h, DS_CORRUPT_CYCLE);
}

static void test_stack_verify_catches_long_cycle(void **state)
{
	struct ds_stack_head *h = stack_with(300);

	(void)state;
	nth(h, 299)->next = (__u64)nth(h, 42);
	expect_corrupt(h, DS_CORRUPT_CYCLE);
}

static void test_stack_verify_catches_count(void **state)
{
	struct ds_stack_head *h = stack_with(5);
	struct ds_stack_node *lost;

	(void)state;
	lost = nth(h, 2);
	nth(h, 1)->next = lost->next;	/* drop a node behind the counters' back */
	expect_corrupt(h, DS_CORRUPT_COUNT);
	nth(h, 1)->next = (__u64)lost;	/* repaired */
	assert_int_equal(ds_stack_verify(h), DS_SUCCESS);
	ds_count(&h->stats, DS_OP_INSERT, DS_SUCCESS);	/* a push that never happened */
	expect_corrupt(h, DS_CORRUPT_COUNT);
}

static void test_stack_verify_catches_wild_pointer(void **state)
{
	struct ds_stack_head *h = stack_with(5);

	(void)state;
	nth(h, 3)->next = 0xdead0000;
	expect_corrupt(h, DS_CORRUPT_POINTER);
	nth(h, 3)->next = (__u64)nth(h, 4) + 4;		/* misaligned */
	expect_corrupt(h, DS_CORRUPT_POINTER);
	h->top = 0xbad0000;
	expect_corrupt(h, DS_CORRUPT_POINTER);
}

/* Running dry: NOMEM, nothing lost (order kept), works after pops. */
static void test_stack_exhaustion(void **state)
{
	struct ds_stack_head *h;
	__u64 i, stored = 0, k = 0, v = 0;
	int rc;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(64), 0);
	h = ds_create(K);
	assert_non_null(h);
	for (i = 0; i < 100000; i++) {
		rc = ds_stack_insert(h, i, i + 1000);
		if (rc == DS_ERROR_NOMEM)
			break;
		assert_int_equal(rc, DS_SUCCESS);
		stored++;
	}
	assert_int_equal(rc, DS_ERROR_NOMEM);
	assert_true(stored > 100);
	assert_int_equal(ds_stack_verify(h), DS_SUCCESS);
	assert_int_equal(ds_stack_search(h, 0, &v), DS_SUCCESS);
	assert_true(v == 1000);
	for (i = 0; i < 10; i++) {
		assert_int_equal(ds_stack_pop(h, &k, &v), DS_SUCCESS);
		assert_true(k == stored - 1 - i && v == k + 1000);
	}
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(ds_stack_insert(h, 777777, 1), DS_SUCCESS);
	assert_int_equal(ds_stack_verify(h), DS_SUCCESS);
	assert_int_equal(ds_stack_pop(h, &k, &v), DS_SUCCESS);
	assert_true(k == 777777 && v == 1);
	for (i = stored - 10; i-- > 0;) {
		assert_int_equal(ds_stack_pop(h, &k, &v), DS_SUCCESS);
		assert_true(k == i && v == i + 1000);
	}
	assert_int_equal(ds_stack_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(ds_stack_verify(h), DS_SUCCESS);
	assert_true(unit_alloc_current() == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stack_api, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_stack_model, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_stack_stress_prod_cons, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_stack_stress_mixed, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_stack_stress_push_then_drain, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_stack_stress_generic, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_stack_verify_catches_cycle, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_stack_verify_catches_long_cycle, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_stack_verify_catches_count, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_stack_verify_catches_wild_pointer, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_stack_exhaustion, unit_setup, unit_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
