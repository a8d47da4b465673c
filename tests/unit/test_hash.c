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

/*
 * Model check against a plain reference across growth and shrink: a table
 * of capacity 2 filled (insert-heavy), then drained (delete-heavy), then
 * emptied; small resize steps (the operations' own ones locked out) leave
 * it in the middle of a growth much of the time; then emptied, and filled
 * again with the operations resizing it themselves.  Every
 * answer and value must agree with the reference; verify at regular points.
 */
static void test_hash_model_resize(void **state)
{
	const __u32 range = 1U << 15;
	struct ds_hash_head *h = ds_hash_new_cap(2);
	unsigned char *present = calloc(range, 1);
	__u64 *val = calloc(range, sizeof(*val));
	__u64 rng = 5, x, k, v, n = 0, i, nops = 200000, mid = 0;	/* any build */
	int phase, p, rc, ins, del;

	(void)state;
	assert_non_null(h);
	assert_non_null(present);
	assert_non_null(val);
	h->resize_lock = 1;
	for (phase = 0; phase < 2; phase++) {
		ins = phase ? 5 : 70;
		del = phase ? 80 : 15;
		for (i = 0; i < nops; i++) {
			x = wl_next(&rng);
			p = x % 100;
			k = (x >> 32) % range;
			if (p < ins) {
				rc = ds_hash_insert(h, k, x);
				assert_int_equal(rc, present[k] ? DS_ERROR_EXISTS : DS_SUCCESS);
				if (!present[k]) {
					present[k] = 1;
					val[k] = x;
					n++;
				}
			} else if (p < ins + del) {
				rc = ds_hash_delete(h, k);
				assert_int_equal(rc, present[k] ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
				if (present[k]) {
					present[k] = 0;
					n--;
				}
			} else {
				v = ~0ULL;
				rc = ds_hash_search(h, k, &v);
				assert_int_equal(rc, present[k] ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
				if (present[k])
					assert_true(v == val[k]);
			}
			if (!(i & 63)) {
				/* Only here: the ops' own resizes find it locked. */
				h->resize_lock = 0;
				ds_hash_resize_step(h, 16);
				h->resize_lock = 1;
			}
			mid += h->ninit < h->span;
			if (!(i & 8191))
				assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
		}
		assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
		/* Let the resize catch up: load factor in [1/8, 1]. */
		h->resize_lock = 0;
		while ((rc = ds_hash_maintain(h)) == DS_ERROR_BUSY)
			;
		assert_int_equal(rc, DS_SUCCESS);
		h->resize_lock = 1;
		assert_true(h->nbuckets >= n && n * 8 >= h->nbuckets);
		assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
		if (!phase)
			assert_true(h->grows >= 12);	/* 2 -> 8192 at least */
	}
	h->resize_lock = 0;
	assert_true(h->shrinks >= 1);
	assert_true(mid > nops / 10);		/* ops did run mid-growth */
	/* Empty it: shrinks back to the creation size. */
	for (k = 0; k < range; k++) {
		assert_int_equal(ds_hash_delete(h, k), present[k] ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
		present[k] = 0;
	}
	while ((rc = ds_hash_maintain(h)) == DS_ERROR_BUSY)
		;
	assert_int_equal(rc, DS_SUCCESS);
	assert_int_equal(h->nbuckets, 2);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	/* And grows again, through the dummies kept from before. */
	for (k = 0; k < 5000; k++)
		assert_int_equal(ds_hash_insert(h, k, k), DS_SUCCESS);
	assert_true(h->nbuckets >= 4096);
	for (k = 0; k < 5000; k++)
		assert_int_equal(ds_hash_search(h, k, &v), DS_SUCCESS);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == 5000);
	free(present);
	free(val);
}

#define STABLE_BASE (1ULL << 40)
#define STABLE_N 1000

struct grow_arg {
	struct ds_hash_head *h;
	int id;
	int phase;			/* 0: mixed, 1: delete every key */
	unsigned long nops;
	pthread_barrier_t *b;
	volatile int *stop;
	__u64 stable_miss;
	struct skel_counts counts;
};

/* Mixed operations on this thread's keys, and searches of the stable
 * keys, which must never miss. */
static void *grow_worker(void *p)
{
	struct grow_arg *a = p;
	__u64 rng = 1000 + a->id * 7 + a->phase, x, k, v;
	unsigned long i;
	int rc, op;

	pthread_barrier_wait(a->b);
	for (i = 0; i < a->nops; i++) {
		x = wl_next(&rng);
		k = (x >> 24) % 60000;
		op = x % 10 < 6 ? DS_OP_INSERT : x % 10 < 8 ? DS_OP_DELETE : DS_OP_SEARCH;
		if (a->phase) {
			/* Every key of this thread's third, in order; then
			 * stable searches until the table has shrunk. */
			k = i * 3 + a->id;
			op = k < 60000 ? DS_OP_DELETE : DS_OP_SEARCH;
			if (k >= 60000 && (__atomic_load_n(&a->h->shrinks, __ATOMIC_RELAXED) ||
					   i > 5000000))
				break;
		}
		if (op == DS_OP_INSERT)
			rc = ds_hash_insert(a->h, k, k);
		else if (op == DS_OP_DELETE)
			rc = ds_hash_delete(a->h, k);
		else
			rc = ds_hash_search(a->h, k, &v);
		skel_count(&a->counts, op, rc);
		k = STABLE_BASE + x % STABLE_N;
		v = 0;
		if (ds_hash_search(a->h, k, &v) != DS_SUCCESS || v != k)
			a->stable_miss++;
	}
	return NULL;
}

/* Keeps taking small resize steps until the workers are done. */
static void *resizer(void *p)
{
	struct grow_arg *a = p;
	__u64 rng = 77;

	pthread_barrier_wait(a->b);
	while (!__atomic_load_n(a->stop, __ATOMIC_ACQUIRE))
		ds_hash_resize_step(a->h, 1 + wl_next(&rng) % 32);
	return NULL;
}

/*
 * Threads insert, delete and search while the table grows from capacity 2
 * (phase 0), then delete every key while it shrinks (phase 1), with a resizer thread
 * taking small steps throughout; keys inserted before and never deleted are
 * found by every search.  Then no errors, verify, and conservation.
 */
static void test_hash_stress_resize(void **state)
{
	struct ds_hash_head *h = ds_hash_new_cap(2);
	struct grow_arg a[4];
	pthread_t t[4];
	pthread_barrier_t b;
	volatile int stop;
	__s64 live = STABLE_N;
	__u64 k, grows = 0;
	int i, e, phase;

	(void)state;
	assert_non_null(h);
	h->resize_lock = 1;	/* stable keys in, table held at 2 buckets */
	for (k = 0; k < STABLE_N; k++)
		assert_int_equal(ds_hash_insert(h, STABLE_BASE + k, STABLE_BASE + k), DS_SUCCESS);
	h->resize_lock = 0;
	for (phase = 0; phase < 2; phase++) {
		stop = 0;
		pthread_barrier_init(&b, NULL, 4);
		for (i = 0; i < 4; i++) {
			a[i] = (struct grow_arg){ .h = h, .id = i, .phase = phase, .b = &b,
						  .stop = &stop,
						  .nops = phase ? ~0UL : unit_scale(60000) };
			assert_int_equal(pthread_create(&t[i], NULL, i == 3 ? resizer : grow_worker,
							&a[i]), 0);
		}
		for (i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		/* Phase 1: the resizer may still be catching up with the
		 * drained table on a loaded machine: give it up to 10 s to
		 * shrink before it is stopped. */
		for (i = 0; phase && i < 1000 && !__atomic_load_n(&h->shrinks, __ATOMIC_RELAXED); i++)
			usleep(10000);
		__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
		pthread_join(t[3], NULL);
		pthread_barrier_destroy(&b);
		for (i = 0; i < 3; i++) {
			assert_int_equal(a[i].stable_miss, 0);
			for (e = 1; e < DS_NR_ERRORS; e++)
				if (!ds_rc_is_miss(ds_err_of_index(e)) && a[i].counts.err[e])
					fail_msg("thread %d: %llu x %s", i,
						 (unsigned long long)a[i].counts.err[e], ds_strerror(ds_err_of_index(e)));
			live += a[i].counts.ok[DS_OP_INSERT] - a[i].counts.ok[DS_OP_DELETE];
		}
		assert_int_equal(ds_quiesce(K, h), 0);
		assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
		assert_true(unit_alloc_current() == live);
		if (!phase) {
			grows = h->grows;
			assert_true(grows >= 8);
			/* Growth finished (as housekeeping would): the
			 * resizer of phase 1 has only shrinking to do. */
			while (ds_hash_maintain(h) == DS_ERROR_BUSY)
				;
		}
	}
	if (!h->shrinks)
		fail_msg("no shrink: %u buckets (min %u), %lld counted, ninit %u span %u, lock %u",
			 h->nbuckets, h->min_buckets, (long long)ds_hash_count(h), h->ninit,
			 h->span, h->resize_lock);
	for (k = 0; k < STABLE_N; k++)
		assert_int_equal(ds_hash_search(h, STABLE_BASE + k, NULL), DS_SUCCESS);
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
static struct ds_hash_head *hash_with(int n)
{
	struct ds_hash_head *h = ds_create(K);
	int i;

	assert_non_null(h);
	for (i = 0; i < n; i++)
		assert_int_equal(ds_hash_insert(h, i, i), DS_SUCCESS);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	return h;
}

/* The link word that points to node @n (a link word), or NULL. */
static __u64 *link_to(struct ds_hash_head *h, __u64 n)
{
	__u64 *prev = &DS_HASH_PTR(ds_hash_dummy_link(h, 0))->next;

	while (*prev) {
		if (*prev == n)
			return prev;
		prev = &DS_HASH_PTR(*prev)->next;
	}
	return NULL;
}

/* An element followed by another element (same run); *@prev: the link to
 * the first. */
static struct ds_hash_node *crowded(struct ds_hash_head *h, __u64 **prev)
{
	__u64 *p = &DS_HASH_PTR(ds_hash_dummy_link(h, 0))->next;
	struct ds_hash_node *n;

	while (*p) {
		n = DS_HASH_PTR(*p);
		if (!(*p & DS_HASH_DUMMY) && n->next && !(n->next & DS_HASH_DUMMY)) {
			*prev = p;
			return n;
		}
		p = &n->next;
	}
	fail_msg("no run with two elements");
	return NULL;
}

static void expect_corrupt(struct ds_hash_head *h, int why)
{
	assert_int_equal(ds_hash_verify(h), DS_ERROR_CORRUPT);
	assert_int_equal(h->verify_reason, why);
}

/* An element moved out of its bucket's run, just before its dummy. */
static void test_hash_verify_catches_wrong_bucket(void **state)
{
	struct ds_hash_head *h = hash_with(10000);
	struct ds_hash_node *n;
	__u64 *prev, *before, d;

	(void)state;
	/* An element not in bucket 0 (whose dummy heads the list). */
	prev = &DS_HASH_PTR(ds_hash_dummy_link(h, 0))->next;
	for (;;) {
		assert_true(*prev != 0);
		n = DS_HASH_PTR(*prev);
		if (!(*prev & DS_HASH_DUMMY) &&
		    (ds_hash_mix(ds_hash_node_key(n)) & (h->nbuckets - 1)))
			break;
		prev = &n->next;
	}
	d = ds_hash_dummy_link(h, (__u32)(ds_hash_mix(ds_hash_node_key(n)) &
					  (h->nbuckets - 1)));
	*prev = n->next;		/* out ... */
	before = link_to(h, d);
	assert_non_null(before);
	n->next = d;			/* ... and in, before its dummy */
	*before = (__u64)n;
	expect_corrupt(h, DS_CORRUPT_SHAPE);
}

static void test_hash_verify_catches_order(void **state)
{
	struct ds_hash_head *h = hash_with(10000);
	struct ds_hash_node *n, *m;
	__u64 t, *prev;

	(void)state;
	n = crowded(h, &prev);
	m = DS_HASH_PTR(n->next);
	t = n->o;		/* same run, swapped order */
	n->o = m->o;
	m->o = t;
	expect_corrupt(h, DS_CORRUPT_ORDER);
}

static void test_hash_verify_catches_cycle(void **state)
{
	struct ds_hash_head *h = hash_with(10000);
	struct ds_hash_node *n, *m;
	__u64 *prev;

	(void)state;
	n = crowded(h, &prev);
	m = DS_HASH_PTR(n->next);
	m->next = (__u64)n;
	expect_corrupt(h, DS_CORRUPT_ORDER);
}

static void test_hash_verify_catches_duplicate(void **state)
{
	struct ds_hash_head *h = hash_with(10000);
	struct ds_hash_node *n, *m;
	__u64 *prev;

	(void)state;
	n = crowded(h, &prev);
	m = DS_HASH_PTR(n->next);
	m->o = n->o;
	expect_corrupt(h, DS_CORRUPT_DUPLICATE);
}

static void test_hash_verify_catches_count(void **state)
{
	struct ds_hash_head *h = hash_with(10000);
	struct ds_hash_node *n;
	__u64 *prev;

	(void)state;
	n = crowded(h, &prev);
	*prev = n->next;	/* drop a node behind the counters' back */
	expect_corrupt(h, DS_CORRUPT_COUNT);
}

/* The per-slot element counts disagree with the list (the statistics
 * agree). */
static void test_hash_verify_catches_slot_count(void **state)
{
	struct ds_hash_head *h = hash_with(100);

	(void)state;
	h->cnt[ARENA_NR_SLOTS - 1].n++;
	expect_corrupt(h, DS_CORRUPT_COUNT);
}

static void test_hash_verify_catches_mark(void **state)
{
	struct ds_hash_head *h = hash_with(10000);
	struct ds_hash_node *n;
	__u64 *prev;

	(void)state;
	n = crowded(h, &prev);
	n->next |= DS_HASH_MARK;
	expect_corrupt(h, DS_CORRUPT_MARK);
}

static void test_hash_verify_catches_wild_pointer(void **state)
{
	struct ds_hash_head *h = hash_with(10000);
	struct ds_hash_node *n;
	__u64 *prev;

	(void)state;
	n = crowded(h, &prev);
	n->next = 0xdead0000;
	expect_corrupt(h, DS_CORRUPT_POINTER);
	n->next = ARENA_BASE + 4;	/* in the arena, misaligned */
	expect_corrupt(h, DS_CORRUPT_POINTER);
}

/* A dummy unlinked: its bucket's run joins the one before. */
static void test_hash_verify_catches_missing_dummy(void **state)
{
	struct ds_hash_head *h = hash_with(1000);
	__u64 d = ds_hash_dummy_link(h, 5), *before = link_to(h, d);

	(void)state;
	assert_non_null(before);
	*before = DS_HASH_PTR(d)->next;
	expect_corrupt(h, DS_CORRUPT_SHAPE);
}

/* The last dummy unlinked: caught at the end of the list. */
static void test_hash_verify_catches_missing_last_dummy(void **state)
{
	struct ds_hash_head *h = ds_create(K);
	__u64 d = ds_hash_dummy_link(h, h->nbuckets - 1), *before = link_to(h, d);

	(void)state;
	assert_non_null(before);
	assert_int_equal(DS_HASH_PTR(d)->next, 0);	/* empty table: last in the list */
	*before = 0;
	expect_corrupt(h, DS_CORRUPT_SHAPE);
}

/* A dummy with the wrong key, and a link to a dummy at a wrong place. */
static void test_hash_verify_catches_bad_dummy(void **state)
{
	struct ds_hash_head *h = hash_with(1000);
	__u64 d = ds_hash_dummy_link(h, 5), *before = link_to(h, d);

	(void)state;
	DS_HASH_PTR(d)->o ^= 1ULL << 40;
	expect_corrupt(h, DS_CORRUPT_SHAPE);
	DS_HASH_PTR(d)->o ^= 1ULL << 40;
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	*before = d + 16;	/* the neighbouring slot's dummy, tag kept */
	expect_corrupt(h, DS_CORRUPT_SHAPE);
}

/* Sizes that contradict each other, and a segment gone. */
static void test_hash_verify_catches_sizes(void **state)
{
	struct ds_hash_head *h = ds_hash_new_cap(3 * DS_HASH_SEG);
	__u32 v;
	__u64 s;

	(void)state;
	assert_non_null(h);
	assert_int_equal(h->nbuckets, 4 * DS_HASH_SEG);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	v = h->ninit;
	h->ninit = h->nbuckets - 1;		/* fewer dummies than buckets */
	expect_corrupt(h, DS_CORRUPT_SHAPE);
	h->ninit = v;
	v = h->nbuckets;
	h->nbuckets = 3 * DS_HASH_SEG;		/* not a power of two */
	expect_corrupt(h, DS_CORRUPT_SHAPE);
	h->nbuckets = v;
	v = h->span;
	h->span = v + 1;			/* growth claimed, span not 2 x size */
	expect_corrupt(h, DS_CORRUPT_SHAPE);
	h->span = v;
	s = h->dir[2];
	h->dir[2] = 0;
	expect_corrupt(h, DS_CORRUPT_SHAPE);
	h->dir[2] = s;
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
}

/* Mid-resize (growth stopped half way by the budget): verify passes;
 * a new dummy claimed linked but missing is caught. */
static void test_hash_verify_mid_resize(void **state)
{
	struct ds_hash_head *h = ds_hash_new_cap(2);
	__u64 k, d, *before;
	__u32 size;

	(void)state;
	assert_non_null(h);
	assert_int_equal(h->nbuckets, 2);
	/* Fill with the table held at its size: resizes locked out. */
	h->resize_lock = 1;
	for (k = 0; k < 5000; k++)
		assert_int_equal(ds_hash_insert(h, k, k), DS_SUCCESS);
	h->resize_lock = 0;
	assert_int_equal(h->nbuckets, 2);
	while (h->nbuckets < 2048)
		ds_hash_resize_step(h, 1);	/* one dummy per call */
	size = h->nbuckets;
	assert_int_equal(ds_hash_resize_step(h, 700), DS_ERROR_BUSY);
	assert_int_equal(h->nbuckets, size);		/* not published yet */
	assert_int_equal(h->span, 2 * size);
	assert_int_equal(h->ninit, size + 700);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	for (k = 0; k < 5000; k++)
		assert_int_equal(ds_hash_search(h, k, NULL), DS_SUCCESS);
	d = ds_hash_dummy_link(h, size + 699);	/* the last one linked */
	before = link_to(h, d);
	assert_non_null(before);
	*before = DS_HASH_PTR(d)->next;
	expect_corrupt(h, DS_CORRUPT_SHAPE);
	*before = d;
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	assert_int_equal(ds_hash_maintain(h), DS_SUCCESS);
	assert_true(h->nbuckets >= 4096);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
}

/* Running dry: NOMEM, nothing lost, and works again after deletes. */
static void test_hash_exhaustion(void **state)
{
	struct ds_hash_head *h;
	__u64 k, stored = 0;
	int rc = DS_SUCCESS;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(64), 0);
	h = ds_create(K);
	assert_non_null(h);
	for (k = 0; k < 100000; k++) {
		rc = ds_hash_insert(h, k, k);
		if (rc == DS_ERROR_NOMEM)
			break;
		assert_int_equal(rc, DS_SUCCESS);
		stored++;
	}
	assert_int_equal(rc, DS_ERROR_NOMEM);
	assert_true(stored > 100);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
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
		T(test_hash_model_resize),
		T(test_hash_stress_resize),
		T(test_hash_stress),
		T(test_hash_stress_wide),
		T(test_hash_update_concurrent),
		T(test_hash_verify_catches_wrong_bucket),
		T(test_hash_verify_catches_order),
		T(test_hash_verify_catches_cycle),
		T(test_hash_verify_catches_duplicate),
		T(test_hash_verify_catches_count),
		T(test_hash_verify_catches_mark),
		T(test_hash_verify_catches_wild_pointer),
		T(test_hash_verify_catches_slot_count),
		T(test_hash_verify_catches_missing_dummy),
		T(test_hash_verify_catches_missing_last_dummy),
		T(test_hash_verify_catches_bad_dummy),
		T(test_hash_verify_catches_sizes),
		T(test_hash_verify_mid_resize),
		T(test_hash_exhaustion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
