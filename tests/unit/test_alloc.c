// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the allocator (libarena_ds.h) on a standalone arena: a model
 * check against a plain reference, threads with ownership checks, caches,
 * stealing on exhaustion, and pages going back to the "kernel" (the
 * standalone hook makes returned pages inaccessible, so a stale access to
 * one crashes the test).
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"

struct live_obj {
	unsigned char *p;
	__u32 size;
	__u32 seed;
};

static void fill(unsigned char *p, __u32 size, __u32 seed)
{
	__u32 i;

	for (i = 0; i < size; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7);
}

static int intact(const unsigned char *p, __u32 size, __u32 seed)
{
	__u32 i;

	for (i = 0; i < size; i++)
		if (p[i] != (unsigned char)(seed * 131 + i * 7))
			return 0;
	return 1;
}

static int cmp_obj(const void *a, const void *b)
{
	const struct live_obj *x = a, *y = b;

	return x->p < y->p ? -1 : x->p > y->p;
}

/* Did reading @p kill a child process?  (Returned pages must be gone.) */
static int read_faults(const void *p)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		(void)*(volatile const char *)p;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * Random allocations and frees of random sizes against a reference list:
 * alignment, no two live objects overlap, contents survive, per-class
 * statistics exact; then everything freed goes back as whole pages.
 */
static void test_alloc_model(void **state)
{
	unsigned long nops = unit_scale(40000), i;
	__u32 max_live = 3000, n = 0, c;
	struct live_obj *live = calloc(max_live, sizeof(*live));
	__u64 ref_allocs[ARENA_NR_CLASSES] = {}, ref_frees[ARENA_NR_CLASSES] = {};
	__u64 rng = 42, large = 0;
	struct arena_stats st;

	(void)state;
	assert_non_null(live);
	for (i = 0; i < nops; i++) {
		__u64 x = wl_next(&rng);

		if (n < max_live && (n == 0 || x % 100 < 55)) {
			__u32 size = 1 + (x >> 8) % (x % 50 ? 600 : 4000);
			unsigned char *p = bpf_arena_alloc(size);
			int k = arena_size_class(size);

			assert_non_null(p);
			assert_true(((uintptr_t)p & 7) == 0);
			assert_true((uintptr_t)p >= ARENA_BASE);
			if (k >= 0)
				ref_allocs[k]++;
			else
				large++;
			fill(p, size, (__u32)i);
			live[n].p = p;
			live[n].size = size;
			live[n].seed = (__u32)i;
			n++;
		} else {
			__u32 j = (x >> 16) % n;
			int k = arena_size_class(live[j].size);

			assert_true(intact(live[j].p, live[j].size, live[j].seed));
			bpf_arena_free(live[j].p);
			if (k >= 0)
				ref_frees[k]++;
			live[j] = live[--n];
		}
	}
	/* No overlap: sorted by address, each ends before the next starts. */
	qsort(live, n, sizeof(*live), cmp_obj);
	for (i = 0; i + 1 < n; i++)
		assert_true(live[i].p + live[i].size <= live[i + 1].p);
	for (i = 0; i < n; i++)
		assert_true(intact(live[i].p, live[i].size, live[i].seed));
	arena_get_stats(&st);
	for (c = 0; c < ARENA_NR_CLASSES; c++) {
		assert_true(st.class_allocs[c] == ref_allocs[c]);
		assert_true(st.class_frees[c] == ref_frees[c]);
		assert_true(st.class_current[c] == ref_allocs[c] - ref_frees[c]);
	}
	assert_true(st.large_allocs == large);
	assert_true(st.failed == 0);

	/* Free everything: current 0, and after a flushing reclaim no
	 * class page is held any more. */
	for (i = 0; i < n; i++)
		bpf_arena_free(live[i].p);
	arena_get_stats(&st);
	assert_true(st.current == 0);
	assert_true(arena_reclaim(1) > 0);
	arena_get_stats(&st);
	assert_true(st.cached == 0);
	assert_true(st.pages_returned == arena_standalone_returned());
	assert_true(st.pages_returned + st.reserve_pages + ARENA_STATE_PAGES == st.pages_total);
	assert_true(st.pages_quarantined == 0);
	free(live);
}

