// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_msqueue.h (Michael-Scott FIFO) on a standalone arena. */
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

#define K DS_KIND_msqueue

static void test_msqueue_api(void **state)
{
	struct ds_msqueue_head *h = ds_create(K);
	const struct ds_metadata *md = ds_metadata_of(K);
	struct ds_req r;

	(void)state;
	assert_non_null(h);
	assert_non_null(md);
	assert_true(md->caps == (DS_CAP_POP | DS_CAP_FIFO));
	assert_int_equal(md->fixed_objects, 1);
	assert_true(unit_alloc_current() == 1);	/* the dummy */
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 7, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 7, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 50, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 3, 30, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 5, 51, NULL), DS_SUCCESS); /* keys repeat */
	assert_int_equal(unit_op(K, h, DS_OP_INSERT, 9, 90, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	/* search finds the oldest element with the key */
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 5, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 50);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 9, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 90);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 4, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_RANGE, 0, 100, NULL), DS_ERROR_INVALID);
	/* pop returns the oldest */
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_key, 5);
	assert_int_equal(r.out_value, 50);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 5, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 51);
	/* delete ignores its key: the oldest (3, 30) goes */
	assert_int_equal(unit_op(K, h, DS_OP_DELETE, 9, 0, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(K, h, DS_OP_SEARCH, 3, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_key, 5);
	assert_int_equal(r.out_value, 51);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == 1 + 1);	/* (9, 90) + dummy */
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
	assert_int_equal(r.out_value, 90);
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	/* the aliases are the same operations, uncounted */
	assert_int_equal(ds_msqueue_enqueue_mpmc(h, 1, 2), DS_SUCCESS);
	assert_int_equal(ds_msqueue_dequeue_mpmc(h, &r.out_key, &r.out_value), DS_SUCCESS);
	assert_int_equal(r.out_key, 1);
	assert_int_equal(r.out_value, 2);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == 1);
	assert_int_equal(ds_msqueue_insert(NULL, 1, 1), DS_ERROR_INVALID);
	assert_int_equal(ds_msqueue_verify(NULL), DS_ERROR_INVALID);
}

/*
 * Random operations against a plain array FIFO: every return code, every
 * value and the final contents (in order) must agree.
 */
