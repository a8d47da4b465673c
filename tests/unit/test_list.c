// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_list.h on a standalone arena. */
#include "unit.h"

static void test_list_api(void **state)
{
	void *h = ds_create(DS_KIND_list);
	struct ds_req r;

	(void)state;
	assert_non_null(h);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_SEARCH, 1, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_INSERT, 5, 50, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_INSERT, 3, 30, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_INSERT, 9, 90, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_INSERT, 5, 51, NULL), DS_ERROR_EXISTS);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_SEARCH, 5, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 50);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_RANGE, 4, 9, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 2);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_key, 3);
	assert_int_equal(r.out_value, 30);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_DELETE, 9, 0, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_DELETE, 9, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(DS_KIND_list, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_int_equal(ds_quiesce(DS_KIND_list, h), 0);
	assert_true(unit_alloc_current() == 1);
}

static void test_list_model(void **state)
{
	(void)state;
	unit_model_check_keyed(DS_KIND_list, unit_scale(100000), 512, 42);
}

static void test_list_stress(void **state)
{
	struct skel_mix mix = { .insert = 50, .delete = 20, .pop = 5, .range = 5 };

	(void)state;
	unit_stress(DS_KIND_list, 4, unit_scale(50000), 256, mix);
}

/* Build a list with keys 0..n-1 (as value) and return its head. */
static struct ds_list_head *list_with(int n)
{
	struct ds_list_head *h = ds_create(DS_KIND_list);
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(ds_list_insert(h, i * 10, i), DS_SUCCESS);
	assert_int_equal(ds_list_verify(h), DS_SUCCESS);
	return h;
}

static struct ds_list_node *nth(struct ds_list_head *h, int i)
{
	struct ds_list_node *n = (void *)h->first;

	while (i--)
		n = DS_LIST_PTR(n->next);
	return n;
}

/* verify must catch each kind of corruption. */
static void test_list_verify_catches_cycle(void **state)
{
	struct ds_list_head *h = list_with(5);

	(void)state;
	nth(h, 4)->next = (__u64)nth(h, 1);
	unit_expect_corrupt(DS_KIND_list, h, DS_CORRUPT_ORDER);
}

static void test_list_verify_catches_order(void **state)
{
	struct ds_list_head *h = list_with(5);

	(void)state;
	nth(h, 2)->key = 1000;
	unit_expect_corrupt(DS_KIND_list, h, DS_CORRUPT_ORDER);
}

static void test_list_verify_catches_count(void **state)
{
	struct ds_list_head *h = list_with(5);

	(void)state;
	nth(h, 2)->next = nth(h, 3)->next;	/* drop a node behind the counters' back */
	unit_expect_corrupt(DS_KIND_list, h, DS_CORRUPT_COUNT);
}

static void test_list_verify_catches_mark(void **state)
{
	struct ds_list_head *h = list_with(5);

	(void)state;
	nth(h, 1)->next |= DS_LIST_MARK;
	unit_expect_corrupt(DS_KIND_list, h, DS_CORRUPT_MARK);
}

static void test_list_verify_catches_wild_pointer(void **state)
{
	struct ds_list_head *h = list_with(5);

	(void)state;
	nth(h, 3)->next = 0xdead0000;
	unit_expect_corrupt(DS_KIND_list, h, DS_CORRUPT_POINTER);
}

static void test_list_verify_catches_duplicate(void **state)
{
	struct ds_list_head *h = list_with(5);

	(void)state;
	nth(h, 3)->key = nth(h, 2)->key;
	unit_expect_corrupt(DS_KIND_list, h, DS_CORRUPT_DUPLICATE);
}

/* Running dry: NOMEM, nothing lost, and works again after deletes. */
static void test_list_exhaustion(void **state)
{
	struct ds_list_head *h;
	__u64 k, stored = 0;
	int rc;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(64), 0);
	h = ds_create(DS_KIND_list);
	assert_non_null(h);
	for (k = 0; k < 100000; k++) {
		rc = ds_list_insert(h, k, k);
		if (rc == DS_ERROR_NOMEM)
			break;
		assert_int_equal(rc, DS_SUCCESS);
		stored++;
	}
	assert_int_equal(rc, DS_ERROR_NOMEM);
	for (k = 0; k < stored; k++)
		assert_int_equal(ds_list_search(h, k, NULL), DS_SUCCESS);
	for (k = 0; k < 10; k++)
		assert_int_equal(ds_list_delete(h, k), DS_SUCCESS);
	assert_int_equal(ds_quiesce(DS_KIND_list, h), 0);
	assert_int_equal(ds_list_insert(h, stored + 1, 0), DS_SUCCESS);
	assert_int_equal(ds_list_verify(h), DS_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_api, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_list_model, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_list_stress, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_list_verify_catches_cycle, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_list_verify_catches_order, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_list_verify_catches_count, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_list_verify_catches_mark, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_list_verify_catches_wild_pointer, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_list_verify_catches_duplicate, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_list_exhaustion, unit_setup, unit_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
