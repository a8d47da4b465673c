// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the linearizability checker (src/lincheck.c): hand-written
 * histories that must pass or fail, the three models, pending operations,
 * the time and memory bounds, the file format and exports, and generated
 * histories from simulated correct and deliberately broken structures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lincheck/lincheck.c"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LT_SANITIZED 1
#endif
#endif

/* Sanitizer builds run the same checks on less work (as unit_scale()). */
static unsigned long lt_scale(unsigned long n)
{
	const char *m = getenv("TEST_MODE");

#ifdef LT_SANITIZED
	n /= 4;
#endif
	return m && !strcmp(m, "stress") ? n * 10 : n;
}

/* Only down (sanitizers), for histories whose search cost grows fast. */
static unsigned long lt_scale_down(unsigned long n)
{
#ifdef LT_SANITIZED
	n /= 4;
#endif
	return n;
}

#define U(n) LIN_CTX_USER(n)
#define K(n) LIN_CTX_KERNEL(n)
#define NF DS_ERROR_NOT_FOUND
#define EX DS_ERROR_EXISTS
#define OK_ DS_SUCCESS
#define PEND LIN_PENDING

/* ctx, op, key, value, rc, out_key, out_value, call, ret */
#define OP(c, o, k, v, rc, ok, ov, call, ret) \
	{ (c), DS_OP_##o, (k), (v), (rc), (ok), (ov), (call), (ret) }

static void lt_build(struct lin_history *h, const struct lin_op *ops, size_t n)
{
	size_t i;

	lincheck_history_init(h);
	for (i = 0; i < n; i++)
		assert_int_equal(lincheck_history_add(h, &ops[i]), 0);
}

/* Check a hand-written history; returns the result, report kept in *r. */
static int lt_check_r(const struct lin_op *ops, size_t n, int model, struct lin_report *r,
		      struct lin_history *h)
{
	struct lin_options o;
	int res;

	lt_build(h, ops, n);
	lincheck_options_init(&o, model);
	o.timeout_s = 10;
	res = lincheck_check(h, &o, r);
	assert_int_equal(res, r->result);
	return res;
}

static int lt_check(const struct lin_op *ops, size_t n, int model)
{
	struct lin_history h;
	struct lin_report r;
	int res = lt_check_r(ops, n, model, &r, &h);

	if (res == LIN_FAIL) {
		assert_non_null(r.window);
		assert_true(r.window_n > 0);
	}
	lincheck_report_free(&r);
	lincheck_history_free(&h);
	return res;
}

#define LT_CHECK(ops, model) lt_check(ops, sizeof(ops) / sizeof(ops[0]), model)

/* ------------------------------------------------------------------ */

static void test_set_pass_overlapping(void **state)
{
	/* The search overlaps the insert and sees it, the delete overlaps
	 * both; the final search after the delete misses.  Valid order:
	 * insert, search, delete, search. */
	static const struct lin_op ops[] = {
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 0, 100),
		OP(U(1), SEARCH, 1, 0, OK_, 0, 10, 20, 50),
		OP(K(0), DELETE, 1, 0, OK_, 0, 0, 30, 120),
		OP(U(0), SEARCH, 1, 0, NF, 0, 0, 130, 140),
		OP(U(1), INSERT, 2, 20, OK_, 0, 0, 60, 70),
		OP(U(1), INSERT, 2, 21, EX, 0, 0, 80, 90),
		OP(K(0), SEARCH, 2, 0, OK_, 0, 20, 150, 160),
		/* a search that ran entirely before the insert of 3 misses */
		OP(U(0), SEARCH, 3, 0, NF, 0, 0, 150, 155),
		OP(U(0), INSERT, 3, 30, OK_, 0, 0, 156, 300),
		/* no-op results are ignored */
		OP(U(1), INSERT, 4, 40, DS_ERROR_NOMEM, 0, 0, 160, 170),
		OP(U(1), INSERT, 4, 40, DS_ERROR_BUSY, 0, 0, 180, 190),
		OP(U(1), SEARCH, 4, 0, NF, 0, 0, 200, 210),
	};

	(void)state;
	assert_int_equal(LT_CHECK(ops, LIN_MODEL_SET), LIN_OK);
}

