// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_pq.h (binary min-heap priority queue) on a standalone arena. */
#include "unit.h"

#define K DS_KIND_pq

static void test_pq_api(void **state)
{
	void *h = ds_create(K);
	struct ds_req r;

	(void)state;
	assert_non_null(h);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 1, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 1, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 50, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 3, 30, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 9, 90, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 51, NULL), DS_SUCCESS);	/* duplicate */
	/* search is peek: the key is ignored, the minimum answers. */
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 9, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 30);
	assert_int_equal(unit_op(K, h, DS_OP_RANGE, 4, 9, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 3);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_key, 3);
	assert_int_equal(r.out_value, 30);
	/* delete removes a minimum whatever the key: one of the two 5s. */
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 9, 0, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_key, 5);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_key, 9);
	assert_int_equal(r.out_value, 90);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 5, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 5, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == 0);	/* elements are inline */
}

/* Heap sort: random keys come out sorted. */
static void test_pq_sorts(void **state)
{
	struct ds_pq_head *h = ds_create(K);
	__u64 rng = 99, k, v, last = 0;
	int i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		k = wl_next(&rng) % 5000;
		assert_int_equal(ds_pq_insert(h, k, k + 1), DS_SUCCESS);
	}
	assert_int_equal(ds_pq_verify(h), DS_SUCCESS);
	for (i = 0; i < 10000; i++) {
		assert_int_equal(ds_pq_pop(h, &k, &v), DS_SUCCESS);
		assert_true(k >= last);
		assert_int_equal(v, k + 1);
		last = k;
	}
	assert_int_equal(ds_pq_pop(h, &k, &v), DS_ERROR_NOT_FOUND);
}

/*
 * Reference model: a multiset of keys (count per key).  Values carry
 * (key << 32 | sequence) so a popped or found value can be traced back to
 * its insert; each sequence may leave the queue once.
 */
