// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the arena sanitizer mode (lib/sanitize.h) on a standalone
 * arena.  This file and the library it links (tests/tests.mk) are built
 * with ARENA_SANITIZE, so its plain, ASAN and TSAN builds all test the redzones, the poison and the counters; the ASAN
 * build also checks that ASAN itself reports an access to a freed object or
 * a redzone (in a forked child); the other builds leave that case out.
 *
 * Bugs are planted through poke(), which ASAN does not instrument: the
 * counting tests must see the sanitizer's own count, not die under ASAN.
 */
#ifndef ARENA_SANITIZE
#define ARENA_SANITIZE
#endif
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"

#ifdef ARENA_SAN_ASAN
#define UNCHECKED __attribute__((noinline, no_sanitize_address))
#else
#define UNCHECKED __attribute__((noinline))
#endif

/* Write / read one byte where the sanitizer (or ASAN) does not look. */
static UNCHECKED void poke(void *p, long off, __u8 v)
{
	((volatile __u8 *)p)[off] = v;
}

static UNCHECKED __u8 peek(const void *p, long off)
{
	return ((const volatile __u8 *)p)[off];
}

static __u64 cnt(int kind)
{
	return __atomic_load_n(&arena_san_counts[kind], __ATOMIC_RELAXED);
}

static __u64 total(void)
{
	struct arena_san_stats s;

	arena_san_get_stats(&s);
	return s.total;
}

static __u64 frees(void)
{
	struct arena_stats st;

	arena_get_stats(&st);
	return st.frees;
}

/* A fresh standalone arena starts with every counter at 0. */
static int san_setup(void **state)
{
	return unit_setup(state);
}

/* The violations here are planted: clear them before unit_teardown()
 * would count them as failures. */
static int san_teardown(void **state)
{
	int k;

	for (k = 0; k < ARENA_SAN_NR_COUNTERS; k++)
		arena_san_counts[k] = 0;
	return unit_teardown(state);
}

/* Exactly one violation so far, of @kind. */
static void assert_only(int kind, __u64 n)
{
	int k;

	for (k = 0; k < ARENA_SAN_NR_KINDS; k++)
		assert_int_equal(cnt(k), k == kind ? n : 0);
}

/* Correct use: the layout is as documented and nothing is counted. */
static void test_clean_layout(void **state)
{
	static const __u32 sizes[] = { 1, 7, 8, 13, 24, 100, 1000, 1975, 1976, 1977, 3000, 3992 };
	__u8 *p, *q;
	__u32 i, n, j, end;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		end = ((n + 7) & ~7U) + ARENA_SAN_REAR;
		p = bpf_arena_alloc(n);
		assert_non_null(p);
		assert_int_equal((__u64)p % 8, 0);
		memset(p, 0x5a, n);		/* all n bytes are the caller's */
		for (j = 1; j <= 8; j++)
			assert_int_equal(peek(p, -(long)j), ARENA_SAN_RZ_BYTE);
		assert_int_equal(peek(p, -12), 'L');	/* "LIVE" */
		for (j = n; j < end; j++)
			assert_int_equal(peek(p, j), ARENA_SAN_RZ_BYTE);
		bpf_arena_free(p);
		for (j = 0; j < n; j++)
			assert_int_equal(peek(p, j), ARENA_SAN_FREE_BYTE);
		assert_int_equal(peek(p, -12), 'D');	/* "DEAD" */
		/* LIFO: the same slot comes back, its poison found intact. */
		q = bpf_arena_alloc(n);
		assert_ptr_equal(p, q);
		memset(q, 0xa5, n);
		bpf_arena_free(q);
	}
	/* The largest request that still fits a page with its redzones. */
	assert_null(bpf_arena_alloc(3993));
	assert_int_equal(total(), 0);
	assert_int_equal(arena_san_check(), 0);
	/* One freed slot each in the 64-, 256- and 2016-byte classes. */
	assert_int_equal(cnt(ARENA_SAN_WALKED), 3);
	assert_int_equal(total(), 0);
}