static void test_set_fail_double_delete(void **state)
{
	/* One insert, two successful deletes: no order has both succeed. */
	static const struct lin_op ops[] = {
		OP(U(0), INSERT, 5, 50, OK_, 0, 0, 0, 10),
		OP(U(0), DELETE, 5, 0, OK_, 0, 0, 20, 40),
		OP(U(1), DELETE, 5, 0, OK_, 0, 0, 25, 35),
		OP(U(1), INSERT, 6, 60, OK_, 0, 0, 50, 60),
	};
	struct lin_history h;
	struct lin_report r;

	(void)state;
	assert_int_equal(lt_check_r(ops, 4, LIN_MODEL_SET, &r, &h), LIN_FAIL);
	assert_true(r.partitioned);
	assert_int_equal(r.partitions, 2);
	assert_int_equal(r.partitions_failed, 1);
	assert_true(r.has_key);
	assert_int_equal(r.fail_key, 5);
	assert_int_equal(r.window_n, 3);
	assert_true(r.window_minimal);
	/* The window closes when the second delete returns: until then u0's
	 * delete is still running and may yet fail. */
	assert_int_equal(r.window_cut_ns, 40);
	assert_int_equal(r.culprit, 1);
	lincheck_report_free(&r);
	lincheck_history_free(&h);
}

static void test_set_fail_stale_search(void **state)
{
	/* A search that returns a key after its delete completed. */
	static const struct lin_op ops[] = {
		OP(U(0), INSERT, 7, 70, OK_, 0, 0, 0, 10),
		OP(U(1), SEARCH, 7, 0, OK_, 0, 70, 5, 15),	/* fine */
		OP(U(0), DELETE, 7, 0, OK_, 0, 0, 20, 30),
		OP(U(2), INSERT, 8, 80, OK_, 0, 0, 20, 30),
		OP(K(1), SEARCH, 7, 0, OK_, 0, 70, 40, 50),	/* stale */
		OP(U(0), INSERT, 9, 90, OK_, 0, 0, 60, 70),
	};
	struct lin_history h;
	struct lin_report r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(lt_check_r(ops, 6, LIN_MODEL_SET, &r, &h), LIN_FAIL);
	assert_int_equal(r.fail_key, 7);
	assert_int_equal(r.culprit, 4);
	assert_int_equal(r.window_n, 4);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	lincheck_report_print(f, &h, &r, 0);
	fclose(f);
	assert_non_null(strstr(buf, "lincheck: FAIL"));
	assert_non_null(strstr(buf, "on key 7"));
	assert_non_null(strstr(buf, "> k1"));
	assert_non_null(strstr(buf, "success =70"));
	free(buf);
	lincheck_report_free(&r);
	lincheck_history_free(&h);
}

static void test_set_fail_value(void **state)
{
	/* A search returning a value never stored under that key. */
	static const struct lin_op ops[] = {
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 0, 10),
		OP(U(1), SEARCH, 1, 0, OK_, 0, 11, 5, 15),
	};
	static const struct lin_op bad_rc[] = {
		OP(U(0), INSERT, 1, 10, EX, 0, 0, 0, 10),	/* empty set */
	};

	(void)state;
	assert_int_equal(LT_CHECK(ops, LIN_MODEL_SET), LIN_FAIL);
	assert_int_equal(LT_CHECK(bad_rc, LIN_MODEL_SET), LIN_FAIL);
}

static void test_set_pop_min(void **state)
{
	/* With pop the set is checked as a whole (no partitioning). */
	static const struct lin_op good[] = {
		OP(U(0), INSERT, 5, 50, OK_, 0, 0, 0, 10),
		OP(U(1), INSERT, 3, 30, OK_, 0, 0, 0, 10),
		OP(U(0), POP, 0, 0, OK_, 3, 30, 20, 30),
		/* overlaps the insert of 1: may take 5 first */
		OP(U(1), POP, 0, 0, OK_, 5, 50, 40, 60),
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 45, 55),
		OP(U(1), POP, 0, 0, OK_, 1, 10, 70, 80),
		OP(U(1), POP, 0, 0, NF, 0, 0, 90, 95),
	};
	static const struct lin_op bad[] = {
		OP(U(0), INSERT, 5, 50, OK_, 0, 0, 0, 10),
		OP(U(1), INSERT, 3, 30, OK_, 0, 0, 0, 10),
		OP(U(0), POP, 0, 0, OK_, 5, 50, 20, 30),	/* not the minimum */
	};
	struct lin_history h;
	struct lin_report r;

	(void)state;
	assert_int_equal(lt_check_r(good, 7, LIN_MODEL_SET, &r, &h), LIN_OK);
	assert_false(r.partitioned);
	lincheck_report_free(&r);
	lincheck_history_free(&h);
	assert_int_equal(LT_CHECK(bad, LIN_MODEL_SET), LIN_FAIL);
}

