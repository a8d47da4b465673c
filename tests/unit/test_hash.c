// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_hash.h on a standalone arena. */
#include "unit.h"
#include "ds_hash.c"	/* white-box: its internal helpers too */

#define K DS_KIND_hash

static void test_hash_api(void **state)
{
	struct ds_hash_head *h = ds_create(K);
	struct ds_req r;

	(void)state;
	assert_non_null(h);
	assert_int_equal(h->nbuckets, DS_HASH_BUCKETS);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 1, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 1, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 50, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 3, 30, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, ~0ULL, 90, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 0, 1, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 51, NULL), DS_ERROR_EXISTS);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 5, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 50);	/* EXISTS left the value alone */
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, ~0ULL, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 90);
	/* Unordered: pop and range are not supported. */
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_INVALID);
	assert_int_equal(unit_op(K, h, DS_OP_RANGE, 0, 10, NULL), DS_ERROR_INVALID);
	/* In-place update. */
	assert_int_equal(ds_hash_update(h, 5, 55), DS_SUCCESS);
	assert_int_equal(ds_hash_update(h, 6, 66), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 5, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 55);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 5, 0, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 5, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_hash_update(h, 5, 56), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == 3);
	assert_true(ds_metadata_of(K)->caps == DS_CAP_KEYED);
}

/* Sequential and strided keys spread over the buckets. */
static void test_hash_spread(void **state)
{
	unsigned int *cnt = calloc(DS_HASH_BUCKETS, sizeof(*cnt));
	unsigned int i, max = 0, empty = 0, stride;
	const unsigned int n = DS_HASH_BUCKETS * 4;

	(void)state;
	assert_non_null(cnt);
	for (stride = 1; stride <= 1U << 20; stride <<= 10) {
		memset(cnt, 0, DS_HASH_BUCKETS * sizeof(*cnt));
		max = empty = 0;
		for (i = 0; i < n; i++)
			cnt[ds_hash_bucket_of((__u64)i * stride)]++;
		for (i = 0; i < DS_HASH_BUCKETS; i++) {
			if (cnt[i] > max)
				max = cnt[i];
			empty += !cnt[i];
		}
		/* Poisson(4): max ~ 14, empty ~ 1.8% of the buckets. */
		assert_true(max <= 20);
		assert_true(empty < DS_HASH_BUCKETS / 20);
	}
	free(cnt);
}

static void test_hash_model(void **state)
{
	(void)state;
	unit_model_check_keyed(K, unit_scale(100000), 512, 42);
}

/* Many keys per bucket: the model check with a key range far above the
 * bucket count. */
static void test_hash_model_large(void **state)
{
	(void)state;
	unit_model_check_keyed(K, unit_scale(100000), 1U << 16, 7);
}

static void test_hash_stress(void **state)
{
	struct skel_mix mix = { .insert = 50, .delete = 30 };

	(void)state;
	unit_stress(K, 4, unit_scale(100000), 256, mix);
}

static void test_hash_stress_wide(void **state)
{
	struct skel_mix mix = { .insert = 40, .delete = 40 };

	(void)state;
	unit_stress(K, 4, unit_scale(100000), 50000, mix);
}

struct upd_arg {
	struct ds_hash_head *h;
	int id;
	pthread_barrier_t *b;
};

/* Updaters write values tagged with the key; readers must only ever see
 * such values. */
static void *upd_worker(void *p)
{
	struct upd_arg *a = p;
	__u64 rng = 99 + a->id, k, v = 0, i;
	int rc;

	pthread_barrier_wait(a->b);
	for (i = 0; i < unit_scale(100000); i++) {
		k = wl_next(&rng) % 64;
		if (a->id & 1) {
			rc = ds_hash_update(a->h, k, k << 32 | (i & 0xffffffff));
			assert_true(rc == DS_SUCCESS);
		} else {
			rc = ds_hash_search(a->h, k, &v);
			assert_true(rc == DS_SUCCESS);
			assert_true(v >> 32 == k);
		}
	}
	return NULL;
}

