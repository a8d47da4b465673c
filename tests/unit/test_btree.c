// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_btree.h (B+ tree) on a standalone arena. */
#include "unit.h"
#include "ds_btree.c"	/* white-box: its internal helpers too */

#define K DS_KIND_btree

static void test_btree_api(void **state)
{
	void *h = ds_create(K);
	struct ds_req r;

	(void)state;
	assert_non_null(h);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 1, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 1, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_RANGE, 0, 100, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 0);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 50, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 3, 30, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 9, 90, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 51, NULL), DS_ERROR_EXISTS);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 5, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 50);
	assert_int_equal(unit_op(K, h, DS_OP_RANGE, 4, 9, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 2);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_key, 3);
	assert_int_equal(r.out_value, 30);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 9, 0, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 9, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == 1);	/* one record; nodes are pooled */
}

/* Grow to several levels, range over leaf boundaries, shrink to empty. */
static void test_btree_grow_shrink(void **state)
{
	struct ds_btree_head *h = ds_create(K);
	__u64 k, c, v;
	const __u64 n = 20000;

	(void)state;
	for (k = 0; k < n; k++)
		assert_int_equal(ds_btree_insert(h, k * 3, k), DS_SUCCESS);
	assert_int_equal(ds_btree_verify(h), DS_SUCCESS);
	assert_true(h->depth >= 3);
	assert_int_equal(ds_btree_range(h, 0, 3 * n, &c), DS_SUCCESS);
	assert_int_equal(c, n);
	assert_int_equal(ds_btree_range(h, 100, 1000, &c), DS_SUCCESS);
	assert_int_equal(c, 300);	/* 102, 105, ..., 999 */
	assert_int_equal(ds_btree_search(h, 3 * 777, &v), DS_SUCCESS);
	assert_int_equal(v, 777);
	assert_int_equal(ds_btree_search(h, 3 * 777 + 1, &v), DS_ERROR_NOT_FOUND);
	/* Delete from the middle outwards, then pop the rest in order. */
	for (k = n / 4; k < 3 * n / 4; k++)
		assert_int_equal(ds_btree_delete(h, k * 3), DS_SUCCESS);
	assert_int_equal(ds_btree_verify(h), DS_SUCCESS);
	for (k = 0; k < n; k++) {
		__u64 pk;

		if (k == n / 4)
			k = 3 * n / 4;
		assert_int_equal(ds_btree_pop(h, &pk, &v), DS_SUCCESS);
		assert_int_equal(pk, k * 3);
		assert_int_equal(v, k);
	}
	assert_int_equal(ds_btree_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_btree_verify(h), DS_SUCCESS);
	assert_int_equal(h->depth, 0);
	/* Every pool node but the root leaf is back on the free list. */
	assert_int_equal(h->pool_used - h->pool_free, 1);
	assert_true(unit_alloc_current() == 0);
}

static void test_btree_model(void **state)
{
	(void)state;
	unit_model_check_keyed(K, unit_scale(100000), 4096, 42);
}

static void test_btree_model_small_keys(void **state)
{
	(void)state;
	unit_model_check_keyed(K, unit_scale(100000), 100, 9);
}

static void test_btree_stress(void **state)
{
	struct skel_mix mix = { .insert = 45, .delete = 25, .pop = 5, .range = 5 };

	(void)state;
	unit_stress(K, 4, unit_scale(100000), 2048, mix);
}

/* A tree of @n keys 0, 10, 20, ... (three levels for n = 1000). */
static struct ds_btree_head *btree_with(int n)
{
	struct ds_btree_head *h = ds_create(K);
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(ds_btree_insert(h, i * 10, i), DS_SUCCESS);
	assert_int_equal(ds_btree_verify(h), DS_SUCCESS);
	return h;
}

static struct ds_btree_node *child(struct ds_btree_node *n, int i)
{
	return DS_BTREE_NODE(n->slot[i]);
}

static struct ds_btree_node *root(struct ds_btree_head *h)
{
	return DS_BTREE_NODE(h->root);
}

static void test_btree_verify_catches_leaf_order(void **state)
{
	struct ds_btree_head *h = btree_with(1000);
	struct ds_btree_node *l = child(child(root(h), 1), 1);

	(void)state;
	l->keys[2] = l->keys[4];
	DS_BTREE_REC(l->slot[2])->key = l->keys[2];
	unit_expect_corrupt(K, h, DS_CORRUPT_ORDER);
}

static void test_btree_verify_catches_duplicate(void **state)
{
	struct ds_btree_head *h = btree_with(1000);
	struct ds_btree_node *l = child(child(root(h), 0), 2);

	(void)state;
	l->keys[3] = l->keys[2];
	DS_BTREE_REC(l->slot[3])->key = l->keys[3];
	unit_expect_corrupt(K, h, DS_CORRUPT_DUPLICATE);
}

static void test_btree_verify_catches_separator(void **state)
{
	struct ds_btree_head *h = btree_with(1000);
	struct ds_btree_node *in = child(root(h), 0);

	(void)state;
	/* Still ordered inside the node, but above keys of its right child. */
	in->keys[1] = child(in, 2)->keys[1];
	unit_expect_corrupt(K, h, DS_CORRUPT_ORDER);
}