static void test_queue_pass(void **state)
{
	static const struct lin_op ops[] = {
		OP(U(0), POP, 0, 0, NF, 0, 0, 0, 5),
		/* two overlapping enqueues: either order */
		OP(U(0), INSERT, 1, 100, OK_, 0, 0, 10, 50),
		OP(U(1), INSERT, 2, 200, OK_, 0, 0, 20, 40),
		OP(K(0), INSERT, 3, 300, DS_ERROR_FULL, 0, 0, 30, 35),	/* legal no-op */
		OP(U(0), POP, 0, 0, OK_, 2, 200, 60, 70),
		OP(U(1), DELETE, 0, 0, OK_, 0, 0, 75, 80),	/* drops 1 */
		OP(U(1), POP, 0, 0, NF, 0, 0, 90, 95),
		OP(U(0), INSERT, 4, 400, OK_, 0, 0, 100, 110),
		OP(U(0), INSERT, 5, 500, OK_, 0, 0, 120, 130),
		OP(U(1), POP, 0, 0, OK_, 4, 400, 140, 150),
	};

	(void)state;
	assert_int_equal(LT_CHECK(ops, LIN_MODEL_QUEUE), LIN_OK);
}

static void test_queue_fail_duplicate(void **state)
{
	/* The queue returns item 1 twice. */
	static const struct lin_op ops[] = {
		OP(U(0), INSERT, 1, 100, OK_, 0, 0, 0, 10),
		OP(U(1), INSERT, 2, 200, OK_, 0, 0, 20, 30),
		OP(U(0), POP, 0, 0, OK_, 1, 100, 40, 50),
		OP(K(3), POP, 0, 0, OK_, 1, 100, 45, 60),
		OP(U(1), POP, 0, 0, OK_, 2, 200, 70, 80),
	};
	static const struct lin_op fifo[] = {
		OP(U(0), INSERT, 1, 100, OK_, 0, 0, 0, 10),
		OP(U(0), INSERT, 2, 200, OK_, 0, 0, 20, 30),
		OP(U(1), POP, 0, 0, OK_, 2, 200, 40, 50),	/* LIFO, not FIFO */
	};
	struct lin_history h;
	struct lin_report r;

	(void)state;
	assert_int_equal(lt_check_r(ops, 5, LIN_MODEL_QUEUE, &r, &h), LIN_FAIL);
	assert_false(r.partitioned);
	assert_int_equal(r.culprit, 3);
	assert_int_equal(r.window_n, 4);
	assert_true(r.window_minimal);
	lincheck_report_free(&r);
	lincheck_history_free(&h);
	assert_int_equal(LT_CHECK(fifo, LIN_MODEL_QUEUE), LIN_FAIL);
	assert_int_equal(LT_CHECK(fifo, LIN_MODEL_STACK), LIN_OK);
}

static void test_stack(void **state)
{
	static const struct lin_op good[] = {
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 0, 50),
		OP(U(1), INSERT, 2, 20, OK_, 0, 0, 10, 40),
		/* 1 on top: push 2 took effect first */
		OP(U(0), POP, 0, 0, OK_, 1, 10, 60, 70),
		OP(U(1), INSERT, 3, 30, OK_, 0, 0, 75, 80),
		OP(U(0), POP, 0, 0, OK_, 3, 30, 90, 95),
		OP(U(0), DELETE, 0, 0, OK_, 0, 0, 100, 105),
		OP(U(1), POP, 0, 0, NF, 0, 0, 110, 120),
	};
	static const struct lin_op bad[] = {
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 0, 10),
		OP(U(0), INSERT, 2, 20, OK_, 0, 0, 20, 30),
		OP(U(1), POP, 0, 0, OK_, 1, 10, 40, 50),	/* FIFO, not LIFO */
	};
	static const struct lin_op lost[] = {
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 0, 10),
		OP(U(1), POP, 0, 0, NF, 0, 0, 20, 30),		/* lost push */
	};

	(void)state;
	assert_int_equal(LT_CHECK(good, LIN_MODEL_STACK), LIN_OK);
	assert_int_equal(LT_CHECK(good, LIN_MODEL_QUEUE), LIN_FAIL);
	assert_int_equal(LT_CHECK(bad, LIN_MODEL_STACK), LIN_FAIL);
	assert_int_equal(LT_CHECK(lost, LIN_MODEL_STACK), LIN_FAIL);
}

