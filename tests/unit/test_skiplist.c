// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_skiplist.h on a standalone arena. */
#include "unit.h"
#include "ds_skiplist.c"	/* white-box: its internal helpers too */

#define K DS_KIND_skiplist

typedef struct ds_skiplist_head sl_head;
typedef struct ds_skiplist_node sl_node;

static void test_skiplist_api(void **state)
{
	sl_head *h = ds_create(K);
	struct ds_req r;

	(void)state;
	assert_non_null(h);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 1, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_RANGE, 0, ~0ULL, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 0);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 50, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 3, 30, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 9, 90, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, ~0ULL, 7, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 51, NULL), DS_ERROR_EXISTS);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 5, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 50);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 4, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_RANGE, 4, 9, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 2);
	assert_int_equal(unit_op(K, h, DS_OP_RANGE, 0, ~0ULL, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 4);
	assert_int_equal(unit_op(K, h, DS_OP_RANGE, 6, 8, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 0);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_key, 3);
	assert_int_equal(r.out_value, 30);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 9, 0, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 9, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == 2);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_key, 5);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_true(r.out_key == ~0ULL);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_ERROR_NOT_FOUND);
	assert_true(ds_metadata_of(K)->caps ==
		    (DS_CAP_KEYED | DS_CAP_ORDERED | DS_CAP_POP | DS_CAP_RANGE));
}

static __u32 level_count(sl_head *h, int lvl)
{
	__u64 v = h->next[lvl];
	__u32 n = 0;

	while (v) {
		n++;
		v = DS_SKIP_PTR(v)->next[lvl];
	}
	return n;
}

/* Levels follow p = 1/4: level l holds about n / 4^l nodes. */
static void test_skiplist_levels(void **state)
{
	sl_head *h = ds_create(K);
	const __u32 n = 20000;
	__u32 i, c1, c2;

	(void)state;
	for (i = 0; i < n; i++)
		assert_int_equal(ds_skiplist_insert(h, i, i), DS_SUCCESS);
	assert_int_equal(level_count(h, 0), n);
	c1 = level_count(h, 1);
	c2 = level_count(h, 2);
	assert_true(c1 > n / 4 - n / 16 && c1 < n / 4 + n / 16);
	assert_true(c2 > n / 16 - n / 64 && c2 < n / 16 + n / 64);
	assert_true(level_count(h, DS_SKIP_LEVELS - 1) < 8);
	assert_int_equal(ds_skiplist_verify(h), DS_SUCCESS);
}

static void test_skiplist_model(void **state)
{
	(void)state;
	unit_model_check_keyed(K, unit_scale(100000), 512, 42);
}

static void test_skiplist_model_large(void **state)
{
	(void)state;
	unit_model_check_keyed(K, unit_scale(100000), 1U << 16, 11);
}

static void test_skiplist_stress(void **state)
{
	struct skel_mix mix = { .insert = 50, .delete = 20, .pop = 5, .range = 5 };

	(void)state;
	unit_stress(K, 4, unit_scale(100000), 256, mix);
}

static void test_skiplist_stress_wide(void **state)
{
	struct skel_mix mix = { .insert = 45, .delete = 35, .pop = 2, .range = 3 };

	(void)state;
	unit_stress(K, 4, unit_scale(100000), 20000, mix);
}

struct drain_arg {
	sl_head *h;
	unsigned char *seen;
	pthread_barrier_t *b;
	unsigned long got;
};

/* Pop until empty: with no inserts running, each popper sees strictly
 * increasing keys, and every key comes out exactly once overall. */
static void *drain_worker(void *p)
{
	struct drain_arg *a = p;
	__u64 k = 0, v = 0, last = 0;
	int rc, first = 1;

	pthread_barrier_wait(a->b);
	for (;;) {
		rc = ds_skiplist_pop(a->h, &k, &v);
		if (rc == DS_ERROR_NOT_FOUND)
			break;
		assert_int_equal(rc, DS_SUCCESS);
		assert_true(v == k * 3);
		assert_true(first || k > last);
		assert_int_equal(__atomic_fetch_add(&a->seen[k], 1, __ATOMIC_RELAXED), 0);
		last = k;
		first = 0;
		a->got++;
	}
	return NULL;
}

