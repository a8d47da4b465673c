// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the allocator's dead-holder recovery (lib/alloc.h, "Dead
 * holders"): a thread or a process that dies holding a fallback guard word
 * or a cache's ownership word must not stop page return for ever nor lose
 * its slot, and whatever it left half done in its cache must never be
 * handed out twice.  Threads die with pthread_exit() while holding a word
 * (taken with the allocator's own take functions, which record the holder);
 * a forked child on a MAP_SHARED standalone arena is killed with SIGKILL.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"

#define DEAD_SLOT 5		/* arena_set_thread_slot() index of a dying thread */

static int cmp_ptr(const void *a, const void *b)
{
	const uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* Allocate and free @n objects of @size bytes, so that whole free pages
 * wait in the shared lists for a reclaim. */
static void churn_pages(int n, __u32 size)
{
	void **p = calloc(n, sizeof(*p));
	int i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		assert_non_null(p[i] = bpf_arena_alloc(size));
	for (i = 0; i < n; i++)
		bpf_arena_free(p[i]);
	free(p);
}

/* ---- a thread that dies holding a word */

enum dead_what { DEAD_GUARD, DEAD_ALL_GUARDS, DEAD_CACHE, DEAD_HALF_FLUSH };

struct dead_arg {
	enum dead_what what;
	int slot;
	int guard;		/* out: the guard word taken */
	void *live[64];		/* out: objects it left allocated */
	int nlive;
};

static void *dying_thread(void *arg)
{
	struct dead_arg *a = arg;
	struct arena_alloc_state *st = arena_alloc_st;
	struct arena_slot *sl;
	void *tmp[40];
	int i;

	arena_set_thread_slot(a->slot);
	switch (a->what) {
	case DEAD_GUARD:
		a->guard = arena_guard_take(st);
		break;
	case DEAD_ALL_GUARDS:
		for (i = 0; i < ARENA_NR_GUARDS; i++)
			if (arena_guard_take(st) < 0)
				a->guard = -1;
		break;
	case DEAD_CACHE:
		/* A cache with objects in it, some handed out. */
		for (a->nlive = 0; a->nlive < 64; a->nlive++)
			a->live[a->nlive] = bpf_arena_alloc(64);
		for (i = 0; i < 32; i++)
			bpf_arena_free(a->live[--a->nlive]);
		sl = arena_cache_take(st);
		a->guard = sl ? 0 : -1;
		break;
	case DEAD_HALF_FLUSH:
		/* Its 128-byte magazine filled, then the first half of a
		 * flush (arena_mag_flush()): the chain pushed to the shared
		 * list, the magazine not yet emptied. */
		for (i = 0; i < 40; i++)
			tmp[i] = bpf_arena_alloc(128);
		for (i = 0; i < 40; i++)
			bpf_arena_free(tmp[i]);
		sl = arena_cache_take(st);
		a->guard = sl && sl->mag[3].n >= 40 ? 0 : -1;
		if (sl)
			arena_chain_put(st, 3, arena_ptr_from_off(void, sl->mag[3].head),
					arena_ptr_from_off(void, sl->mag[3].tail), sl->mag[3].n);
		break;
	}
	pthread_exit(NULL);	/* holding it */
}

static void run_dying(struct dead_arg *a)
{
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, dying_thread, a), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
}

/* A live holder of a guard word: takes it, waits for the go, puts it. */
struct live_arg {
	pthread_barrier_t bar;
	int guard;
};

static void *live_holder(void *arg)
{
	struct live_arg *a = arg;

	a->guard = arena_guard_take(arena_alloc_st);
	pthread_barrier_wait(&a->bar);
	pthread_barrier_wait(&a->bar);
	if (a->guard >= 0)
		arena_guard_put(arena_alloc_st, a->guard);
	return NULL;
}

/*
 * A thread exits holding a fallback guard word: the next reclaim run that
 * finds it still held since its snapshot takes it back, and the quarantined
 * pages go to the kernel.  A live holder is never taken from.
 */
static void test_dead_guard_reclaim(void **state)
{
	struct dead_arg a = { .what = DEAD_GUARD, .slot = DEAD_SLOT, .guard = -1 };
	struct arena_alloc_state *st = arena_alloc_st;
	struct live_arg l = { .guard = -1 };
	struct arena_stats s;
	pthread_t t;
	int r;

	(void)state;
	/* A live holder on another thread first: pages wait for it. */
	churn_pages(300, 64);
	assert_int_equal(pthread_barrier_init(&l.bar, NULL, 2), 0);
	assert_int_equal(pthread_create(&t, NULL, live_holder, &l), 0);
	pthread_barrier_wait(&l.bar);
	assert_true(l.guard >= 0);
	assert_int_equal(arena_reclaim(1), 0);
	arena_get_stats(&s);
	assert_true(s.pages_quarantined > 0);
	assert_int_equal(arena_reclaim(0), 0);
	assert_int_equal(arena_reclaim(0), 0);
	assert_true(st->guard[l.guard].seq & 1);
	pthread_barrier_wait(&l.bar);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_barrier_destroy(&l.bar);
	assert_true(arena_reclaim(0) > 0);
	arena_get_stats(&s);
	assert_true(s.reaped_guards == 0);

	/* Now a dead one. */
	run_dying(&a);
	assert_true(a.guard >= 0);
	assert_true(st->guard[a.guard].seq & 1);
	assert_true(arena_guard_holder(st->guard[a.guard].seq) != 0);
	churn_pages(300, 64);
	assert_int_equal(arena_reclaim(1), 0);	/* quarantined: held at the snapshot */
	arena_get_stats(&s);
	assert_true(s.pages_quarantined > 0);
	r = arena_reclaim(0);
	assert_true(r > 0);
	assert_true(r == (int)s.pages_quarantined);
	assert_false(st->guard[a.guard].seq & 1);
	assert_true(arena_guard_holder(st->guard[a.guard].seq) == 0);
	arena_get_stats(&s);
	assert_true(s.reaped_guards == 1);
	assert_true(s.pages_quarantined == 0);
	/* And the word serves again. */
	r = arena_guard_take(st);
	assert_true(r >= 0);
	arena_guard_put(st, r);
	assert_true(unit_alloc_current() == 0);
}

/* Allocate and free @rounds times with a live set of @nlive objects of
 * @size bytes, each tagged; no object may be handed out while live.
 * Returns the number of problems seen. */
static int exercise(int rounds, int nlive, __u32 size)
{
	uintptr_t *live = calloc(nlive, sizeof(*live)), *sorted = calloc(nlive, sizeof(*sorted));
	__u64 rng = 7;
	int i, k, bad = 0;

	assert_non_null(live);
	assert_non_null(sorted);
	for (i = 0; i < nlive; i++) {
		live[i] = (uintptr_t)bpf_arena_alloc(size);
		if (!live[i])
			return 1;
		*(uintptr_t *)(live[i] + 8) = live[i];
	}
	for (k = 0; k < rounds; k++) {
		i = wl_next(&rng) % nlive;
		if (*(uintptr_t *)(live[i] + 8) != live[i])
			bad++;
		bpf_arena_free((void *)live[i]);
		live[i] = (uintptr_t)bpf_arena_alloc(size);
		if (!live[i])
			return bad + 1;
		*(uintptr_t *)(live[i] + 8) = live[i];
	}
	memcpy(sorted, live, nlive * sizeof(*live));
	qsort(sorted, nlive, sizeof(*sorted), cmp_ptr);
	for (i = 1; i < nlive; i++)
		if (sorted[i] == sorted[i - 1])
			bad++;
	for (i = 0; i < nlive; i++) {
		if (*(uintptr_t *)(live[i] + 8) != live[i])
			bad++;
		bpf_arena_free((void *)live[i]);
	}
	free(live);
	free(sorted);
	return bad;
}

struct user_arg {
	int slot;
	__u32 size;
	__u64 fallbacks;	/* out: fallbacks while it ran */
	int bad;		/* out */
};

/* A new thread on the dead thread's slot: it must get the cache back. */
static void *slot_user(void *arg)
{
	struct user_arg *u = arg;
	struct arena_stats s0, s1;

	arena_set_thread_slot(u->slot);
	arena_get_stats(&s0);
	u->bad = exercise(3000, 200, u->size);
	arena_get_stats(&s1);
	u->fallbacks = s1.fallbacks - s0.fallbacks;
	return NULL;
}

static void run_slot_user(struct user_arg *u)
{
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, slot_user, u), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
}