static void test_queue_search_modes(void **state)
{
	static const struct lin_op ops[] = {
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 0, 10),
		OP(U(0), INSERT, 2, 20, OK_, 0, 0, 20, 30),
		OP(U(1), SEARCH, 2, 0, OK_, 0, 20, 40, 50),
	};
	struct lin_history h;
	struct lin_options o;
	struct lin_report r;

	(void)state;
	lt_build(&h, ops, 3);
	lincheck_options_init(&o, LIN_MODEL_QUEUE);
	o.search = LIN_SEARCH_SCAN;
	assert_int_equal(lincheck_check(&h, &o, &r), LIN_OK);
	o.search = LIN_SEARCH_PEEK;	/* the front is 1=10, not 20 */
	assert_int_equal(lincheck_check(&h, &o, &r), LIN_FAIL);
	lincheck_report_free(&r);
	o.search = LIN_SEARCH_IGNORE;
	assert_int_equal(lincheck_check(&h, &o, &r), LIN_OK);
	assert_int_equal(r.ops_ignored, 1);
	o.model = LIN_MODEL_STACK;
	o.search = LIN_SEARCH_PEEK;	/* the top is 2=20 */
	assert_int_equal(lincheck_check(&h, &o, &r), LIN_OK);
	lincheck_history_free(&h);
}

static void test_pending(void **state)
{
	/* A pending insert may or may not have taken effect. */
	static const struct lin_op seen[] = {
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 0, PEND),
		OP(U(1), SEARCH, 1, 0, OK_, 0, 10, 20, 30),
		OP(U(1), DELETE, 1, 0, OK_, 0, 0, 40, 50),
	};
	static const struct lin_op unseen[] = {
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 0, PEND),
		OP(U(1), SEARCH, 1, 0, NF, 0, 0, 20, 30),
		OP(U(1), SEARCH, 1, 0, OK_, 0, 10, 40, 50),
		OP(U(2), DELETE, 2, 0, OK_, 0, 0, 40, PEND),
	};
	/* Pending or not, a key inserted once cannot be deleted twice. */
	static const struct lin_op twice[] = {
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 0, PEND),
		OP(U(1), DELETE, 1, 0, OK_, 0, 0, 20, 30),
		OP(U(1), DELETE, 1, 0, OK_, 0, 0, 40, 50),
	};
	/* A pending dequeue may have taken the only element. */
	static const struct lin_op q[] = {
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 0, 10),
		OP(U(1), POP, 0, 0, OK_, 0, 0, 20, PEND),
		OP(U(0), POP, 0, 0, NF, 0, 0, 30, 40),
	};

	(void)state;
	assert_int_equal(LT_CHECK(seen, LIN_MODEL_SET), LIN_OK);
	assert_int_equal(LT_CHECK(unseen, LIN_MODEL_SET), LIN_OK);
	assert_int_equal(LT_CHECK(twice, LIN_MODEL_SET), LIN_FAIL);
	assert_int_equal(LT_CHECK(q, LIN_MODEL_QUEUE), LIN_OK);
}

static void test_empty_and_errors(void **state)
{
	static const struct lin_op backwards[] = {
		OP(U(0), INSERT, 1, 10, OK_, 0, 0, 10, 5),
	};
	struct lin_history h;
	struct lin_options o;
	struct lin_report r;

	(void)state;
	lincheck_history_init(&h);
	lincheck_options_init(&o, LIN_MODEL_QUEUE);
	assert_int_equal(lincheck_check(&h, &o, &r), LIN_OK);
	assert_int_equal(LT_CHECK(backwards, LIN_MODEL_SET), LIN_ERROR);
	assert_string_equal(lincheck_result_str(LIN_UNKNOWN), "UNKNOWN");
	assert_int_equal(lincheck_model_parse("stack"), LIN_MODEL_STACK);
	assert_int_equal(lincheck_model_parse("heap"), -1);
}

/*
 * A hard history: n concurrent enqueues, then n dequeues that see them in
 * some order, then one dequeue of a value never enqueued.  Proving it
 * wrong means trying every order of the enqueues: n! queue states.
 */
static void lt_hard_queue(struct lin_history *h, unsigned n)
{
	struct lin_op o = { 0 };
	unsigned i;

	lincheck_history_init(h);
	for (i = 0; i < n; i++) {
		o = (struct lin_op)OP(U(i), INSERT, i, i, OK_, 0, 0, 0, 1000);
		assert_int_equal(lincheck_history_add(h, &o), 0);
	}
	for (i = 0; i < n; i++) {
		unsigned v = (i * 7) % n;

		o = (struct lin_op)OP(U(0), POP, 0, 0, OK_, v, v, 2000 + 10 * i, 2005 + 10 * i);
		assert_int_equal(lincheck_history_add(h, &o), 0);
	}
	o = (struct lin_op)OP(U(0), POP, 0, 0, OK_, 999, 999, 9000, 9001);
	assert_int_equal(lincheck_history_add(h, &o), 0);
}

