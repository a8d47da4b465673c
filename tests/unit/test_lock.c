// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the arena spinlock (lib/lock.h) and of the structures that
 * take it (tree, btree, pq): a userspace thread that dies holding the lock
 * is found dead by the next userspace waiter, which takes the lock over;
 * a live holder, and a BPF holder, are waited for, never taken over.
 * Before holders were recorded, a lock whose holder died answered BUSY for
 * ever, and every operation of the structure with it.
 */
#include <time.h>
#include <unistd.h>
#define ARENA_LOCK_USER_SPINS	(1UL << 16)	/* this file's own waits */
#include "unit.h"
#include "lock.h"

struct holder_arg {
	struct arena_spinlock *l;
	unsigned int hold_ms;		/* 0: die holding it */
	int taken;
};

static void *holder(void *p)
{
	struct holder_arg *a = p;

	if (arena_spin_lock(a->l))
		return NULL;
	__atomic_store_n(&a->taken, 1, __ATOMIC_RELEASE);
	if (!a->hold_ms)
		pthread_exit(NULL);	/* dies inside the critical section */
	usleep(a->hold_ms * 1000);
	arena_spin_unlock(a->l);
	return NULL;
}

/* Start a holder of @l and wait until it holds it (and, if it is to die,
 * until it is gone). */
static void hold(struct holder_arg *a, pthread_t *t)
{
	assert_int_equal(pthread_create(t, NULL, holder, a), 0);
	while (!__atomic_load_n(&a->taken, __ATOMIC_ACQUIRE))
		usleep(100);
	if (!a->hold_ms)
		pthread_join(*t, NULL);
}

static double now_s(void)
{
	return arena_now_ns() / 1e9;
}

static struct arena_spinlock *lock_of(int kind, void *h)
{
	switch (kind) {
	case DS_KIND_tree:
		return (void *)&((struct ds_tree_head *)h)->lock;
	case DS_KIND_btree:
		return (void *)&((struct ds_btree_head *)h)->lock;
	default:
		return (void *)&((struct ds_pq_head *)h)->lock;
	}
}

/*
 * For each locked structure: keys in, a thread takes the lock and exits
 * holding it; every operation then still works (within a second), the
 * take-over is counted once, verify passes and every key is there.
 */
static void test_lock_dead_holder_structures(void **state)
{
	static const int kinds[] = { DS_KIND_tree, DS_KIND_btree, DS_KIND_pq };
	struct holder_arg a;
	struct ds_stats st;
	struct ds_req r;
	unsigned int i;
	pthread_t t;
	double t0;
	__u64 k;
	void *h;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		h = ds_create(kinds[i]);
		assert_non_null(h);
		for (k = 1; k <= 100; k++)
			assert_int_equal(unit_op(kinds[i], h, DS_OP_INSERT, k, k, NULL), DS_SUCCESS);
		a = (struct holder_arg){ .l = lock_of(kinds[i], h) };
		hold(&a, &t);
		t0 = now_s();
		assert_int_equal(unit_op(kinds[i], h, DS_OP_INSERT, 1000, 1, NULL), DS_SUCCESS);
		if (now_s() - t0 > 1.0)
			fail_msg("%s: the take-over took %.1f s", ds_metadata_of(kinds[i])->name,
				 now_s() - t0);
		assert_int_equal(a.l->recovered, 1);
		assert_int_equal(a.l->holder, 0);
		ds_get_stats(kinds[i], h, &st);
		assert_int_equal(st.takeovers, 1);
		assert_int_equal(unit_op(kinds[i], h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
		assert_int_equal(unit_op(kinds[i], h, DS_OP_RANGE, 0, 2000, &r), DS_SUCCESS);
		assert_int_equal(r.out_value, 101);
		assert_int_equal(a.l->recovered, 1);
	}
}

/* A live holder that keeps the lock a while is waited for: the waiter
 * gets the lock after it is released, and nothing was taken over. */
static void test_lock_live_holder_waited_for(void **state)
{
	struct arena_spinlock *l = arena_malloc(sizeof(*l));
	struct holder_arg a = { .l = l, .hold_ms = 300 };
	pthread_t t;
	double t0;

	(void)state;
	assert_non_null(l);
	memset(l, 0, sizeof(*l));
	hold(&a, &t);
	t0 = now_s();
	/* The wait may run out (BUSY) before 300 ms: retry, as callers do. */
	while (arena_spin_lock(l) == DS_ERROR_BUSY)
		assert_true(now_s() - t0 < 10);
	assert_true(now_s() - t0 > 0.2);
	assert_int_equal(l->recovered, 0);
	arena_spin_unlock(l);
	pthread_join(t, NULL);
}

/* A lock held by a BPF program (ARENA_LOCK_KERNEL) is never taken over by
 * userspace: the wait ends with BUSY and the holder word is untouched. */
static void test_lock_kernel_holder_not_taken(void **state)
{
	struct arena_spinlock *l = arena_malloc(sizeof(*l));

	(void)state;
	assert_non_null(l);
	memset(l, 0, sizeof(*l));
	l->holder = ARENA_LOCK_KERNEL | 3;
	assert_int_equal(arena_spin_lock(l), DS_ERROR_BUSY);
	assert_int_equal(l->holder, ARENA_LOCK_KERNEL | 3);
	assert_int_equal(l->recovered, 0);
	l->holder = 0;
	assert_int_equal(arena_spin_lock(l), 0);
	assert_int_equal(l->holder, arena_ebr_me());
	arena_spin_unlock(l);
}

/* A holder word of a thread id that exists, with another generation (a
 * reused tid): read as alive, never taken over (the safe direction). */
static void test_lock_reused_tid_not_taken(void **state)
{
	struct arena_spinlock *l = arena_malloc(sizeof(*l));
	__u64 me = arena_ebr_me(), other;

	(void)state;
	assert_non_null(l);
	memset(l, 0, sizeof(*l));
	other = me ^ (1ULL << ARENA_EBR_GEN_SHIFT);	/* same tgid and tid */
	l->holder = other;
	assert_int_equal(arena_spin_lock(l), DS_ERROR_BUSY);
	assert_int_equal(l->holder, other);
	assert_int_equal(l->recovered, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lock_dead_holder_structures, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_lock_live_holder_waited_for, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_lock_kernel_holder_not_taken, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_lock_reused_tid_not_taken, unit_setup,
						unit_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
