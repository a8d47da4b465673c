// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the loop step budget (bpf_arena_common.h, "Loop budget"):
 * a userspace walk of a corrupted structure ends with DS_ERROR_BUSY instead
 * of spinning forever, and the next operation has a fresh budget.  Before
 * budgets, can_loop was always true in userspace and these tests hung (the
 * alarm below turns a hang into a failure).
 */
#include <signal.h>
#include <unistd.h>
#include "unit.h"
#include "ds_hash.c"	/* white-box: the split-ordered list's helpers */

#define HANG_SECONDS 20

static int budget_setup(void **state)
{
	alarm(HANG_SECONDS);	/* a walk that never ends kills the test */
	return unit_setup(state);
}

static int budget_teardown(void **state)
{
	alarm(0);
	arena_loop_user_budget = ARENA_LOOP_BUDGET_USER;
	return unit_teardown(state);
}

static struct ds_list_node *list_nth(struct ds_list_head *h, int i)
{
	struct ds_list_node *n = (void *)h->first;

	while (i--)
		n = DS_LIST_PTR(n->next);
	return n;
}

/* A cycle in the list: every operation that walks past it answers BUSY. */
static void test_budget_list_cycle(void **state)
{
	struct ds_list_head *h = ds_create(DS_KIND_list), *h2;
	__u64 v = 0;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(ds_list_insert(h, i * 10, i), DS_SUCCESS);
	list_nth(h, 4)->next = (__u64)list_nth(h, 1);
	assert_int_equal(ds_list_search(h, 1000, &v), DS_ERROR_BUSY);
	assert_int_equal(ds_list_insert(h, 1000, 1), DS_ERROR_BUSY);
	assert_int_equal(ds_list_delete(h, 1000), DS_ERROR_BUSY);
	assert_int_equal(ds_list_range(h, 0, 1000, &v), DS_ERROR_BUSY);
	/* A key before the cycle is still reached. */
	assert_int_equal(ds_list_search(h, 10, &v), DS_SUCCESS);
	assert_int_equal(v, 1);
	/* The spent budget was this operation's only: a healthy structure
	 * works at once. */
	h2 = ds_create(DS_KIND_list);
	assert_int_equal(ds_list_insert(h2, 7, 7), DS_SUCCESS);
	assert_int_equal(ds_list_search(h2, 7, &v), DS_SUCCESS);
	/* verify says CORRUPT, not BUSY or a hang. */
	assert_int_equal(ds_list_verify(h), DS_ERROR_CORRUPT);
}

/* A node linked to itself in the hash's split-ordered list. */
static void test_budget_hash_cycle(void **state)
{
	struct ds_hash_head *h = ds_create(DS_KIND_hash);
	struct ds_hash_node *n;
	__u64 k, far, v = 0;
	__u32 b;

	(void)state;
	assert_int_equal(ds_hash_insert(h, 1, 1), DS_SUCCESS);
	b = ds_hash_bucket_of(1);
	/* A key of the same bucket that sorts after 1: its search walks
	 * through 1's node. */
	for (far = 2; ds_hash_bucket_of(far) != b || ds_hash_okey(far) < ds_hash_okey(1); far++)
		;
	/* 1's node: the first element after its bucket's dummy. */
	n = DS_HASH_PTR(DS_HASH_PTR(ds_hash_dummy_link(h, b))->next);
	assert_non_null(n);
	assert_int_equal(ds_hash_node_key(n), 1);
	n->next = (__u64)n;
	assert_int_equal(ds_hash_search(h, far, &v), DS_ERROR_BUSY);
	assert_int_equal(ds_hash_insert(h, far, 1), DS_ERROR_BUSY);
	assert_int_equal(ds_hash_delete(h, far), DS_ERROR_BUSY);
	/* Other buckets are untouched. */
	for (k = 2; ds_hash_bucket_of(k) == b; k++)
		;
	assert_int_equal(ds_hash_insert(h, k, 5), DS_SUCCESS);
	assert_int_equal(ds_hash_search(h, k, &v), DS_SUCCESS);
	assert_int_equal(v, 5);
}

/* The budget is what the caller sets: a small one ends a long healthy walk,
 * the next operation is back on the process-wide budget, 0 is unbounded. */
static void test_budget_configurable(void **state)
{
	struct ds_list_head *h = ds_create(DS_KIND_list);
	__u64 v = 0;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		assert_int_equal(ds_list_insert(h, i, i), DS_SUCCESS);
	arena_loop_arm(100);
	assert_int_equal(ds_list_search(h, 999, &v), DS_ERROR_BUSY);
	assert_int_equal(ds_list_search(h, 999, &v), DS_SUCCESS);
	arena_loop_user_budget = 50;	/* from the next call on */
	assert_int_equal(ds_list_search(h, 999, &v), DS_ERROR_BUSY);
	assert_int_equal(ds_list_search(h, 10, &v), DS_SUCCESS);
	arena_loop_user_budget = 0;
	assert_int_equal(ds_list_search(h, 10, &v), DS_SUCCESS);
	assert_int_equal(ds_list_search(h, 999, &v), DS_SUCCESS);
	arena_loop_arm(0);
	assert_int_equal(ds_list_verify(h), DS_SUCCESS);
}

/*
 * Every public call has the budget to itself, whatever it is: calls that
 * count no operation (maintenance, verify, counts) do not spend a budget
 * shared by the thread's life.  (They did: a thread that only ran resize
 * steps spent the budget once and from then on every step answered BUSY
 * without doing anything.)
 */
static void test_budget_per_call(void **state)
{
	struct ds_hash_head *h = (void *)ds_hash_new_cap(16);
	int i;

	(void)state;
	assert_non_null(h);
	for (i = 0; i < 10; i++)
		assert_int_equal(ds_hash_insert(h, i, i), DS_SUCCESS);
	arena_loop_user_budget = 5000;
	for (i = 0; i < 2000; i++) {
		assert_int_equal(ds_hash_maintain(h), DS_SUCCESS);
		assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
		assert_int_equal(ds_hash_count(h), 10);
	}
	/* A budget too small for a verify still ends it, with BUSY; the
	 * next call is on the budget again. */
	arena_loop_arm(3);
	assert_int_equal(ds_hash_verify(h), DS_ERROR_BUSY);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_budget_list_cycle, budget_setup,
						budget_teardown),
		cmocka_unit_test_setup_teardown(test_budget_per_call, budget_setup,
						budget_teardown),
		cmocka_unit_test_setup_teardown(test_budget_hash_cycle, budget_setup,
						budget_teardown),
		cmocka_unit_test_setup_teardown(test_budget_configurable, budget_setup,
						budget_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