/* A page with one live object stays; once that goes too, the page goes. */
static void test_alloc_page_kept_while_live(void **state)
{
	unsigned char *a, *b;
	struct arena_stats st;

	(void)state;
	/* 2016-byte objects: two per page, the second comes from the
	 * magazine the first allocation filled. */
	a = bpf_arena_alloc(2000);
	b = bpf_arena_alloc(2000);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(arena_page_of(a) == arena_page_of(b));
	fill(b, 2000, 9);
	bpf_arena_free(a);
	assert_int_equal(arena_reclaim(1), 0);
	arena_get_stats(&st);
	assert_true(st.pages_returned == 0);
	assert_true(intact(b, 2000, 9));
	assert_int_equal(read_faults(b), 0);
	bpf_arena_free(b);
	assert_int_equal(arena_reclaim(1), 1);
	arena_get_stats(&st);
	assert_true(st.pages_returned == 1);
	/* The page really is gone: touching it faults. */
	assert_int_equal(read_faults(b), 1);
	/* And the allocator still works, reusing the returned page. */
	a = bpf_arena_alloc(2000);
	assert_non_null(a);
	bpf_arena_free(a);
}

/* A context inside a shared-list pop (a held guard) delays the return of a
 * quarantined page until it leaves. */
static void test_alloc_grace_period(void **state)
{
	void *p[300];
	struct arena_stats st;
	int i, g;

	(void)state;
	for (i = 0; i < 300; i++)
		assert_non_null(p[i] = bpf_arena_alloc(64));
	for (i = 0; i < 300; i++)
		bpf_arena_free(p[i]);
	g = arena_guard_take(arena_alloc_st);
	assert_true(g >= 0);
	assert_int_equal(arena_reclaim(1), 0);
	arena_get_stats(&st);
	assert_true(st.pages_quarantined > 0);
	assert_true(st.pages_returned == 0);
	/* Still held: another run frees nothing. */
	assert_int_equal(arena_reclaim(0), 0);
	arena_guard_put(arena_alloc_st, g);
	assert_true(arena_reclaim(0) == (int)st.pages_quarantined);
	arena_get_stats(&st);
	assert_true(st.pages_quarantined == 0);
	assert_true(st.pages_returned > 0);
	/* The same with the slot ownership word of a cache. */
	for (i = 0; i < 300; i++)
		assert_non_null(p[i] = bpf_arena_alloc(64));
	for (i = 0; i < 300; i++)
		bpf_arena_free(p[i]);
	{
		struct arena_slot *sl = arena_cache_take(arena_alloc_st);
		__u64 f0;
		void *q;
		int r;

		assert_non_null(sl);
		/* A busy cache: the allocation goes to the shared lists. */
		arena_get_stats(&st);
		q = bpf_arena_alloc(64);
		assert_non_null(q);
		bpf_arena_free(q);
		f0 = st.fallbacks;
		arena_get_stats(&st);
		assert_true(st.fallbacks == f0 + 2);
		/* Our own cache is held, so the flush skips it: empty it
		 * by hand, as its owner. */
		for (i = 0; i < ARENA_NR_CLASSES; i++)
			arena_mag_flush(arena_alloc_st, &sl->mag[i], i);
		r = arena_reclaim(1);
		assert_int_equal(r, 0);
		arena_get_stats(&st);
		assert_true(st.pages_quarantined > 0);
		arena_cache_put(sl);
	}
	assert_true(arena_reclaim(0) > 0);
}

/* Objects parked in another slot's cache are found when memory runs out. */
static void test_alloc_steal_on_exhaustion(void **state)
{
	void *p[4096];
	int n = 0, i, got = 0;

	(void)state;
	arena_standalone_fini();
	assert_int_equal(arena_standalone_init(ARENA_STATE_PAGES + 4), 0);
	arena_set_thread_slot(1);
	while (n < 4096 && (p[n] = bpf_arena_alloc(256)))
		n++;
	assert_true(n > 20);
	assert_null(bpf_arena_alloc(256));
	/* Ten go back into slot 1's magazine (fewer than a flush). */
	for (i = 0; i < 10; i++)
		bpf_arena_free(p[--n]);
	/* Another slot finds nothing shared, no page, no refill: it steals. */
	arena_set_thread_slot(2);
	while (got < 20 && (p[n] = bpf_arena_alloc(256))) {
		n++;
		got++;
	}
	assert_int_equal(got, 10);
	for (i = 0; i < n; i++)
		bpf_arena_free(p[i]);
	assert_true(unit_alloc_current() == 0);
	arena_set_thread_slot(0);
}

