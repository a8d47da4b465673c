// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_tree.h (AVL tree) on a standalone arena. */
#include "unit.h"

static void test_tree_api(void **state)
{
	void *h = ds_create(DS_KIND_tree);
	struct ds_req r;

	(void)state;
	assert_non_null(h);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_SEARCH, 1, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_DELETE, 1, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_RANGE, 0, 100, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 0);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_INSERT, 5, 50, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_INSERT, 3, 30, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_INSERT, 9, 90, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_INSERT, 5, 51, NULL), DS_ERROR_EXISTS);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_SEARCH, 5, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 50);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_RANGE, 4, 9, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 2);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_RANGE, 10, 4, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 0);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_key, 3);
	assert_int_equal(r.out_value, 30);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_DELETE, 9, 0, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_DELETE, 9, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(DS_KIND_tree, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_int_equal(ds_quiesce(DS_KIND_tree, h), 0);
	assert_true(unit_alloc_current() == 1);
}

/* Ascending inserts must stay balanced: height of 2^k - 1 keys is k. */
static void test_tree_balanced(void **state)
{
	struct ds_tree_head *h = ds_create(DS_KIND_tree);
	__u64 k;

	(void)state;
	for (k = 0; k < 1023; k++)
		assert_int_equal(ds_tree_insert(h, k, k), DS_SUCCESS);
	assert_int_equal(ds_tree_verify(h), DS_SUCCESS);
	assert_int_equal(h->root->height, 10);
	for (k = 0; k < 1023; k += 2)
		assert_int_equal(ds_tree_delete(h, k), DS_SUCCESS);
	assert_int_equal(ds_tree_verify(h), DS_SUCCESS);
	assert_true(h->root->height <= 10);
}

static void test_tree_model(void **state)
{
	(void)state;
	unit_model_check_keyed(DS_KIND_tree, unit_scale(100000), 2048, 42);
}

static void test_tree_model_small_keys(void **state)
{
	(void)state;
	unit_model_check_keyed(DS_KIND_tree, unit_scale(100000), 64, 7);
}

static void test_tree_stress(void **state)
{
	struct skel_mix mix = { .insert = 45, .delete = 25, .pop = 5, .range = 5 };

	(void)state;
	unit_stress(DS_KIND_tree, 4, unit_scale(100000), 1024, mix);
}

/* A tree with keys 0, 10, ..., 10 * (n - 1). */
static struct ds_tree_head *tree_with(int n)
{
	struct ds_tree_head *h = ds_create(DS_KIND_tree);
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(ds_tree_insert(h, i * 10, i), DS_SUCCESS);
	assert_int_equal(ds_tree_verify(h), DS_SUCCESS);
	return h;
}

static void test_tree_verify_catches_order(void **state)
{
	struct ds_tree_head *h = tree_with(15);

	(void)state;
	h->root->left->key = 1000;
	unit_expect_corrupt(DS_KIND_tree, h, DS_CORRUPT_ORDER);
}

static void test_tree_verify_catches_duplicate(void **state)
{
	struct ds_tree_head *h = tree_with(15);

	(void)state;
	h->root->right->left->left->key = h->root->key;	/* its successor */
	unit_expect_corrupt(DS_KIND_tree, h, DS_CORRUPT_DUPLICATE);
}

static void test_tree_verify_catches_height(void **state)
{
	struct ds_tree_head *h = tree_with(15);

	(void)state;
	h->root->left->height++;
	unit_expect_corrupt(DS_KIND_tree, h, DS_CORRUPT_SHAPE);
}

static void test_tree_verify_catches_balance(void **state)
{
	struct ds_tree_head *h = tree_with(15);
	struct ds_tree_node *l = h->root->left;

	(void)state;
	/* Cut the left subtree down to one node with correct heights: the
	 * root's balance becomes -2 (nodes dropped behind the counters' back
	 * are not reached: balance is checked before the count). */
	l->left = NULL;
	l->right = NULL;
	l->height = 1;
	h->root->height = 4;
	unit_expect_corrupt(DS_KIND_tree, h, DS_CORRUPT_SHAPE);
}

static void test_tree_verify_catches_parent(void **state)
{
	struct ds_tree_head *h = tree_with(15);

	(void)state;
	h->root->right->left->parent = h->root;
	unit_expect_corrupt(DS_KIND_tree, h, DS_CORRUPT_POINTER);
}

static void test_tree_verify_catches_wild_pointer(void **state)
{
	struct ds_tree_head *h = tree_with(15);

	(void)state;
	h->root->left->left->right = (void *)0xdead0000;
	unit_expect_corrupt(DS_KIND_tree, h, DS_CORRUPT_POINTER);
}

static void test_tree_verify_catches_count(void **state)
{
	struct ds_tree_head *h = tree_with(15);

	(void)state;
	/* One more node than counted: add a leaf by hand. */
	ds_tree_reset_stats(h);
	for (int i = 0; i < 14; i++)
		ds_count(&h->stats, DS_OP_INSERT, DS_SUCCESS);
	unit_expect_corrupt(DS_KIND_tree, h, DS_CORRUPT_COUNT);
	/* One fewer. */
	for (int i = 0; i < 2; i++)
		ds_count(&h->stats, DS_OP_INSERT, DS_SUCCESS);
	unit_expect_corrupt(DS_KIND_tree, h, DS_CORRUPT_COUNT);
}

static void test_tree_verify_catches_cycle(void **state)
{
	struct ds_tree_head *h = tree_with(15);
	struct ds_tree_node *leaf = h->root->left->left->left;

	(void)state;
	/* A leaf's child link back to the root, parent link made to match:
	 * the root is reached twice. */
	leaf->left = h->root;
	h->root->parent = leaf;
	assert_int_equal(ds_tree_verify(h), DS_ERROR_CORRUPT);
	assert_true(h->verify_reason == DS_CORRUPT_POINTER ||
		    h->verify_reason == DS_CORRUPT_CYCLE);
}

/* Running dry: NOMEM, nothing lost, and works again after deletes. */
static void test_tree_exhaustion(void **state)
{
	struct ds_tree_head *h;
	__u64 k, stored = 0;
	int rc = 0;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(64), 0);
	h = ds_create(DS_KIND_tree);
	assert_non_null(h);
	for (k = 0; k < 100000; k++) {
		rc = ds_tree_insert(h, k, k);
		if (rc == DS_ERROR_NOMEM)
			break;
		assert_int_equal(rc, DS_SUCCESS);
		stored++;
	}
	assert_int_equal(rc, DS_ERROR_NOMEM);
	assert_int_equal(ds_tree_verify(h), DS_SUCCESS);
	for (k = 0; k < stored; k++)
		assert_int_equal(ds_tree_search(h, k, NULL), DS_SUCCESS);
	for (k = 0; k < 10; k++)
		assert_int_equal(ds_tree_delete(h, k), DS_SUCCESS);
	assert_int_equal(ds_tree_insert(h, stored + 1, 0), DS_SUCCESS);
	assert_int_equal(ds_tree_verify(h), DS_SUCCESS);
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tree_api),
		T(test_tree_balanced),
		T(test_tree_model),
		T(test_tree_model_small_keys),
		T(test_tree_stress),
		T(test_tree_verify_catches_order),
		T(test_tree_verify_catches_duplicate),
		T(test_tree_verify_catches_height),
		T(test_tree_verify_catches_balance),
		T(test_tree_verify_catches_parent),
		T(test_tree_verify_catches_wild_pointer),
		T(test_tree_verify_catches_count),
		T(test_tree_verify_catches_cycle),
		T(test_tree_exhaustion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