static void test_overflow(void **state)
{
	__u8 *p;

	(void)state;
	p = bpf_arena_alloc(13);
	poke(p, 13, 0);			/* one byte past the end, in the 8-byte slack */
	bpf_arena_free(p);
	assert_only(ARENA_SAN_OVERFLOW, 1);
	p = bpf_arena_alloc(16);
	poke(p, 16 + ARENA_SAN_REAR - 1, 0x11);	/* last byte of the rear redzone */
	bpf_arena_free(p);
	assert_only(ARENA_SAN_OVERFLOW, 2);
	p = bpf_arena_alloc(3000);	/* a one-page object */
	poke(p, 3000, 7);
	bpf_arena_free(p);
	assert_only(ARENA_SAN_OVERFLOW, 3);
	/* Counted once: the slot is freed and reused cleanly. */
	p = bpf_arena_alloc(13);
	bpf_arena_free(p);
	assert_only(ARENA_SAN_OVERFLOW, 3);
}

static void test_underflow(void **state)
{
	__u64 f0 = frees();
	__u8 *p;

	(void)state;
	p = bpf_arena_alloc(32);
	poke(p, -1, 0);
	bpf_arena_free(p);
	assert_only(ARENA_SAN_UNDERFLOW, 1);
	p = bpf_arena_alloc(32);
	poke(p, -8, 0);			/* first byte of the guard */
	bpf_arena_free(p);
	assert_only(ARENA_SAN_UNDERFLOW, 2);
	assert_int_equal(frees() - f0, 2);	/* header intact: still freed */
}

static void test_use_after_free(void **state)
{
	__u8 *p, *q;

	(void)state;
	/* Found when the slot is handed out again. */
	p = bpf_arena_alloc(40);
	bpf_arena_free(p);
	poke(p, 5, 0x42);
	q = bpf_arena_alloc(40);
	assert_ptr_equal(p, q);
	assert_only(ARENA_SAN_UAF_WRITE, 1);
	bpf_arena_free(q);
	assert_only(ARENA_SAN_UAF_WRITE, 1);
	/* Found by the free-list walk, counted once, then repaired. */
	p = bpf_arena_alloc(200);
	bpf_arena_free(p);
	poke(p, 199, 0);
	poke(p, 200 + 3, 0);		/* the old rear redzone is poisoned too */
	assert_int_equal(arena_san_check(), 1);
	assert_only(ARENA_SAN_UAF_WRITE, 2);
	assert_int_equal(arena_san_check(), 0);
	q = bpf_arena_alloc(200);
	assert_ptr_equal(p, q);
	assert_only(ARENA_SAN_UAF_WRITE, 2);
}

static void test_double_free(void **state)
{
	__u64 f0 = frees();
	__u8 *p, *a, *b;

	(void)state;
	p = bpf_arena_alloc(48);
	bpf_arena_free(p);
	bpf_arena_free(p);
	assert_only(ARENA_SAN_DOUBLE_FREE, 1);
	assert_int_equal(frees() - f0, 1);
	/* The slot went onto the free list once: two allocations differ. */
	a = bpf_arena_alloc(48);
	b = bpf_arena_alloc(48);
	assert_ptr_equal(a, p);
	assert_ptr_not_equal(a, b);
	bpf_arena_free(b);
	bpf_arena_free(a);
	assert_only(ARENA_SAN_DOUBLE_FREE, 1);
}

static void test_invalid_free(void **state)
{
	__u64 f0 = frees();
	__u8 *p, *big;

	(void)state;
	p = bpf_arena_alloc(64);
	bpf_arena_free(p + 8);		/* inside the object */
	assert_only(ARENA_SAN_INVALID_FREE, 1);
	bpf_arena_free(p + 1);		/* misaligned */
	bpf_arena_free((__u8 *)((__u64)p & ~(__u64)(ARENA_PAGE_SIZE - 1)) + 16);	/* page header */
	bpf_arena_free(p + 128);	/* a slot never handed out */
	assert_only(ARENA_SAN_INVALID_FREE, 4);
	assert_int_equal(frees() - f0, 0);
	bpf_arena_free(p);		/* the real one still frees */
	assert_int_equal(frees() - f0, 1);
	/* Init-time arrays are not guarded: freeing one is the old no-op. */
	big = arena_alloc_large(3 * ARENA_PAGE_SIZE);
	assert_non_null(big);
	bpf_arena_free(big);
	bpf_arena_free(big + 8);
	assert_only(ARENA_SAN_INVALID_FREE, 5);
	assert_int_equal(frees() - f0, 1);
}