/*
 * A thread exits holding its slot's ownership word, objects in its cache:
 * the next thread on that slot takes the slot back on its first miss,
 * abandons the cache (counted) and then runs on it; nothing is handed out
 * twice and the counts stay exact.
 */
static void test_dead_cache_owner(void **state)
{
	struct dead_arg a = { .what = DEAD_CACHE, .slot = DEAD_SLOT, .guard = -1 };
	struct user_arg u = { .slot = DEAD_SLOT, .size = 64 };
	struct arena_alloc_state *st = arena_alloc_st;
	struct arena_slot *sl = &st->slot[ARENA_NR_CPU_SLOTS + DEAD_SLOT];
	struct arena_stats s;
	int i;

	(void)state;
	run_dying(&a);
	assert_int_equal(a.guard, 0);
	assert_true(sl->owner & 1);
	assert_true(sl->mag[2].n > 0);
	run_slot_user(&u);
	assert_int_equal(u.bad, 0);
	/* One miss (the one that found the dead holder), then the cache. */
	assert_true(u.fallbacks <= 1);
	assert_false(sl->owner & 1);
	arena_get_stats(&s);
	assert_true(s.reaped_guards == 1);
	assert_true(s.abandoned >= 32);
	/* The dead thread's objects are still its, until someone frees them. */
	for (i = 0; i < a.nlive; i++)
		bpf_arena_free(a.live[i]);
	assert_true(unit_alloc_current() == 0);
	/* The reclaimer still returns pages (the abandoned objects' pages
	 * stay, a bounded leak). */
	churn_pages(300, 256);
	arena_reclaim(1);
	arena_reclaim(0);
	arena_get_stats(&s);
	assert_true(s.pages_returned > 0);
}