static void test_msqueue_model(void **state)
{
	unsigned long nops = unit_scale(100000), i, qh = 0, qt = 0, j;
	struct ds_msqueue_head *h = ds_create(K);
	__u64 *rk = calloc(nops, sizeof(*rk)), *rv = calloc(nops, sizeof(*rv));
	__u64 rng = 4242, x, k, v;
	struct ds_req r;
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
			rk[qt] = k;
			rv[qt++] = v;
		} else if (p < 63) {
			rc = unit_op(K, h, DS_OP_DELETE, k, 0, NULL);
			assert_int_equal(rc, qh < qt ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (qh < qt)
				qh++;
		} else if (p < 84) {
			rc = unit_op(K, h, DS_OP_POP, 0, 0, &r);
			assert_int_equal(rc, qh < qt ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (qh < qt) {
				assert_true(r.out_key == rk[qh]);
				assert_true(r.out_value == rv[qh]);
				qh++;
			}
		} else {
			for (j = qh; j < qt && rk[j] != k; j++)
				;
			rc = unit_op(K, h, DS_OP_SEARCH, k, 0, &r);
			assert_int_equal(rc, j < qt ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (j < qt)
				assert_true(r.out_value == rv[j]);
		}
		if ((i & 0x3fff) == 0)
			assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	}
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_true(unit_alloc_current() == (__s64)(qt - qh) + 1);
	/* Final contents, in order. */
	for (; qh < qt; qh++) {
		assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, &r), DS_SUCCESS);
		assert_true(r.out_key == rk[qh]);
		assert_true(r.out_value == rv[qh]);
	}
	assert_int_equal(unit_op(K, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(unit_op(K, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	assert_true(unit_alloc_current() == 1);
	free(rk);
	free(rv);
}

/*
 * An enqueue stalled between linking its node and swinging tail (made by
 * hand here): the next dequeue must first help tail on, so head never
 * passes tail and tail never names a retired node; the next enqueue must
 * help too and link behind the stalled node.
 */
static struct ds_msqueue_node *half_enqueue(struct ds_msqueue_head *h, __u64 key, __u64 value)
{
	struct ds_msqueue_node *n = bpf_arena_alloc(sizeof(*n)), *last;

	assert_non_null(n);
	n->ebr_link = 0;
	n->next = 0;
	n->key = key;
	n->value = value;
	last = DS_MSQUEUE_PTR(h->tail);
	assert_true(last->next == 0);
	last->next = (__u64)n;				/* linked, tail not moved */
	ds_count(&h->stats, DS_OP_INSERT, DS_SUCCESS);
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);	/* one behind is fine */
	return n;
}

static void test_msqueue_helps_half_done_enqueue(void **state)
{
	struct ds_msqueue_head *h = ds_create(K);
	struct ds_msqueue_node *n;
	__u64 k = 0, v = 0;

	(void)state;
	assert_non_null(h);
	/* dequeue meets it on a queue that looks empty from tail */
	n = half_enqueue(h, 1, 10);
	assert_int_equal(ds_msqueue_pop(h, &k, &v), DS_SUCCESS);
	assert_true(k == 1 && v == 10);
	assert_true(h->head == (__u64)n && h->tail == (__u64)n);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	/* enqueue meets it */
	assert_int_equal(ds_msqueue_insert(h, 2, 20), DS_SUCCESS);
	half_enqueue(h, 3, 30);
	assert_int_equal(ds_msqueue_insert(h, 4, 40), DS_SUCCESS);
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	for (k = 2; k <= 4; k++) {
		assert_int_equal(ds_msqueue_pop(h, NULL, &v), DS_SUCCESS);
		assert_true(v == k * 10);
	}
	assert_int_equal(ds_msqueue_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	assert_true(unit_alloc_current() == 1);
}

/* ---- multi-thread: every value dequeued exactly once, per-producer FIFO */

#define QS_MAX_PROD 8

struct qs_shared {
	struct ds_msqueue_head *h;
	int nprod;
	unsigned long per_prod;
	unsigned char *seen[QS_MAX_PROD];	/* times each (producer, seq) came out */
	unsigned long consumed;			/* atomic */
	unsigned long total;
	pthread_barrier_t barrier;
};

struct qs_thread {
	pthread_t tid;
	struct qs_shared *s;
	int id;
	int produce;		/* producer id + 1, or 0 */
	int consume;
	double pop_share;	/* mixed threads: chance to pop after a push */
	long last[QS_MAX_PROD];	/* last sequence seen per producer */
	unsigned long bad_order, bad_value, errors, popped;
};

/* Take one element as consumer @t; 1 if one came out. */
static int qs_take(struct qs_thread *t)
{
	struct qs_shared *s = t->s;
	__u64 k, v, prod, seq;
	int rc;

	rc = ds_msqueue_pop(s->h, &k, &v);
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
	if ((long)seq <= t->last[prod])
		t->bad_order++;
	t->last[prod] = (long)seq;
	__atomic_fetch_add(&s->seen[prod][seq], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->consumed, 1, __ATOMIC_RELAXED);
	t->popped++;
	return 1;
}

static void *qs_worker(void *arg)
{
	struct qs_thread *t = arg;
	struct qs_shared *s = t->s;
	__u64 rng = 0x5eed + t->id, p;
	unsigned long i;
	int rc;

	pthread_barrier_wait(&s->barrier);
	if (t->produce) {
		p = t->produce - 1;
		for (i = 0; i < s->per_prod; i++) {
			rc = ds_msqueue_insert(s->h, p, p << 32 | i);
			if (rc != DS_SUCCESS) {
				t->errors++;
				continue;
			}
			if (t->consume && (wl_next(&rng) % 100) < t->pop_share * 100)
				qs_take(t);
		}
		return NULL;
	}
	while (__atomic_load_n(&s->consumed, __ATOMIC_RELAXED) < s->total) {
		if (!qs_take(t))
			sched_yield();
	}
	return NULL;
}

/*
 * Run @nprod producers and @ncons pure consumers (mixed: producers also pop
 * with probability @pop_share); the main thread drains what is left.
 */
static void qs_run(int nprod, int ncons, unsigned long per_prod, double pop_share)
{
	struct qs_shared s = { 0 };
	struct qs_thread *t, drain = { 0 };
	int n = nprod + ncons, i, p;
	unsigned long j;
	struct ds_stats st;

	assert_true(nprod <= QS_MAX_PROD);
	s.h = ds_create(K);
	assert_non_null(s.h);
	s.nprod = nprod;
	s.per_prod = per_prod;
	s.total = nprod * per_prod;
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
		t[i].consume = i >= nprod || pop_share > 0;
		t[i].pop_share = pop_share;
		for (p = 0; p < QS_MAX_PROD; p++)
			t[i].last[p] = -1;
		assert_int_equal(pthread_create(&t[i].tid, NULL, qs_worker, &t[i]), 0);
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i].tid, NULL);
	pthread_barrier_destroy(&s.barrier);
	/* The main thread is one more consumer. */
	drain.s = &s;
	for (p = 0; p < QS_MAX_PROD; p++)
		drain.last[p] = -1;
	while (qs_take(&drain))
		;
	for (i = 0; i < n; i++) {
		assert_int_equal(t[i].errors, 0);
		assert_int_equal(t[i].bad_value, 0);
		assert_int_equal(t[i].bad_order, 0);
	}
	assert_int_equal(drain.errors, 0);
	assert_int_equal(drain.bad_value, 0);
	assert_int_equal(drain.bad_order, 0);
	assert_true(s.consumed == s.total);
	for (p = 0; p < nprod; p++)
		for (j = 0; j < per_prod; j++)
			if (s.seen[p][j] != 1)
				fail_msg("producer %d seq %lu dequeued %d times", p, j, s.seen[p][j]);
	assert_int_equal(ds_msqueue_pop(s.h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_quiesce(K, s.h), 0);
	assert_int_equal(ds_msqueue_verify(s.h), DS_SUCCESS);
	ds_msqueue_get_stats(s.h, &st);
	assert_true(st.current_elements == 0);
	assert_true(unit_alloc_current() == 0 + 1);
	for (p = 0; p < nprod; p++)
		free(s.seen[p]);
	free(t);
}

static void test_msqueue_stress_prod_cons(void **state)
{
	(void)state;
	qs_run(2, 2, unit_scale(100000), 0);
}

static void test_msqueue_stress_mixed(void **state)
{
	(void)state;
	qs_run(4, 0, unit_scale(50000), 0.5);
}

static void test_msqueue_stress_many_consumers(void **state)
{
	(void)state;
	qs_run(1, 3, unit_scale(100000), 0);
}

/* The generic mix (with scans and deletes) through the registry. */
static void test_msqueue_stress_generic(void **state)
{
	struct skel_mix mix = { .insert = 48, .delete = 24, .pop = 24, .range = 0 };

	(void)state;
	unit_stress(K, 4, unit_scale(50000), 256, mix);
}

/* ---- verify catches corruption */

static struct ds_msqueue_head *queue_with(int n)
{
	struct ds_msqueue_head *h = ds_create(K);
	int i;

	assert_non_null(h);
	for (i = 0; i < n; i++)
		assert_int_equal(ds_msqueue_insert(h, i, i * 10), DS_SUCCESS);
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	return h;
}

/* Node @i of the chain: 0 is the dummy, 1..n the elements. */
static struct ds_msqueue_node *nth(struct ds_msqueue_head *h, int i)
{
	struct ds_msqueue_node *n = DS_MSQUEUE_PTR(h->head);

	while (i--)
		n = DS_MSQUEUE_PTR(n->next);
	return n;
}

static void expect_corrupt(struct ds_msqueue_head *h, int why)
{
	assert_int_equal(ds_msqueue_verify(h), DS_ERROR_CORRUPT);
	assert_int_equal(h->verify_reason, why);
	assert_int_equal(ds_verify_reason(K, h), why);
}

static void test_msqueue_verify_catches_cycle(void **state)
{
	struct ds_msqueue_head *h = queue_with(5);

	(void)state;
	nth(h, 5)->next = (__u64)nth(h, 2);
	expect_corrupt(h, DS_CORRUPT_CYCLE);
	nth(h, 5)->next = (__u64)nth(h, 0);		/* back to the dummy */
	expect_corrupt(h, DS_CORRUPT_CYCLE);
	nth(h, 5)->next = (__u64)nth(h, 5);		/* self loop */
	expect_corrupt(h, DS_CORRUPT_CYCLE);
}

static void test_msqueue_verify_catches_long_cycle(void **state)
{
	struct ds_msqueue_head *h = queue_with(300);

	(void)state;
	nth(h, 300)->next = (__u64)nth(h, 17);
	expect_corrupt(h, DS_CORRUPT_CYCLE);
}

static void test_msqueue_verify_catches_count(void **state)
{
	struct ds_msqueue_head *h = queue_with(5);
	struct ds_msqueue_node *lost;

	(void)state;
	lost = nth(h, 3);
	nth(h, 2)->next = lost->next;	/* drop a node behind the counters' back */
	expect_corrupt(h, DS_CORRUPT_COUNT);
	nth(h, 2)->next = (__u64)lost;	/* repaired */
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	ds_count(&h->stats, DS_OP_POP, DS_SUCCESS);	/* a pop that never happened */
	expect_corrupt(h, DS_CORRUPT_COUNT);
}

static void test_msqueue_verify_catches_wild_pointer(void **state)
{
	struct ds_msqueue_head *h = queue_with(5);

	(void)state;
	nth(h, 3)->next = 0xdead0000;
	expect_corrupt(h, DS_CORRUPT_POINTER);
	nth(h, 3)->next = (__u64)nth(h, 4) + 3;		/* misaligned */
	expect_corrupt(h, DS_CORRUPT_POINTER);
}

static void test_msqueue_verify_catches_bad_tail(void **state)
{
	struct ds_msqueue_head *h = queue_with(5);
	__u64 good = h->tail;
	void *stray;

	(void)state;
	h->tail = (__u64)nth(h, 4);	/* one behind: allowed (enqueue half done) */
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	h->tail = (__u64)nth(h, 2);	/* on the chain but far behind */
	expect_corrupt(h, DS_CORRUPT_SHAPE);
	stray = bpf_arena_alloc(sizeof(struct ds_msqueue_node));
	assert_non_null(stray);
	h->tail = (__u64)stray;		/* a valid object off the chain */
	expect_corrupt(h, DS_CORRUPT_SHAPE);
	h->tail = 0xdead0000;		/* outside the arena */
	expect_corrupt(h, DS_CORRUPT_POINTER);
	h->tail = good;
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	h->head = 0;			/* no dummy */
	expect_corrupt(h, DS_CORRUPT_SHAPE);
}

/* Running dry: NOMEM, nothing lost (order kept), works after dequeues. */
static void test_msqueue_exhaustion(void **state)
{
	struct ds_msqueue_head *h;
	__u64 i, stored = 0, k = 0, v = 0;
	int rc;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(64), 0);
	h = ds_create(K);
	assert_non_null(h);
	for (i = 0; i < 100000; i++) {
		rc = ds_msqueue_insert(h, i, i + 1000);
		if (rc == DS_ERROR_NOMEM)
			break;
		assert_int_equal(rc, DS_SUCCESS);
		stored++;
	}
	assert_int_equal(rc, DS_ERROR_NOMEM);
	assert_true(stored > 100);
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	assert_int_equal(ds_msqueue_search(h, stored - 1, &v), DS_SUCCESS);
	assert_true(v == stored - 1 + 1000);
	for (i = 0; i < 10; i++) {
		assert_int_equal(ds_msqueue_pop(h, &k, &v), DS_SUCCESS);
		assert_true(k == i && v == i + 1000);
	}
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(ds_msqueue_insert(h, stored, stored + 1000), DS_SUCCESS);
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	for (i = 10; i <= stored; i++) {
		assert_int_equal(ds_msqueue_pop(h, &k, &v), DS_SUCCESS);
		assert_true(k == i && v == i + 1000);
	}
	assert_int_equal(ds_msqueue_pop(h, NULL, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	assert_true(unit_alloc_current() == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_msqueue_api, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_model, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_helps_half_done_enqueue, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_stress_prod_cons, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_stress_mixed, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_stress_many_consumers, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_stress_generic, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_verify_catches_cycle, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_verify_catches_long_cycle, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_verify_catches_count, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_verify_catches_wild_pointer, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_verify_catches_bad_tail, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_msqueue_exhaustion, unit_setup, unit_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