static void test_btree_verify_catches_fill(void **state)
{
	struct ds_btree_head *h = btree_with(1000);
	struct ds_btree_node *l = child(child(root(h), 0), 1);

	(void)state;
	l->nkeys = DS_BTREE_LEAF_MIN - 1;	/* underfull leaf */
	unit_expect_corrupt(K, h, DS_CORRUPT_SHAPE);
}

static void test_btree_verify_catches_overfull(void **state)
{
	struct ds_btree_head *h = btree_with(1000);
	struct ds_btree_node *in = child(root(h), 0);

	(void)state;
	in->nkeys = DS_BTREE_INT_MAX + 1;
	unit_expect_corrupt(K, h, DS_CORRUPT_SHAPE);
}

static void test_btree_verify_catches_leaf_depth(void **state)
{
	struct ds_btree_head *h = btree_with(1000);
	struct ds_btree_node *r = root(h), *in = child(r, 0);

	(void)state;
	/* Hang a leaf directly under the root in place of an internal node. */
	r->slot[0] = in->slot[0];
	unit_expect_corrupt(K, h, DS_CORRUPT_SHAPE);
}

static void test_btree_verify_catches_chain(void **state)
{
	struct ds_btree_head *h = btree_with(1000);
	struct ds_btree_node *l = child(child(root(h), 0), 1);

	(void)state;
	l->next = DS_BTREE_NODE(l->next)->next;	/* skip a leaf */
	unit_expect_corrupt(K, h, DS_CORRUPT_POINTER);
}

static void test_btree_verify_catches_chain_end(void **state)
{
	struct ds_btree_head *h = btree_with(200);
	struct ds_btree_node *n = root(h);

	(void)state;
	while (!n->leaf)
		n = child(n, n->nkeys);
	n->next = (__u64)child(root(h), 0);
	unit_expect_corrupt(K, h, DS_CORRUPT_POINTER);
}

static void test_btree_verify_catches_wild_child(void **state)
{
	struct ds_btree_head *h = btree_with(1000);

	(void)state;
	root(h)->slot[1] += 8;		/* inside the pool, not a node */
	unit_expect_corrupt(K, h, DS_CORRUPT_POINTER);
}

static void test_btree_verify_catches_wild_record(void **state)
{
	struct ds_btree_head *h = btree_with(1000);
	struct ds_btree_node *l = child(child(root(h), 1), 0);

	(void)state;
	l->slot[0] = 0xdead0000;
	unit_expect_corrupt(K, h, DS_CORRUPT_POINTER);
}

static void test_btree_verify_catches_count(void **state)
{
	struct ds_btree_head *h = btree_with(1000);

	(void)state;
	ds_count(&h->stats, DS_OP_DELETE, DS_SUCCESS);
	unit_expect_corrupt(K, h, DS_CORRUPT_COUNT);
}

/* Running dry on records: NOMEM, nothing lost, works after deletes. */
static void test_btree_exhaustion(void **state)
{
	struct ds_btree_head *h;
	__u64 k, stored, c;
	__u32 pages = (sizeof(struct ds_btree_head) + 8191) / 4096;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(pages + 40), 0);
	h = ds_create(K);
	assert_non_null(h);
	stored = unit_fill_until_nomem(K, h, 1000000, 0);
	assert_true(stored > 1000);
	assert_int_equal(ds_btree_range(h, 0, stored, &c), DS_SUCCESS);
	assert_int_equal(c, stored);
	for (k = 0; k < 10; k++)
		assert_int_equal(ds_btree_delete(h, k), DS_SUCCESS);
	assert_int_equal(ds_btree_insert(h, stored + 1, 0), DS_SUCCESS);
	assert_int_equal(ds_btree_verify(h), DS_SUCCESS);
}

/* Running dry on pool nodes: NOMEM before any change, tree intact. */
static void test_btree_pool_exhaustion(void **state)
{
	struct ds_btree_head *h = ds_create(K);
	__u64 stored;

	(void)state;
	/* Spread keys so that every leaf ends half full: 8 keys per node. */
	stored = unit_fill_until_nomem(K, h, 1000000, 0);
	assert_true(ds_btree_pool_avail(h) < h->depth + 2);
	assert_int_equal(ds_btree_search(h, stored - 1, NULL), DS_SUCCESS);
	assert_true(unit_alloc_current() == (__s64)stored);
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_btree_api),
		T(test_btree_grow_shrink),
		T(test_btree_model),
		T(test_btree_model_small_keys),
		T(test_btree_stress),
		T(test_btree_verify_catches_leaf_order),
		T(test_btree_verify_catches_duplicate),
		T(test_btree_verify_catches_separator),
		T(test_btree_verify_catches_fill),
		T(test_btree_verify_catches_overfull),
		T(test_btree_verify_catches_leaf_depth),
		T(test_btree_verify_catches_chain),
		T(test_btree_verify_catches_chain_end),
		T(test_btree_verify_catches_wild_child),
		T(test_btree_verify_catches_wild_record),
		T(test_btree_verify_catches_count),
		T(test_btree_exhaustion),
		T(test_btree_pool_exhaustion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