static void test_hash_update_concurrent(void **state)
{
	struct ds_hash_head *h = ds_create(K);
	struct upd_arg a[4];
	pthread_t t[4];
	pthread_barrier_t b;
	__u64 k;
	int i;

	(void)state;
	for (k = 0; k < 64; k++)
		assert_int_equal(ds_hash_insert(h, k, k << 32), DS_SUCCESS);
	pthread_barrier_init(&b, NULL, 4);
	for (i = 0; i < 4; i++) {
		a[i] = (struct upd_arg){ .h = h, .id = i, .b = &b };
		assert_int_equal(pthread_create(&t[i], NULL, upd_worker, &a[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&b);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
}

/* A table with keys 0, 1, ..., n-1 (value = key). */
static void *hash_with(int n)
{
	void *h = ds_create(K);
	int i;

	assert_non_null(h);
	for (i = 0; i < n; i++)
		assert_int_equal(ds_hash_insert(h, i, i), DS_SUCCESS);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	return h;
}

/* A bucket holding at least two nodes; its first node. */
static struct ds_hash_node *crowded(struct ds_hash_head *h, __u32 *bucket)
{
	struct ds_hash_node *n;
	__u32 b;

	for (b = 0; b < DS_HASH_BUCKETS; b++) {
		n = DS_HASH_PTR(h->bucket[b]);
		if (n && n->next) {
			*bucket = b;
			return n;
		}
	}
	fail_msg("no bucket with two nodes");
	return NULL;
}

/* The second node of that bucket. */
static struct ds_hash_node *second(struct ds_hash_head *h)
{
	__u32 b;

	return DS_HASH_PTR(crowded(h, &b)->next);
}

static void plant_wrong_bucket(void *p)
{
	struct ds_hash_head *h = p;
	struct ds_hash_node *n;
	__u32 b, other;

	n = crowded(h, &b);
	other = (b + 1) & DS_HASH_MASK;
	/* Move the first node of bucket b to the front of another bucket. */
	h->bucket[b] = n->next;
	n->next = h->bucket[other];
	h->bucket[other] = (__u64)n;
}

static void plant_order(void *h)
{
	struct ds_hash_node *m = second(h), *n;
	__u32 b;
	__u64 t;

	n = crowded(h, &b);
	t = n->key;		/* same bucket, swapped order */
	n->key = m->key;
	m->key = t;
}

static void plant_cycle(void *h)
{
	struct ds_hash_node *m = second(h);
	__u32 b;

	m->next = (__u64)crowded(h, &b);
}

static void plant_duplicate(void *h)
{
	struct ds_hash_node *m = second(h);
	__u32 b;

	m->key = crowded(h, &b)->key;
}

static void plant_count(void *p)
{
	struct ds_hash_head *h = p;
	struct ds_hash_node *n;
	__u32 b;

	n = crowded(h, &b);
	h->bucket[b] = n->next;	/* drop a node behind the counters' back */
}

static void plant_mark(void *h)
{
	__u32 b;

	crowded(h, &b)->next |= DS_HASH_MARK;
}

static void plant_wild_pointer(void *h)
{
	struct ds_hash_node *n;
	__u32 b;

	n = crowded(h, &b);
	n->next = 0xdead0000;
	unit_expect_corrupt(K, h, DS_CORRUPT_POINTER);
	n->next = ARENA_BASE + 4;	/* in the arena, misaligned */
}

#define CORRUPTION(what, why) \
	{ "test_hash_verify_catches_" #what, K, hash_with, 10000, plant_##what, why }

static const struct unit_corruption corruptions[] = {
	CORRUPTION(wrong_bucket, DS_CORRUPT_SHAPE),
	CORRUPTION(order, DS_CORRUPT_ORDER),
	CORRUPTION(cycle, DS_CORRUPT_ORDER),
	CORRUPTION(duplicate, DS_CORRUPT_DUPLICATE),
	CORRUPTION(count, DS_CORRUPT_COUNT),
	CORRUPTION(mark, DS_CORRUPT_MARK),
	CORRUPTION(wild_pointer, DS_CORRUPT_POINTER),
};

/* Running dry: NOMEM, nothing lost, and works again after deletes. */
static void test_hash_exhaustion(void **state)
{
	struct ds_hash_head *h;
	__u64 k, stored;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(64), 0);
	h = ds_create(K);
	assert_non_null(h);
	stored = unit_fill_until_nomem(K, h, 100000, 0);
	assert_true(stored > 100);
	for (k = 0; k < stored; k++) {
		__u64 v = ~0ULL;

		assert_int_equal(ds_hash_search(h, k, &v), DS_SUCCESS);
		assert_true(v == k);
	}
	assert_int_equal(ds_hash_search(h, stored, NULL), DS_ERROR_NOT_FOUND);
	for (k = 0; k < 10; k++)
		assert_int_equal(ds_hash_delete(h, k), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(ds_hash_insert(h, stored + 1, 0), DS_SUCCESS);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	assert_true(unit_alloc_current() == (__s64)(stored - 10 + 1));
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hash_api),
		T(test_hash_spread),
		T(test_hash_model),
		T(test_hash_model_large),
		T(test_hash_stress),
		T(test_hash_stress_wide),
		T(test_hash_update_concurrent),
		T(test_hash_exhaustion),
	};

	return UNIT_RUN_TESTS(tests, corruptions);
}
