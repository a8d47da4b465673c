// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: frees survive a spent loop budget (issue 16, item 7).
 *
 * In BPF, can_loop turns false once the program's may_goto budget is spent,
 * and stays false.  Here can_loop is a per-thread budget the tests set, so
 * the allocator's and EBR's loops run out exactly where a BPF program's
 * would.  Every test then checks the allocator's census: with everything
 * freed and reclaimed, every page taken is back (returned, in the reserve,
 * or the allocator's own state), so no object went missing on the way.
 */
#include <stdbool.h>

static __thread long park_budget = -1;	/* < 0: unlimited */

static inline int park_can_loop(void)
{
	if (park_budget < 0)
		return 1;
	if (!park_budget)
		return 0;
	park_budget--;
	return 1;
}
#define can_loop park_can_loop()

#include "unit.h"

/* Reclaim until nothing more comes back and nothing is left parked. */
static void reclaim_everything(void)
{
	struct arena_stats st;
	int i, quiet = 0;

	park_budget = -1;
	for (i = 0; i < 1000 && quiet < 2; i++) {
		int rc = arena_reclaim(1);

		arena_get_stats(&st);
#ifdef ARENA_PARK_PENDING
		quiet = rc <= 0 && !st.reclaim_pending ? quiet + 1 : 0;
#else	/* the library before parking: to show these tests fail there */
		quiet = rc <= 0 ? quiet + 1 : 0;
#endif
	}
}

/* Everything freed: no object current, every page back (@kept pages of
 * init-time arrays excepted). */
static void assert_all_back(__u64 kept)
{
	struct arena_stats st;

	reclaim_everything();
	arena_get_stats(&st);
	assert_int_equal(st.current, 0);
	assert_int_equal(st.cached, 0);
	assert_int_equal(st.pages_quarantined, 0);
#ifdef ARENA_PARK_PENDING
	assert_int_equal(st.reclaim_pending, 0);
#endif
	assert_int_equal(st.pages_returned + st.reserve_pages + ARENA_STATE_PAGES + kept,
			 st.pages_total);
}

static void **alloc_many(unsigned long n, __u32 size)
{
	void **v = calloc(n, sizeof(*v));
	unsigned long i;

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		v[i] = bpf_arena_alloc(size);
		assert_non_null(v[i]);
	}
	return v;
}

/*
 * Frees with no loop budget at all: every magazine flush pushes a chain with
 * a spent budget.  (Before: arena_stack_push_chain() returned without
 * pushing, and the whole magazine was gone.)
 */
static void test_free_with_spent_budget(void **state)
{
	unsigned long n = 20000, i;
	void **v = alloc_many(n, 32);

	(void)state;
	park_budget = 0;
	for (i = 0; i < n; i++)
		bpf_arena_free(v[i]);
	park_budget = -1;
	free(v);
	assert_all_back(0);
}

/* The fallback path (caches off: every free pushes onto the shared list)
 * with the budget spent. */
static void test_fallback_free_with_spent_budget(void **state)
{
	unsigned long n = 5000, i;
	void **v;

	(void)state;
	arena_set_caches_off(1);
	v = alloc_many(n, 64);
	park_budget = 0;
	for (i = 0; i < n; i++)
		bpf_arena_free(v[i]);
	park_budget = -1;
	free(v);
	arena_set_caches_off(0);
	assert_all_back(0);
}

/*
 * An EBR advance frees a long limbo list and runs out of budget in the
 * middle.  (Before: the rest was requeued with the same spent budget, i.e.
 * dropped: those nodes stayed allocated forever.)
 */
static void test_ebr_free_list_spent_budget(void **state)
{
	struct arena_ebr *ebr = arena_alloc_large(sizeof(*ebr));
	unsigned long n = 10000, i;
	void **v = alloc_many(n, 48);
	struct arena_stats st;
	int idx, k;

	(void)state;
	assert_non_null(ebr);
	memset(ebr, 0, sizeof(*ebr));
	idx = arena_ebr_enter(ebr);
	assert_true(idx >= 0);
	for (i = 0; i < n; i++)
		arena_ebr_retire(ebr, idx, v[i]);
	arena_ebr_exit(ebr, idx);
	/* Advances with a budget good for a few hundred nodes each. */
	for (k = 0; k < 8; k++) {
		park_budget = 700;
		arena_ebr_try_advance(ebr);
	}
	park_budget = -1;
	arena_get_stats(&st);
#ifdef ARENA_PARK_PENDING
	assert_true(st.parked > 0);		/* the cut lists were parked */
	assert_int_equal(arena_atomic_load(&ebr->lost), 0);
#endif
	assert_int_equal(arena_ebr_flush(ebr), 0);
	free(v);
	assert_all_back((sizeof(*ebr) + ARENA_PAGE_HDR + ARENA_PAGE_SIZE - 1) / ARENA_PAGE_SIZE);
}