static void test_unknown_on_limits(void **state)
{
	struct lin_history h;
	struct lin_options o;
	struct lin_report r;
	struct timespec t0, t1;
	double secs;

	(void)state;
	lt_hard_queue(&h, 24);
	lincheck_options_init(&o, LIN_MODEL_QUEUE);
	o.timeout_s = 0.05;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(lincheck_check(&h, &o, &r), LIN_UNKNOWN);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(secs < 2.0);
	assert_non_null(strstr(r.why, "time limit"));
	lincheck_report_free(&r);

	o.timeout_s = 0;
	o.mem_limit = 1 << 20;
	assert_int_equal(lincheck_check(&h, &o, &r), LIN_UNKNOWN);
	assert_non_null(strstr(r.why, "memory limit"));
	assert_true(r.peak_mem <= (1 << 20) + 65536);
	lincheck_report_free(&r);

	/* The same shape but small is decided: FAIL. */
	lincheck_history_free(&h);
	lt_hard_queue(&h, 6);
	o.mem_limit = 0;
	o.timeout_s = 10;
	assert_int_equal(lincheck_check(&h, &o, &r), LIN_FAIL);
	lincheck_report_free(&r);
	lincheck_history_free(&h);
}

/* ------------------------------------------------------------------ */
/* Generated histories                                                  */

static __u64 lt_rng;

static __u64 lt_rand(void)
{
	lt_rng ^= lt_rng >> 12;
	lt_rng ^= lt_rng << 25;
	lt_rng ^= lt_rng >> 27;
	return lt_rng * 0x2545f4914f6cdd1dULL;
}

enum { LT_OK, LT_BROKEN };

struct lt_gen {
	struct lin_op o;
	__u64 lin;	/* when the simulated op took effect */
	size_t idx;
};