/*
 * A thread dies half through a flush: its magazine's chain is in the shared
 * list and still in its magazine.  Trusting the magazine would hand each of
 * those objects out twice; the slot's next thread must not.
 */
static void test_dead_half_flush(void **state)
{
	struct dead_arg a = { .what = DEAD_HALF_FLUSH, .slot = DEAD_SLOT, .guard = -1 };
	struct user_arg u = { .slot = DEAD_SLOT, .size = 128 };
	struct arena_stats s;

	(void)state;
	run_dying(&a);
	assert_int_equal(a.guard, 0);
	run_slot_user(&u);
	assert_int_equal(u.bad, 0);
	assert_true(u.fallbacks <= 1);
	arena_get_stats(&s);
	assert_true(s.reaped_guards == 1);
	assert_true(unit_alloc_current() == 0);
}

/*
 * A thread exits holding every fallback guard word: with caches off (every
 * operation on the shared lists, under a guard) the next allocation takes
 * one back instead of failing.
 */
static void test_dead_all_guards(void **state)
{
	struct dead_arg a = { .what = DEAD_ALL_GUARDS, .slot = DEAD_SLOT, .guard = 0 };
	struct user_arg u = { .slot = DEAD_SLOT + 1, .size = 32 };
	struct arena_stats s;

	(void)state;
	arena_set_caches_off(1);
	run_dying(&a);
	assert_int_equal(a.guard, 0);
	run_slot_user(&u);
	assert_int_equal(u.bad, 0);
	arena_get_stats(&s);
	assert_true(s.reaped_guards >= 1);
	assert_true(s.failed == 0);
	arena_set_caches_off(0);
	assert_true(unit_alloc_current() == 0);
}

/*
 * A guard word a BPF release carried past its sequence bits (holder field
 * with tgid 0) names no thread: never reaped, no system call; the next
 * userspace release masks the carry away.
 */
static void test_dead_bpf_carry(void **state)
{
	struct arena_alloc_state *st = arena_alloc_st;
	__u64 w = 1ULL << ARENA_GUARD_SEQ_BITS | 5;

	(void)state;
	__atomic_store_n(&st->guard[3].seq, w, __ATOMIC_RELAXED);
	assert_true(arena_guard_user_holder(w) == 0);
	assert_int_equal(arena_reap_dead_guards(), 0);
	assert_true(st->guard[3].seq == w);
	arena_guard_put(st, 3);
	assert_true(st->guard[3].seq == 6);
}

/*
 * Across processes: a forked child on a MAP_SHARED arena takes a fallback
 * guard word and its slot's cache, and is killed with SIGKILL.  The
 * parent's reclaimer takes both back; the pages go; the slot serves.
 */
static void test_dead_process(void **state)
{
	struct arena_alloc_state *st;
	struct user_arg u = { .slot = DEAD_SLOT, .size = 64 };
	struct arena_stats s;
	int fd[2], status, g = -1;
	pid_t pid;
	char c;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init_shared(UNIT_ARENA_PAGES), 0);
	st = arena_alloc_st;
	churn_pages(300, 64);
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The child takes words only: pages are the parent's. */
		arena_set_thread_slot(DEAD_SLOT);
		g = arena_guard_take(st);
		c = g >= 0 && arena_cache_take(st) ? (char)g : -1;
		if (write(fd[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	assert_int_equal(read(fd[0], &c, 1), 1);
	close(fd[0]);
	close(fd[1]);
	assert_true(c >= 0);
	g = c;
	assert_true(st->guard[g].seq & 1);
	assert_true(st->slot[ARENA_NR_CPU_SLOTS + DEAD_SLOT].owner & 1);
	/* Each word names the child: tgid and tid (a single-threaded child:
	 * both its pid). */
	assert_true(arena_guard_holder(st->guard[g].seq) ==
		    ((__u64)pid << ARENA_EBR_ID_BITS | (__u64)pid));
	assert_true(arena_guard_holder(st->slot[ARENA_NR_CPU_SLOTS + DEAD_SLOT].owner) ==
		    ((__u64)pid << ARENA_EBR_ID_BITS | (__u64)pid));
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));

	assert_int_equal(arena_reclaim(1), 0);
	arena_get_stats(&s);
	assert_true(s.pages_quarantined > 0);
	assert_true(arena_reclaim(0) > 0);
	arena_get_stats(&s);
	assert_true(s.reaped_guards == 2);
	assert_true(s.pages_quarantined == 0);
	assert_false(st->guard[g].seq & 1);
	assert_false(st->slot[ARENA_NR_CPU_SLOTS + DEAD_SLOT].owner & 1);
	run_slot_user(&u);
	assert_int_equal(u.bad, 0);
	assert_true(u.fallbacks == 0);
	/* Nothing held by the living: the housekeeping sweep finds nothing. */
	assert_int_equal(arena_reap_dead_guards(), 0);
	assert_true(unit_alloc_current() == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dead_guard_reclaim, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_dead_cache_owner, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_dead_half_flush, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_dead_all_guards, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_dead_bpf_carry, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_dead_process, unit_setup, unit_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
