// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_stack.h (Treiber LIFO) on a standalone arena. */
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
	(void)state;
	unit_model_check_seq(&(struct unit_seq){ .kind = K, .order = UNIT_LIFO,
						 .nops = unit_scale(100000), .seed = 2424 });
}

/* ---- multi-thread: every value popped exactly once */

/*
 * @nprod pushers (popping too with @pop_pct %) and @ncons pure poppers that
 * stop after @cons_share % of all elements; the main thread then drains the
 * rest alone and checks each producer's elements come out newest first.
 */
static void ss_run(int nprod, int ncons, unsigned long per_prod, unsigned pop_pct,
		   unsigned cons_share)
{
	unit_prodcons(&(struct unit_pc){ .kind = K, .order = UNIT_LIFO, .nprod = nprod,
					 .ncons = ncons, .per_prod = per_prod,
					 .pop_pct = pop_pct, .cons_share = cons_share,
					 .seed = 0xabc });
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

/* Node 0 is the top. */
static const struct unit_chain chain = {
	K, offsetof(struct ds_stack_head, top), offsetof(struct ds_stack_node, next)
};

static void plant_cycle(void *h)
{
	unit_chain_cycle(&chain, h, 4, 1);
}

static void plant_long_cycle(void *h)
{
	unit_chain_cycle(&chain, h, 299, 42);
}

static void plant_count(void *p)
{
	struct ds_stack_head *h = p;

	unit_chain_drop(&chain, h, 2);
	ds_count(&h->stats, DS_OP_INSERT, DS_SUCCESS);	/* a push that never happened */
}

static void plant_wild_pointer(void *p)
{
	struct ds_stack_head *h = p;

	unit_chain_wild(&chain, h, 3, 4);
	unit_expect_corrupt(K, h, DS_CORRUPT_POINTER);
	h->top = 0xbad0000;
}

#define CORRUPTION(what, n, why) \
	{ "test_stack_verify_catches_" #what, K, NULL, n, plant_##what, why }

static const struct unit_corruption corruptions[] = {
	CORRUPTION(cycle, 5, DS_CORRUPT_CYCLE),
	CORRUPTION(long_cycle, 300, DS_CORRUPT_CYCLE),
	CORRUPTION(count, 5, DS_CORRUPT_COUNT),
	CORRUPTION(wild_pointer, 5, DS_CORRUPT_POINTER),
};

/* Running dry: NOMEM, nothing lost (order kept), works after pops. */
static void test_stack_exhaustion(void **state)
{
	struct ds_stack_head *h;
	__u64 i, stored, k = 0, v = 0;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(64), 0);
	h = ds_create(K);
	assert_non_null(h);
	stored = unit_fill_until_nomem(K, h, 100000, 1000);
	assert_true(stored > 100);
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
		cmocka_unit_test_setup_teardown(test_stack_exhaustion, unit_setup, unit_teardown),
	};

	return UNIT_RUN_TESTS(tests, corruptions);
}