static void pq_model(unsigned long nops, __u32 key_range, __u64 seed)
{
	struct ds_pq_head *h = ds_create(K);
	__u32 *cnt = calloc(key_range, sizeof(*cnt));
	unsigned char *gone = calloc(nops + 1, 1);
	__u64 rng = seed, n = 0, seq = 0, k, m, x, c = 0, v = 0, pk = 0;
	unsigned long i;
	int rc;

	assert_non_null(h);
	assert_non_null(cnt);
	assert_non_null(gone);
	for (i = 0; i < nops; i++) {
		x = wl_next(&rng);
		k = (x >> 32) % key_range;
		switch (x % 100) {
		case 0 ... 39:
			seq++;
			rc = ds_pq_insert(h, k, k << 32 | seq);
			assert_int_equal(rc, DS_SUCCESS);
			cnt[k]++;
			n++;
			break;
		case 40 ... 64:
			rc = ds_pq_pop(h, &pk, &v);
			if (!n) {
				assert_int_equal(rc, DS_ERROR_NOT_FOUND);
				break;
			}
			assert_int_equal(rc, DS_SUCCESS);
			for (m = 0; !cnt[m]; m++)
				;
			assert_int_equal(pk, m);
			assert_int_equal(v >> 32, m);
			assert_false(gone[v & 0xffffffff]);
			gone[v & 0xffffffff] = 1;
			cnt[m]--;
			n--;
			break;
		case 65 ... 79:
			/* delete: a minimum goes, which of equal keys is open. */
			rc = ds_pq_delete(h, k);
			if (!n) {
				assert_int_equal(rc, DS_ERROR_NOT_FOUND);
				break;
			}
			assert_int_equal(rc, DS_SUCCESS);
			for (m = 0; !cnt[m]; m++)
				;
			cnt[m]--;
			n--;
			break;
		case 80 ... 94:
			/* search: peek at a minimum. */
			rc = ds_pq_search(h, k, &v);
			if (!n) {
				assert_int_equal(rc, DS_ERROR_NOT_FOUND);
				break;
			}
			assert_int_equal(rc, DS_SUCCESS);
			for (m = 0; !cnt[m]; m++)
				;
			assert_int_equal(v >> 32, m);
			assert_false(gone[v & 0xffffffff]);
			break;
		default:
			rc = ds_pq_range(h, k, k + (x & 31), &c);
			assert_int_equal(rc, DS_SUCCESS);
			for (v = 0, m = k; m <= k + (x & 31) && m < key_range; m++)
				v += cnt[m];
			assert_int_equal(c, v);
			break;
		}
	}
	assert_int_equal(h->count, n);
	assert_int_equal(ds_pq_verify(h), DS_SUCCESS);
	/* Final contents: draining gives exactly the reference multiset, sorted. */
	for (m = 0; m < key_range; m++) {
		while (cnt[m]) {
			assert_int_equal(ds_pq_pop(h, &pk, &v), DS_SUCCESS);
			assert_int_equal(pk, m);
			assert_false(gone[v & 0xffffffff]);
			gone[v & 0xffffffff] = 1;
			cnt[m]--;
		}
	}
	assert_int_equal(ds_pq_pop(h, &pk, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_pq_verify(h), DS_SUCCESS);
	assert_true(unit_alloc_current() == 0);
	free(cnt);
	free(gone);
}

static void test_pq_model(void **state)
{
	(void)state;
	pq_model(unit_scale(100000), 1024, 42);
}

static void test_pq_model_dups(void **state)
{
	(void)state;
	pq_model(unit_scale(100000), 16, 5);
}

/* Full at capacity; nothing lost; room again after a pop. */
static void test_pq_full(void **state)
{
	struct ds_pq_head *h = ds_create(K);
	__u64 k, v;

	(void)state;
	for (k = 0; k < DS_PQ_CAPACITY; k++)
		assert_int_equal(ds_pq_insert(h, DS_PQ_CAPACITY - k, k), DS_SUCCESS);
	assert_int_equal(ds_pq_insert(h, 0, 0), DS_ERROR_FULL);
	assert_int_equal(ds_pq_verify(h), DS_SUCCESS);
	assert_int_equal(ds_pq_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 1);
	assert_int_equal(ds_pq_insert(h, 0, 7), DS_SUCCESS);
	assert_int_equal(ds_pq_pop(h, &k, &v), DS_SUCCESS);
	assert_int_equal(k, 0);
	assert_int_equal(v, 7);
	assert_int_equal(ds_pq_verify(h), DS_SUCCESS);
}

/* 2 producers insert unique values, 2 consumers pop: at the end (after a
 * drain) every value came out exactly once, and verify passes. */
#define PQ_PRODUCERS 2
#define PQ_CONSUMERS 2

struct pq_thread {
	pthread_t tid;
	struct ds_pq_head *h;
	int id;
	unsigned long nops;
	unsigned char *seen;		/* consumers: values popped */
	unsigned long popped;
	unsigned long errors;		/* checked by the main thread */
	volatile int *producers_done;
	pthread_barrier_t *barrier;
};

static void *pq_producer(void *arg)
{
	struct pq_thread *t = arg;
	__u64 rng = 0x777 + t->id, v, k;
	unsigned long i;
	int rc;

	pthread_barrier_wait(t->barrier);
	for (i = 0; i < t->nops; i++) {
		v = (__u64)t->id * t->nops + i;
		k = wl_next(&rng) % 1000;
		while ((rc = ds_pq_insert(t->h, k, v)) == DS_ERROR_FULL)
			sched_yield();	/* consumers will make room */
		if (rc != DS_SUCCESS)
			t->errors++;
	}
	__atomic_add_fetch(t->producers_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *pq_consumer(void *arg)
{
	struct pq_thread *t = arg;
	__u64 k = 0, v = 0;	/* set by a successful pop */
	int rc;

	pthread_barrier_wait(t->barrier);
	for (;;) {
		rc = ds_pq_pop(t->h, &k, &v);
		if (rc == DS_ERROR_NOT_FOUND) {
			if (__atomic_load_n(t->producers_done, __ATOMIC_SEQ_CST) == PQ_PRODUCERS)
				break;
			continue;
		}
		if (rc != DS_SUCCESS || k >= 1000 || t->seen[v]) {
			t->errors++;
			continue;
		}
		t->seen[v] = 1;
		t->popped++;
	}
	return NULL;
}

static void test_pq_stress(void **state)
{
	struct pq_thread t[PQ_PRODUCERS + PQ_CONSUMERS] = {};
	unsigned long nops = unit_scale(50000), total = PQ_PRODUCERS * nops, v, popped = 0;
	struct ds_pq_head *h = ds_create(K);
	pthread_barrier_t barrier;
	volatile int done = 0;
	__u64 k, pv;
	int i;

	(void)state;
	pthread_barrier_init(&barrier, NULL, PQ_PRODUCERS + PQ_CONSUMERS);
	for (i = 0; i < PQ_PRODUCERS + PQ_CONSUMERS; i++) {
		t[i].h = h;
		t[i].id = i;
		t[i].nops = nops;
		t[i].producers_done = &done;
		t[i].barrier = &barrier;
		t[i].seen = calloc(total, 1);
		assert_int_equal(pthread_create(&t[i].tid, NULL,
						i < PQ_PRODUCERS ? pq_producer : pq_consumer,
						&t[i]), 0);
	}
	for (i = 0; i < PQ_PRODUCERS + PQ_CONSUMERS; i++)
		pthread_join(t[i].tid, NULL);
	pthread_barrier_destroy(&barrier);
	for (i = 0; i < PQ_PRODUCERS + PQ_CONSUMERS; i++)
		assert_int_equal(t[i].errors, 0);
	assert_int_equal(ds_pq_verify(h), DS_SUCCESS);
	/* Drain what is left (consumers may stop before the last inserts). */
	while (ds_pq_pop(h, &k, &pv) == DS_SUCCESS) {
		assert_false(t[0].seen[pv]);
		t[0].seen[pv] = 1;
		popped++;
	}
	for (i = PQ_PRODUCERS; i < PQ_PRODUCERS + PQ_CONSUMERS; i++)
		popped += t[i].popped;
	assert_int_equal(popped, total);
	for (v = 0; v < total; v++) {
		int times = 0;

		for (i = 0; i < PQ_PRODUCERS + PQ_CONSUMERS; i++)
			times += t[i].seen[v];
		assert_int_equal(times, 1);
	}
	assert_int_equal(ds_pq_verify(h), DS_SUCCESS);
	assert_int_equal(h->count, 0);
	for (i = 0; i < PQ_PRODUCERS + PQ_CONSUMERS; i++)
		free(t[i].seen);
}

static struct ds_pq_head *pq_with(int n)
{
	struct ds_pq_head *h = ds_create(K);
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(ds_pq_insert(h, (i * 37) % 101, i), DS_SUCCESS);
	assert_int_equal(ds_pq_verify(h), DS_SUCCESS);
	return h;
}

static void test_pq_verify_catches_order(void **state)
{
	struct ds_pq_head *h = pq_with(100);

	(void)state;
	h->heap[0].key = 1000;		/* the head is no longer the minimum */
	unit_expect_corrupt(K, h, DS_CORRUPT_ORDER);
}

static void test_pq_verify_catches_deep_order(void **state)
{
	struct ds_pq_head *h = pq_with(100);

	(void)state;
	h->heap[34].key = h->heap[70].key + 1;	/* above its child 70 */
	unit_expect_corrupt(K, h, DS_CORRUPT_ORDER);
}

static void test_pq_verify_catches_count(void **state)
{
	struct ds_pq_head *h = pq_with(100);

	(void)state;
	h->count--;			/* an element lost behind the counters' back */
	unit_expect_corrupt(K, h, DS_CORRUPT_COUNT);
}

static void test_pq_verify_catches_capacity(void **state)
{
	struct ds_pq_head *h = pq_with(100);

	(void)state;
	h->count = DS_PQ_CAPACITY + 1;
	unit_expect_corrupt(K, h, DS_CORRUPT_INDEX);
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pq_api),
		T(test_pq_sorts),
		T(test_pq_model),
		T(test_pq_model_dups),
		T(test_pq_full),
		T(test_pq_stress),
		T(test_pq_verify_catches_order),
		T(test_pq_verify_catches_deep_order),
		T(test_pq_verify_catches_count),
		T(test_pq_verify_catches_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