static void test_skiplist_pop_drain(void **state)
{
	const __u32 n = unit_scale(40000);
	sl_head *h = ds_create(K);
	unsigned char *seen = calloc(n, 1);
	struct drain_arg a[4];
	pthread_t t[4];
	pthread_barrier_t b;
	unsigned long total = 0;
	__u32 i;

	(void)state;
	assert_non_null(seen);
	/* Insert in a scrambled order (7919 is prime to n). */
	for (i = 0; i < n; i++) {
		__u64 k = i * 7919ULL % n;

		assert_int_equal(ds_skiplist_insert(h, k, k * 3), DS_SUCCESS);
	}
	pthread_barrier_init(&b, NULL, 4);
	for (i = 0; i < 4; i++) {
		a[i] = (struct drain_arg){ .h = h, .seen = seen, .b = &b };
		assert_int_equal(pthread_create(&t[i], NULL, drain_worker, &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += a[i].got;
	}
	pthread_barrier_destroy(&b);
	assert_true(total == n);
	for (i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(ds_skiplist_verify(h), DS_SUCCESS);
	assert_true(unit_alloc_current() == 0);
	free(seen);
}

/* A skip list with keys 10, 20, ..., 10 * n (value = index). */
static sl_head *sl_with(int n)
{
	sl_head *h = ds_create(K);
	int i;

	assert_non_null(h);
	for (i = 1; i <= n; i++)
		assert_int_equal(ds_skiplist_insert(h, i * 10, i), DS_SUCCESS);
	assert_int_equal(ds_skiplist_verify(h), DS_SUCCESS);
	assert_true(level_count(h, 1) >= 3);
	return h;
}

/* The i-th node linked at level @lvl. */
static sl_node *nth(sl_head *h, int lvl, int i)
{
	sl_node *n = DS_SKIP_PTR(h->next[lvl]);

	while (i--)
		n = DS_SKIP_PTR(n->next[lvl]);
	return n;
}

/* A node of level 1 exactly, not the first one, and its predecessor. */
static sl_node *low_node(sl_head *h, sl_node **pred)
{
	sl_node *p = nth(h, 0, 0), *n;

	while ((n = DS_SKIP_PTR(p->next[0]))) {
		if (n->level == 1) {
			*pred = p;
			return n;
		}
		p = n;
	}
	fail_msg("no level-1 node");
	return NULL;
}

static void test_skiplist_verify_catches_order(void **state)
{
	sl_head *h = sl_with(200);

	(void)state;
	nth(h, 0, 5)->key = 100000;
	unit_expect_corrupt(K, h, DS_CORRUPT_ORDER);
}

static void test_skiplist_verify_catches_cycle(void **state)
{
	sl_head *h = sl_with(200);

	(void)state;
	nth(h, 0, 150)->next[0] = (__u64)nth(h, 0, 20);
	unit_expect_corrupt(K, h, DS_CORRUPT_ORDER);
}

static void test_skiplist_verify_catches_duplicate(void **state)
{
	sl_head *h = sl_with(200);
	sl_node *p, *n = low_node(h, &p);

	(void)state;
	n->key = p->key;
	unit_expect_corrupt(K, h, DS_CORRUPT_DUPLICATE);
}

static void test_skiplist_verify_catches_count(void **state)
{
	sl_head *h = sl_with(200);
	sl_node *p, *n = low_node(h, &p);

	(void)state;
	p->next[0] = n->next[0];	/* drop it behind the counters' back */
	unit_expect_corrupt(K, h, DS_CORRUPT_COUNT);
}

static void test_skiplist_verify_catches_mark(void **state)
{
	sl_head *h = sl_with(200);

	(void)state;
	nth(h, 0, 7)->next[0] |= DS_SKIP_MARK;
	unit_expect_corrupt(K, h, DS_CORRUPT_MARK);
}

static void test_skiplist_verify_catches_upper_mark(void **state)
{
	sl_head *h = sl_with(200);

	(void)state;
	nth(h, 1, 1)->next[1] |= DS_SKIP_MARK;
	unit_expect_corrupt(K, h, DS_CORRUPT_MARK);
}

static void test_skiplist_verify_catches_wild_pointer(void **state)
{
	sl_head *h = sl_with(200);

	(void)state;
	nth(h, 0, 9)->next[0] = 0xdead0000;
	unit_expect_corrupt(K, h, DS_CORRUPT_POINTER);
}

/* A node on level 1 that level 0 does not hold. */
static void test_skiplist_verify_catches_not_subset(void **state)
{
	sl_head *h = sl_with(200);
	sl_node *a = nth(h, 1, 0), *x;

	(void)state;
	x = bpf_arena_alloc(ds_skiplist_node_size(2));
	assert_non_null(x);
	x->key = a->key - 5;	/* keys are multiples of 10 */
	x->value = 0;
	x->level = 2;
	x->ref = 2;
	x->next[0] = (__u64)a;
	x->next[1] = (__u64)a;
	h->next[1] = (__u64)x;
	unit_expect_corrupt(K, h, DS_CORRUPT_SHAPE);
}

/* Level 1 out of order while level 0 is fine. */
static void test_skiplist_verify_catches_level_order(void **state)
{
	sl_head *h = sl_with(200);
	sl_node *a = nth(h, 1, 0), *b = nth(h, 1, 1);

	(void)state;
	b->next[1] = (__u64)a;
	unit_expect_corrupt(K, h, DS_CORRUPT_ORDER);
}

/* Level 1 skips back and forth, order broken only against level 0. */
static void test_skiplist_verify_catches_level_skip_back(void **state)
{
	sl_head *h = sl_with(200);
	sl_node *a = nth(h, 1, 0), *b = nth(h, 1, 1), *c = nth(h, 1, 2);

	(void)state;
	/* head -> b -> a -> c at level 1: a is behind b. */
	h->next[1] = (__u64)b;
	b->next[1] = (__u64)a;
	a->next[1] = (__u64)c;
	unit_expect_corrupt(K, h, DS_CORRUPT_ORDER);
}

/* A node linked above its own height. */
static void test_skiplist_verify_catches_level_height(void **state)
{
	sl_head *h = sl_with(200);

	(void)state;
	nth(h, 1, 2)->level = 1;
	unit_expect_corrupt(K, h, DS_CORRUPT_SHAPE);
}

/* Running dry: NOMEM, nothing lost, and works again after deletes. */
static void test_skiplist_exhaustion(void **state)
{
	sl_head *h;
	__u64 k, stored, cnt = 0;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(64), 0);
	h = ds_create(K);
	assert_non_null(h);
	stored = unit_fill_until_nomem(K, h, 100000, 0);
	assert_true(stored > 100);
	for (k = 0; k < stored; k++)
		assert_int_equal(ds_skiplist_search(h, k, NULL), DS_SUCCESS);
	assert_int_equal(ds_skiplist_range(h, 0, ~0ULL, &cnt), DS_SUCCESS);
	assert_true(cnt == stored);
	for (k = 0; k < 10; k++)
		assert_int_equal(ds_skiplist_delete(h, k * 2), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(ds_skiplist_insert(h, stored + 1, 0), DS_SUCCESS);
	assert_int_equal(ds_skiplist_verify(h), DS_SUCCESS);
	assert_true(unit_alloc_current() == (__s64)(stored - 10 + 1));
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_skiplist_api),
		T(test_skiplist_levels),
		T(test_skiplist_model),
		T(test_skiplist_model_large),
		T(test_skiplist_stress),
		T(test_skiplist_stress_wide),
		T(test_skiplist_pop_drain),
		T(test_skiplist_verify_catches_order),
		T(test_skiplist_verify_catches_cycle),
		T(test_skiplist_verify_catches_duplicate),
		T(test_skiplist_verify_catches_count),
		T(test_skiplist_verify_catches_mark),
		T(test_skiplist_verify_catches_upper_mark),
		T(test_skiplist_verify_catches_wild_pointer),
		T(test_skiplist_verify_catches_not_subset),
		T(test_skiplist_verify_catches_level_order),
		T(test_skiplist_verify_catches_level_skip_back),
		T(test_skiplist_verify_catches_level_height),
		T(test_skiplist_exhaustion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
