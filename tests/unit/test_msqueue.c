// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ds_msqueue.h (Michael-Scott FIFO) on a standalone arena. */
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
	(void)state;
	unit_model_check_seq(&(struct unit_seq){ .kind = K, .order = UNIT_FIFO,
						 .nops = unit_scale(100000), .seed = 4242 });
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

static void qs_run(int nprod, int ncons, unsigned long per_prod, unsigned pop_pct)
{
	unit_prodcons(&(struct unit_pc){ .kind = K, .order = UNIT_FIFO, .nprod = nprod,
					 .ncons = ncons, .per_prod = per_prod,
					 .pop_pct = pop_pct, .cons_share = 100,
					 .seed = 0x5eed });
}

static void test_msqueue_stress_prod_cons(void **state)
{
	(void)state;
	qs_run(2, 2, unit_scale(100000), 0);
}

static void test_msqueue_stress_mixed(void **state)
{
	(void)state;
	qs_run(4, 0, unit_scale(50000), 50);
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

/* Node 0 is the dummy, 1..n the elements. */
static const struct unit_chain chain = {
	K, offsetof(struct ds_msqueue_head, head), offsetof(struct ds_msqueue_node, next)
};

static void plant_cycle(void *h)
{
	unit_chain_cycle(&chain, h, 5, 2);
}

static void plant_long_cycle(void *h)
{
	unit_chain_cycle(&chain, h, 300, 17);
}

static void plant_count(void *p)
{
	struct ds_msqueue_head *h = p;

	unit_chain_drop(&chain, h, 3);
	ds_count(&h->stats, DS_OP_POP, DS_SUCCESS);	/* a pop that never happened */
}

static void plant_wild_pointer(void *h)
{
	unit_chain_wild(&chain, h, 3, 3);
}

static void plant_bad_tail(void *p)
{
	struct ds_msqueue_head *h = p;
	__u64 good = h->tail;
	void *stray;

	h->tail = (__u64)unit_chain_nth(&chain, h, 4);	/* one behind: allowed (enqueue half done) */
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	h->tail = (__u64)unit_chain_nth(&chain, h, 2);	/* on the chain but far behind */
	unit_expect_corrupt(K, h, DS_CORRUPT_SHAPE);
	stray = bpf_arena_alloc(sizeof(struct ds_msqueue_node));
	assert_non_null(stray);
	h->tail = (__u64)stray;		/* a valid object off the chain */
	unit_expect_corrupt(K, h, DS_CORRUPT_SHAPE);
	h->tail = 0xdead0000;		/* outside the arena */
	unit_expect_corrupt(K, h, DS_CORRUPT_POINTER);
	h->tail = good;
	assert_int_equal(ds_msqueue_verify(h), DS_SUCCESS);
	h->head = 0;			/* no dummy */
}

#define CORRUPTION(what, n, why) \
	{ "test_msqueue_verify_catches_" #what, K, NULL, n, plant_##what, why }

static const struct unit_corruption corruptions[] = {
	CORRUPTION(cycle, 5, DS_CORRUPT_CYCLE),
	CORRUPTION(long_cycle, 300, DS_CORRUPT_CYCLE),
	CORRUPTION(count, 5, DS_CORRUPT_COUNT),
	CORRUPTION(wild_pointer, 5, DS_CORRUPT_POINTER),
	CORRUPTION(bad_tail, 5, DS_CORRUPT_SHAPE),
};

/* Running dry: NOMEM, nothing lost (order kept), works after dequeues. */
static void test_msqueue_exhaustion(void **state)
{
	struct ds_msqueue_head *h;
	__u64 i, stored, k = 0, v = 0;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(64), 0);
	h = ds_create(K);
	assert_non_null(h);
	stored = unit_fill_until_nomem(K, h, 100000, 1000);
	assert_true(stored > 100);
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
		cmocka_unit_test_setup_teardown(test_msqueue_exhaustion, unit_setup, unit_teardown),
	};

	return UNIT_RUN_TESTS(tests, corruptions);
}