/*
 * Reclaim runs that run out of budget anywhere: while sorting, while
 * handling the sorted pages, while pushing chains back.  (Before: the
 * per-page chains not yet handled were dropped.)
 */
static void test_reclaim_spent_budget(void **state)
{
	unsigned long n = 40000, i;
	void **v = alloc_many(n, 32);
	long budgets[] = { 1, 50, 300, 2000, 7000, 20000, 45000 };
	int k;

	(void)state;
	for (i = 0; i < n; i += 2)
		bpf_arena_free(v[i]);
	for (k = 0; k < (int)(sizeof(budgets) / sizeof(budgets[0])); k++) {
		park_budget = budgets[k];
		arena_reclaim(1);
		park_budget = -1;
		if (k == 3)
			for (i = 1; i < n; i += 2)
				bpf_arena_free(v[i]);
	}
	park_budget = -1;
	free(v);
	assert_all_back(0);
}

/*
 * The drainer meets a chain whose parker has not linked the older entries
 * yet (PENDING): it keeps that chain, puts back what it can, and gets the
 * rest once the link is there.
 */
#ifdef ARENA_PARK_PENDING
static void test_drain_waits_for_pending_link(void **state)
{
	struct arena_alloc_state *st = arena_alloc_st;
	unsigned long n = 300, i;
	void **v = alloc_many(n, 32);
	__u64 *b, old;

	(void)state;
	arena_set_caches_off(1);	/* frees go straight to the lists */
	/* Chain A = v[0..99], parked normally. */
	for (i = 0; i < 99; i++)
		*(__u64 *)v[i] = arena_offset(v[i + 1]);
	arena_park_chain(st, 1, v[0], v[99]);
	/* Chain B = v[100..199], parked by hand, stopped between the
	 * exchange and the link store. */
	for (i = 100; i < 199; i++)
		*(__u64 *)v[i] = arena_offset(v[i + 1]);
	b = v[199];
	*b = ARENA_PARK_PENDING;
	old = arena_atomic_xchg(&st->park[1], (__u64)arena_offset(v[100]));
	assert_int_equal(arena_park_flush(), 1);	/* A unreachable yet */
	assert_int_equal(st->park_hold[1], arena_offset(v[199]));
	/* The parker finishes; the next drain gets A. */
	arena_atomic_store_release(b, old);
	assert_int_equal(arena_park_flush(), 0);
	/* Count the 200 objects back as frees (they were allocated). */
	st->fb_frees[1] += 200;
	for (i = 200; i < n; i++)
		bpf_arena_free(v[i]);
	arena_set_caches_off(0);
	free(v);
	assert_all_back(0);
}

#endif

/* Threads allocating and freeing with tiny budgets at once: pushes fail
 * under contention with nothing left to retry with, and park. */
struct park_arg {
	unsigned long ops;
	__u64 seed;
};

static void *park_worker(void *p)
{
	struct park_arg *a = p;
	void *live[64] = {};
	unsigned long i;
	__u64 x = a->seed;

	for (i = 0; i < a->ops; i++) {
		int j;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (x >> 33) % 64;
		park_budget = (x >> 20) % 3;
		if (live[j]) {
			bpf_arena_free(live[j]);
			live[j] = NULL;
		} else {
			park_budget = -1;
			live[j] = bpf_arena_alloc(16 + (x >> 40) % 200);
			assert_non_null(live[j]);
		}
		park_budget = -1;
#ifdef ARENA_PARK_PENDING
		if (i % 4096 == 0)
			arena_park_flush();	/* a drainer running meanwhile */
#endif
	}
	for (i = 0; i < 64; i++)
		if (live[i]) {
			park_budget = 0;
			bpf_arena_free(live[i]);
			park_budget = -1;
		}
	return NULL;
}

static void test_park_threads(void **state)
{
	struct park_arg args[4];
	pthread_t t[4];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		args[i].ops = unit_scale(200000);
		args[i].seed = 7 + i;
		assert_int_equal(pthread_create(&t[i], NULL, park_worker, &args[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_all_back(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_free_with_spent_budget, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_fallback_free_with_spent_budget, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_ebr_free_list_spent_budget, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_spent_budget, unit_setup,
						unit_teardown),
#ifdef ARENA_PARK_PENDING
		cmocka_unit_test_setup_teardown(test_drain_waits_for_pending_link, unit_setup,
						unit_teardown),
#endif
		cmocka_unit_test_setup_teardown(test_park_threads, unit_setup, unit_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