static int lt_gen_cmp(const void *a, const void *b)
{
	const struct lt_gen *x = a, *y = b;

	if (x->lin != y->lin)
		return x->lin < y->lin ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int lt_idx_cmp(const void *a, const void *b)
{
	const struct lt_gen *x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Simulate a concurrent structure: threads run operations back to back
 * with random durations (so they overlap at random), each operation
 * takes effect at a random point inside its interval, and the results
 * come from a sequential reference applied in that order.  broken makes
 * the reference misbehave now and then: a set delete that reports success
 * without removing (a skipped CAS), a queue/stack pop that returns an
 * element without removing it (an item returned twice).  extra adds pops
 * to a set history and deletes (removals without output) to a queue/stack.
 */
static void lt_generate(struct lin_history *out, int model, size_t n, unsigned threads,
			unsigned keys, __u64 seed, int broken, int extra)
{
	struct lt_gen *g = calloc(n, sizeof(*g));
	__u64 *clock = calloc(threads, sizeof(*clock));
	__u64 *present = calloc(keys, sizeof(*present)), *val = calloc(keys, sizeof(*val));
	struct lin_kv *seq = calloc(n + 1, sizeof(*seq));
	size_t i, head = 0, tail = 0, bad = 0;
	__u64 next_val = 1;

	assert_non_null(g);
	assert_non_null(clock);
	assert_non_null(present);
	assert_non_null(val);
	assert_non_null(seq);
	lt_rng = seed | 1;
	for (i = 0; i < n; i++) {
		unsigned t = i % threads;
		__u64 dur = 1 + lt_rand() % 300, r = lt_rand() % 100;
		struct lin_op *o = &g[i].o;

		o->ctx = t & 1 ? LIN_CTX_KERNEL(t) : LIN_CTX_USER(t);
		o->call_ns = 1000000 + clock[t] + 1 + lt_rand() % 30;
		o->ret_ns = o->call_ns + dur;
		g[i].lin = o->call_ns + lt_rand() % (dur + 1);
		clock[t] = o->ret_ns - 1000000;
		g[i].idx = i;
		if (model == LIN_MODEL_SET) {
			o->key = lt_rand() % keys;
			o->value = lt_rand() % 1000;
			o->op = r < 40 ? DS_OP_INSERT : r < 70 ? DS_OP_DELETE :
				extra && r < 78 ? DS_OP_POP : DS_OP_SEARCH;
		} else {
			o->key = next_val;
			o->value = next_val * 10;
			next_val++;
			o->op = r < 50 ? DS_OP_INSERT : extra && r >= 90 ? DS_OP_DELETE : DS_OP_POP;
		}
	}
	qsort(g, n, sizeof(*g), lt_gen_cmp);
	for (i = 0; i < n; i++) {
		struct lin_op *o = &g[i].o;
		int glitch = broken && lt_rand() % 100 < 3;
		size_t k;

		o->rc = DS_SUCCESS;
		if (model == LIN_MODEL_SET) {
			switch (o->op) {
			case DS_OP_INSERT:
				if (present[o->key]) {
					o->rc = DS_ERROR_EXISTS;
				} else {
					present[o->key] = 1;
					val[o->key] = o->value;
				}
				break;
			case DS_OP_DELETE:
				if (!present[o->key])
					o->rc = DS_ERROR_NOT_FOUND;
				else if (glitch)
					bad++;
				else
					present[o->key] = 0;
				break;
			case DS_OP_SEARCH:
				if (present[o->key])
					o->out_value = val[o->key];
				else
					o->rc = DS_ERROR_NOT_FOUND;
				break;
			case DS_OP_POP:
				for (k = 0; k < keys && !present[k]; k++)
					;
				if (k == keys) {
					o->rc = DS_ERROR_NOT_FOUND;
				} else {
					o->out_key = k;
					o->out_value = val[k];
					if (glitch)
						bad++;
					else
						present[k] = 0;
				}
				break;
			}
			continue;
		}
		if (o->op == DS_OP_INSERT) {
			seq[tail++] = (struct lin_kv){ o->key, o->value };
			continue;
		}
		if (head == tail) {
			o->rc = DS_ERROR_NOT_FOUND;
			continue;
		}
		k = model == LIN_MODEL_QUEUE ? head : tail - 1;
		if (o->op == DS_OP_POP) {
			o->out_key = seq[k].key;
			o->out_value = seq[k].value;
		}
		if (glitch) {
			bad++;
			continue;
		}
		if (model == LIN_MODEL_QUEUE)
			head++;
		else
			tail--;
	}
	if (broken)
		assert_true(bad > 0);
	/* Record in the order the operations were called per thread. */
	qsort(g, n, sizeof(*g), lt_idx_cmp);
	lincheck_history_init(out);
	out->model = model;
	for (i = 0; i < n; i++)
		assert_int_equal(lincheck_history_add(out, &g[i].o), 0);
	free(g);
	free(clock);
	free(present);
	free(val);
	free(seq);
}

static int lt_check_gen(const struct lin_history *h, int model, double timeout,
			struct lin_report *r)
{
	struct lin_options o;

	lincheck_options_init(&o, model);
	o.timeout_s = timeout;
	return lincheck_check(h, &o, r);
}

static void test_generated_set_100k(void **state)
{
	size_t n = lt_scale(100000);
	struct lin_history h;
	struct lin_report r;

	(void)state;
	lt_generate(&h, LIN_MODEL_SET, n, 8, 1000, 42, LT_OK, 0);
	assert_int_equal(lt_check_gen(&h, LIN_MODEL_SET, 60, &r), LIN_OK);
	assert_true(r.partitioned);
	assert_int_equal(r.ops_checked, n);
	print_message("# set history: %zu ops, %zu key partitions, %llu steps, %.3f s\n", n,
		      r.partitions, r.steps, r.elapsed_s);
	assert_true(r.elapsed_s < 60);
	lincheck_report_free(&r);
	lincheck_history_free(&h);

	/* Few keys: long partitions with 8 threads on each key. */
	lt_generate(&h, LIN_MODEL_SET, n, 8, 16, 43, LT_OK, 0);
	assert_int_equal(lt_check_gen(&h, LIN_MODEL_SET, 60, &r), LIN_OK);
	print_message("# set history: %zu ops, %zu key partitions, %llu steps, %.3f s\n", n,
		      r.partitions, r.steps, r.elapsed_s);
	lincheck_report_free(&r);
	lincheck_history_free(&h);
}

static void test_generated_set_broken(void **state)
{
	struct lin_history h;
	struct lin_report r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	lt_generate(&h, LIN_MODEL_SET, lt_scale(20000), 8, 256, 7, LT_BROKEN, 0);
	assert_int_equal(lt_check_gen(&h, LIN_MODEL_SET, 60, &r), LIN_FAIL);
	assert_true(r.partitions_failed > 0);
	assert_true(r.window_n > 0 && r.window_n <= r.partition_n);
	f = open_memstream(&buf, &len);
	lincheck_report_print(f, &h, &r, 10);
	fclose(f);
	print_message("# broken set: %zu of %zu keys fail; window %zu ops of %zu\n",
		      r.partitions_failed, r.partitions, r.window_n, r.partition_n);
	free(buf);
	lincheck_report_free(&r);
	lincheck_history_free(&h);
}

static void test_generated_set_with_pop(void **state)
{
	struct lin_history h;
	struct lin_report r;

	(void)state;
	lt_generate(&h, LIN_MODEL_SET, lt_scale(4000), 4, 64, 11, LT_OK, 1);
	assert_int_equal(lt_check_gen(&h, LIN_MODEL_SET, 60, &r), LIN_OK);
	assert_false(r.partitioned);
	lincheck_report_free(&r);
	lincheck_history_free(&h);
	lt_generate(&h, LIN_MODEL_SET, lt_scale(4000), 4, 64, 12, LT_BROKEN, 1);
	assert_int_equal(lt_check_gen(&h, LIN_MODEL_SET, 60, &r), LIN_FAIL);
	lincheck_report_free(&r);
	lincheck_history_free(&h);
}

static void test_generated_queue_stack(void **state)
{
	/* Stacks, and queues whose elements are also removed by deletes (no
	 * output), are harder for the search: smaller histories (see
	 * docs/LINCHECK.md, limits). */
	static const struct {
		int model, deletes;
		unsigned long n;
	} cases[] = {
		{ LIN_MODEL_QUEUE, 0, 20000 },
		{ LIN_MODEL_STACK, 0, 1000 },
		{ LIN_MODEL_QUEUE, 1, 4000 },
	};
	struct lin_history h;
	struct lin_report r;
	unsigned m;

	(void)state;
	for (m = 0; m < sizeof(cases) / sizeof(cases[0]); m++) {
		size_t n = lt_scale_down(cases[m].n);
		int model = cases[m].model;

		lt_generate(&h, model, n, 4, 0, 100 + m, LT_OK, cases[m].deletes);
		assert_int_equal(lt_check_gen(&h, model, 60, &r), LIN_OK);
		print_message("# %s history%s: %zu ops, %llu steps, %.3f s\n",
			      lincheck_model_str(model), cases[m].deletes ? " with deletes" : "",
			      n, r.steps, r.elapsed_s);
		lincheck_report_free(&r);
		lincheck_history_free(&h);

		/* A structure that returns an element twice is caught. */
		lt_generate(&h, model, n, 4, 0, 200 + m, LT_BROKEN, cases[m].deletes);
		assert_int_equal(lt_check_gen(&h, model, 60, &r), LIN_FAIL);
		print_message("# broken %s: window %zu ops (minimal %d), %.3f s\n",
			      lincheck_model_str(model), r.window_n, r.window_minimal,
			      r.elapsed_s);
		lincheck_report_free(&r);
		lincheck_history_free(&h);
	}
}

/* ------------------------------------------------------------------ */
/* Files and exports                                                    */

static void test_file_roundtrip(void **state)
{
	struct lin_history h, h2;
	char *buf = NULL, err[128];
	size_t len = 0, i;
	FILE *f;

	(void)state;
	lt_generate(&h, LIN_MODEL_QUEUE, 500, 3, 0, 5, LT_OK, 0);
	h.ops[3].ret_ns = LIN_PENDING;
	h.ops[4].rc = DS_ERROR_FULL;
	h.ops[5].ctx = LIN_CTX_HOOK(2);
	h.elem = LIN_ELEM_VALUE;
	f = open_memstream(&buf, &len);
	assert_int_equal(lincheck_write(f, &h), 0);
	fclose(f);
	assert_non_null(strstr(buf, "# lincheck history v1 model=queue elem=value\n"));
	f = fmemopen(buf, len, "r");
	lincheck_history_init(&h2);
	assert_int_equal(lincheck_read(f, &h2, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(h2.n, h.n);
	assert_int_equal(h2.model, LIN_MODEL_QUEUE);
	assert_int_equal(h2.elem, LIN_ELEM_VALUE);
	assert_int_equal(h2.search, LIN_SEARCH_NONE);
	for (i = 0; i < h.n; i++)
		assert_memory_equal(&h.ops[i], &h2.ops[i], sizeof(h.ops[i]));
	free(buf);
	lincheck_history_free(&h);
	lincheck_history_free(&h2);
}

static int lt_parse_str(const char *text, char *err, size_t errlen)
{
	struct lin_history h;
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	lincheck_history_init(&h);
	ret = lincheck_read(f, &h, err, errlen);
	fclose(f);
	lincheck_history_free(&h);
	return ret;
}

static void test_file_errors(void **state)
{
	char err[128];

	(void)state;
	assert_int_equal(lt_parse_str("# lincheck history v1 model=set\n"
				      "# comment\n\n"
				      "u0 insert 1 10 success 0 0 5 9\n"
				      "k3 search 1 0 0 0 10 6 -\n"
				      "h1 4 0 0 not_found 0 0 7 8\n"
				      "77 delete 0x10 0 -3 0 0 7 8\n", err, sizeof(err)), 0);
	assert_int_equal(lt_parse_str("u0 insert 1 10 success 0 0 5 9\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 1"));
	assert_int_equal(lt_parse_str("", err, sizeof(err)), -1);
	assert_int_equal(lt_parse_str("# lincheck history v1 model=heap\n", err, sizeof(err)), -1);
	assert_int_equal(lt_parse_str("# lincheck history v1\nu0 insert 1 10 success 0 0 5\n",
				      err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2"));
	assert_int_equal(lt_parse_str("# lincheck history v1\nu0 fly 1 10 success 0 0 5 9\n",
				      err, sizeof(err)), -1);
	assert_int_equal(lt_parse_str("# lincheck history v1\nu0 insert 1 10 maybe 0 0 5 9\n",
				      err, sizeof(err)), -1);
	assert_int_equal(lt_parse_str("# lincheck history v1\nu0 insert 1 10 success 0 0 9 5\n",
				      err, sizeof(err)), -1);
	assert_non_null(strstr(err, "response"));
	assert_int_equal(lt_parse_str("# lincheck history v1\nx0 insert 1 10 success 0 0 5 9\n",
				      err, sizeof(err)), -1);
	assert_int_equal(lt_parse_str("# lincheck history v1\nu0 insert -1 10 success 0 0 5 9\n",
				      err, sizeof(err)), -1);
}

static void test_exports(void **state)
{
	static const struct lin_op ops[] = {
		OP(U(0), INSERT, 1, 100, OK_, 0, 0, 0, 10),
		OP(U(0), POP, 0, 0, OK_, 1, 100, 20, 30),
		OP(K(1), POP, 0, 0, NF, 0, 0, 5, 25),
		OP(U(0), POP, 0, 0, NF, 0, 0, 15, 22),	/* overlaps u0's next op */
		OP(U(2), INSERT, 2, 200, OK_, 0, 0, 40, PEND),
	};
	struct lin_history h;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	lt_build(&h, ops, 5);
	f = open_memstream(&buf, &len);
	assert_int_equal(lincheck_export_edn(f, &h, LIN_MODEL_QUEUE), 0);
	fclose(f);
	assert_non_null(strstr(buf, "{:process 0, :type :invoke, :f :enqueue, :value [1 100], :time 0"));
	assert_non_null(strstr(buf, "{:process 2, :type :ok, :f :dequeue, :value [1 100], :time 30"));
	assert_non_null(strstr(buf, ":type :ok, :f :dequeue, :value nil, :time 25"));
	/* u0's overlapping op gets its own process; the pending enqueue has
	 * an :invoke and nothing else. */
	assert_non_null(strstr(buf, "{:process 2, :type :invoke, :f :dequeue"));
	assert_non_null(strstr(buf, ":value [2 200], :time 40"));
	assert_null(strstr(buf, ":type :ok, :f :enqueue, :value [2 200]"));
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_int_equal(lincheck_export_json(f, &h, LIN_MODEL_QUEUE), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"ClientId\": 0, \"Input\": {\"Op\": \"insert\", \"Key\": 1"));
	assert_non_null(strstr(buf, "\"Return\": 9223372036854775807}"));
	assert_int_equal(buf[0], '[');
	free(buf);
	lincheck_history_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_pass_overlapping),
		cmocka_unit_test(test_set_fail_double_delete),
		cmocka_unit_test(test_set_fail_stale_search),
		cmocka_unit_test(test_set_fail_value),
		cmocka_unit_test(test_set_pop_min),
		cmocka_unit_test(test_queue_pass),
		cmocka_unit_test(test_queue_fail_duplicate),
		cmocka_unit_test(test_stack),
		cmocka_unit_test(test_queue_search_modes),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_empty_and_errors),
		cmocka_unit_test(test_unknown_on_limits),
		cmocka_unit_test(test_generated_set_100k),
		cmocka_unit_test(test_generated_set_broken),
		cmocka_unit_test(test_generated_set_with_pop),
		cmocka_unit_test(test_generated_queue_stack),
		cmocka_unit_test(test_file_roundtrip),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_exports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
