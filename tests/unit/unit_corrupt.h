/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unit_corrupt.h - corruption suites: plant a fault in a structure by hand
 * and check that verify, called through the registry, reports it with the
 * right reason.  Included by unit.h.
 *
 * A suite is a table of struct unit_corruption, one cmocka case per row
 * (main() returns UNIT_RUN_TESTS(tests, rows)).  Each case builds a verified structure of
 * @n elements (with @build, or unit_filled() if NULL), lets @plant break
 * it, and then verify must fail with @reason.  A plant of several steps checks the earlier ones itself with
 * unit_expect_corrupt().  Singly linked structures (stack, queue) share the
 * unit_chain_*() plants.
 */
#ifndef __UNIT_CORRUPT_H
#define __UNIT_CORRUPT_H

/* Verify of the structure at @head fails, with @reason recorded. */
static inline void unit_expect_corrupt(int kind, void *head, __u32 reason)
{
	assert_int_equal(unit_op(kind, head, DS_OP_VERIFY, 0, 0, NULL), DS_ERROR_CORRUPT);
	assert_int_equal(ds_verify_reason(kind, head), reason);
}

/*
 * A structure of kind @kind with @n elements (key i, value i * 10) through
 * the registry, verified.  @laps elements go in and out first, so that ring
 * positions are off zero.
 */
static inline void *unit_filled(int kind, int n, int laps)
{
	void *h = ds_create(kind);
	int i;

	assert_non_null(h);
	for (i = 0; i < laps; i++) {
		assert_int_equal(unit_op(kind, h, DS_OP_INSERT, i, i, NULL), DS_SUCCESS);
		assert_int_equal(unit_op(kind, h, DS_OP_DELETE, 0, 0, NULL), DS_SUCCESS);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(unit_op(kind, h, DS_OP_INSERT, i, i * 10, NULL), DS_SUCCESS);
	assert_int_equal(unit_op(kind, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	return h;
}

struct unit_corruption {
	const char *name;		/* the case's name in the test output */
	int kind;
	void *(*build)(int n);		/* a verified structure of @n elements,
					 * NULL: unit_filled(kind, n, 0) */
	int n;
	void (*plant)(void *head);	/* the fault */
	__u32 reason;			/* what verify must then report */
};

static inline void unit_corruption_run(void **state)
{
	const struct unit_corruption *c = *state;
	void *h = c->build ? c->build(c->n) : unit_filled(c->kind, c->n, 0);

	assert_non_null(h);
	c->plant(h);
	unit_expect_corrupt(c->kind, h, c->reason);
}

/* The cmocka case of row @c (a const struct unit_corruption). */
#define UNIT_CORRUPTION_TEST(c)						\
	{ (c).name, unit_corruption_run, unit_setup, unit_teardown, (void *)&(c) }

/* Run the @n cmocka cases @tests, then one case per row of @rows. */
static inline int unit_run_tests(const struct CMUnitTest *tests, size_t n,
				 const struct unit_corruption *rows, size_t nrows)
{
	struct CMUnitTest *all = calloc(n + nrows, sizeof(*all));
	size_t i;
	int rc;

	if (!all)
		return -1;
	memcpy(all, tests, n * sizeof(*all));
	for (i = 0; i < nrows; i++)
		all[n + i] = (struct CMUnitTest)UNIT_CORRUPTION_TEST(rows[i]);
	rc = _cmocka_run_group_tests("tests", all, n + nrows, NULL, NULL);
	free(all);
	return rc;
}

#define UNIT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* main()'s return: the cases of array @tests, then the rows of @rows. */
#define UNIT_RUN_TESTS(tests, rows)					\
	unit_run_tests(tests, UNIT_ARRAY_SIZE(tests), rows, UNIT_ARRAY_SIZE(rows))

/*
 * A singly linked chain: the head keeps the address of node 0 at offset
 * @first_off, and each node the address of the next at @next_off.
 */
struct unit_chain {
	int kind;
	size_t first_off;
	size_t next_off;
};

/* Node @i of the chain. */
static inline void *unit_chain_nth(const struct unit_chain *c, void *h, int i)
{
	__u64 n = *(__u64 *)((char *)h + c->first_off);

	while (i--)
		n = *(__u64 *)(n + c->next_off);
	return (void *)n;
}

/* The link out of node @i. */
static inline __u64 *unit_chain_link(const struct unit_chain *c, void *h, int i)
{
	return (__u64 *)((char *)unit_chain_nth(c, h, i) + c->next_off);
}

/* Node @last links back to node @to, then to node 0, then to itself: each
 * a cycle (the last is left for the caller's check). */
static inline void unit_chain_cycle(const struct unit_chain *c, void *h, int last, int to)
{
	*unit_chain_link(c, h, last) = (__u64)unit_chain_nth(c, h, to);
	unit_expect_corrupt(c->kind, h, DS_CORRUPT_CYCLE);
	*unit_chain_link(c, h, last) = (__u64)unit_chain_nth(c, h, 0);
	unit_expect_corrupt(c->kind, h, DS_CORRUPT_CYCLE);
	*unit_chain_link(c, h, last) = (__u64)unit_chain_nth(c, h, last);
}

/* Node @i drops out of the chain behind the counters' back (COUNT), and is
 * put back (verify passes again). */
static inline void unit_chain_drop(const struct unit_chain *c, void *h, int i)
{
	void *lost = unit_chain_nth(c, h, i);

	*unit_chain_link(c, h, i - 1) = *unit_chain_link(c, h, i);
	unit_expect_corrupt(c->kind, h, DS_CORRUPT_COUNT);
	*unit_chain_link(c, h, i - 1) = (__u64)lost;
	assert_int_equal(unit_op(c->kind, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
}

/* Node @i links outside the arena (POINTER), then into the middle of the
 * next node, @skew bytes off (left for the caller's check). */
static inline void unit_chain_wild(const struct unit_chain *c, void *h, int i, int skew)
{
	__u64 next = (__u64)unit_chain_nth(c, h, i + 1);

	*unit_chain_link(c, h, i) = 0xdead0000;
	unit_expect_corrupt(c->kind, h, DS_CORRUPT_POINTER);
	*unit_chain_link(c, h, i) = next + skew;
}

#endif /* __UNIT_CORRUPT_H */