/* With the caches off, the shared lists alone serve and count exactly. */
static void test_alloc_no_cache(void **state)
{
	void *p[1000];
	struct arena_stats st;
	int i;

	(void)state;
	arena_set_caches_off(1);
	for (i = 0; i < 1000; i++)
		assert_non_null(p[i] = bpf_arena_alloc(24 + i % 100));
	for (i = 0; i < 1000; i++)
		bpf_arena_free(p[i]);
	arena_get_stats(&st);
	assert_true(st.allocs == 1000 && st.frees == 1000 && st.current == 0);
	assert_true(st.cached == 0);
	arena_set_caches_off(0);
}

struct alloc_thread {
	pthread_t tid;
	int id;
	unsigned long nops;
	pthread_barrier_t *barrier;
	int bad;
};

static int reclaim_stop;

/*
 * Each thread writes its id into its objects and checks it before free.
 * Word 0 of a free object is its link, which a delayed Treiber pop may still
 * read (atomically) after the object was handed out; relaxed atomics here
 * keep TSAN from reporting that benign, by-design race when its stack has
 * been evicted and the suppression cannot match.
 */
#define obj_store(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define obj_load(p)	__atomic_load_n((p), __ATOMIC_RELAXED)

static void *alloc_worker(void *arg)
{
	struct alloc_thread *t = arg;
	__u64 *held[64] = {};
	__u32 sizes[64] = {};
	__u64 rng = 77 + t->id, x;
	unsigned long i;
	__u32 j, k;

	arena_set_thread_slot(t->id);
	pthread_barrier_wait(t->barrier);
	for (i = 0; i < t->nops; i++) {
		x = wl_next(&rng);
		j = x % 64;
		if (held[j]) {
			for (k = 0; k < sizes[j] / 8; k++)
				if (obj_load(&held[j][k]) != ((__u64)t->id << 32 | k))
					t->bad++;
			bpf_arena_free(held[j]);
			held[j] = NULL;
			continue;
		}
		sizes[j] = 8 + (x >> 20) % 512;
		held[j] = bpf_arena_alloc(sizes[j]);
		if (!held[j]) {
			t->bad++;
			continue;
		}
		for (k = 0; k < sizes[j] / 8; k++)
			obj_store(&held[j][k], (__u64)t->id << 32 | k);
	}
	for (j = 0; j < 64; j++)
		bpf_arena_free(held[j]);
	return NULL;
}

static void *reclaimer(void *arg)
{
	(void)arg;
	arena_set_thread_slot(63);
	while (!__atomic_load_n(&reclaim_stop, __ATOMIC_RELAXED)) {
		arena_reclaim(0);
		sched_yield();
	}
	return NULL;
}

/* Threads (some sharing a slot) allocate and free while a reclaimer gives
 * pages back: no object is handed out twice, no stale read touches a
 * returned page (it would crash), and at the end nothing is held. */
static void test_alloc_threads(void **state)
{
	int nthreads = 6, i;
	struct alloc_thread t[6];
	pthread_barrier_t barrier;
	pthread_t rt;
	struct arena_stats st;

	(void)state;
	memset(t, 0, sizeof(t));
	__atomic_store_n(&reclaim_stop, 0, __ATOMIC_RELAXED);
	pthread_barrier_init(&barrier, NULL, nthreads);
	assert_int_equal(pthread_create(&rt, NULL, reclaimer, NULL), 0);
	for (i = 0; i < nthreads; i++) {
		t[i].id = i % 4;	/* threads 4 and 5 share slots 0 and 1 */
		t[i].nops = unit_scale(200000);
		t[i].barrier = &barrier;
		assert_int_equal(pthread_create(&t[i].tid, NULL, alloc_worker, &t[i]), 0);
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i].tid, NULL);
	__atomic_store_n(&reclaim_stop, 1, __ATOMIC_RELAXED);
	pthread_join(rt, NULL);
	pthread_barrier_destroy(&barrier);
	for (i = 0; i < nthreads; i++)
		assert_int_equal(t[i].bad, 0);
	arena_get_stats(&st);
	assert_true(st.current == 0);
	arena_reclaim(1);
	arena_reclaim(0);
	arena_get_stats(&st);
	assert_true(st.cached == 0);
	assert_true(st.pages_quarantined == 0);
	assert_true(st.pages_returned > 0);
	assert_true(st.pages_returned + st.reserve_pages + ARENA_STATE_PAGES == st.pages_total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_model, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_page_kept_while_live, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_grace_period, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_steal_on_exhaustion, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_no_cache, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_threads, unit_setup, unit_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