struct churn_arg {
	int id;
	unsigned long iters;
	int bad;
};

/* Allocate, fill every requested byte, check, free: the redzones must
 * never report correct concurrent use. */
static void *churn(void *arg)
{
	struct churn_arg *a = arg;
	__u64 rng = 0x9e3779b97f4a7c15ULL * (a->id + 1);
	__u8 *keep[8] = {};
	__u32 sz[8] = {};
	unsigned long i;
	__u32 j, s;

	arena_set_thread_slot(a->id);
	for (i = 0; i < a->iters; i++) {
		s = wl_next(&rng) % 8;
		if (keep[s]) {
			for (j = 0; j < sz[s]; j++)
				if (keep[s][j] != (__u8)(a->id + j))
					a->bad++;
			bpf_arena_free(keep[s]);
		}
		sz[s] = 1 + wl_next(&rng) % 600;
		keep[s] = bpf_arena_alloc(sz[s]);
		if (!keep[s]) {
			a->bad++;
			continue;
		}
		for (j = 0; j < sz[s]; j++)
			keep[s][j] = a->id + j;
	}
	for (s = 0; s < 8; s++)
		bpf_arena_free(keep[s]);
	return NULL;
}

static void test_concurrent_clean(void **state)
{
	struct churn_arg a[4];
	pthread_t t[4];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		a[i] = (struct churn_arg){ .id = i, .iters = unit_scale(20000) };
		assert_int_equal(pthread_create(&t[i], NULL, churn, &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].bad, 0);
	}
	assert_int_equal(arena_san_check(), 0);
	assert_true(cnt(ARENA_SAN_WALKED) > 0);
	assert_int_equal(total(), 0);
	assert_int_equal(unit_alloc_current(), 0);
}

#ifdef ARENA_SAN_ASAN
enum { DIE_UAF_READ, DIE_OVERFLOW_READ, DIE_UNDERFLOW_WRITE };

static void child_bug(int what)
{
	volatile __u8 *p;

	switch (what) {
	case DIE_UAF_READ:
		p = bpf_arena_alloc(32);
		bpf_arena_free((void *)p);
		(void)p[0];
		break;
	case DIE_OVERFLOW_READ:
		p = bpf_arena_alloc(13);
		(void)p[13];
		break;
	default:
		p = bpf_arena_alloc(32);
		p[-1] = 0;
	}
}

/* Run child_bug(@what) in a child; return its stderr and its status. */
static void run_child(int what, char *buf, size_t len, int *status)
{
	int fd[2];
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(fd[1], STDERR_FILENO);
		close(fd[0]);
		child_bug(what);
		_exit(0);		/* ASAN did not see it */
	}
	close(fd[1]);
	while (n + 1 < len && (r = read(fd[0], buf + n, len - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(fd[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
}

static void test_asan_reports(void **state)
{
	static char buf[1 << 16];
	int what, status;

	(void)state;
	for (what = DIE_UAF_READ; what <= DIE_UNDERFLOW_WRITE; what++) {
		run_child(what, buf, sizeof(buf), &status);
		if (!strstr(buf, "use-after-poison") || !strstr(buf, "#0 "))
			fail_msg("case %d: no ASAN report with a stack trace:\n%.2000s", what, buf);
		assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* The parent, which did none of it, is clean. */
	assert_int_equal(total(), 0);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_layout, san_setup, san_teardown),
		cmocka_unit_test_setup_teardown(test_overflow, san_setup, san_teardown),
		cmocka_unit_test_setup_teardown(test_underflow, san_setup, san_teardown),
		cmocka_unit_test_setup_teardown(test_use_after_free, san_setup, san_teardown),
		cmocka_unit_test_setup_teardown(test_double_free, san_setup, san_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_free, san_setup, san_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_clean, san_setup, san_teardown),
#ifdef ARENA_SAN_ASAN	/* the ASAN build only: plain and TSAN have no shadow */
		cmocka_unit_test_setup_teardown(test_asan_reports, san_setup, san_teardown),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
