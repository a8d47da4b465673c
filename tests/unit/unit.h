/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unit.h - shared pieces of the userspace unit tests (cmocka).
 *
 * Each test file includes this once.  It runs the library on a standalone
 * arena (arena_standalone_init()) and offers checks every keyed structure can
 * reuse through the registry:
 *   unit_model_check_keyed() - random ops vs a plain reference map
 *   unit_stress()            - N threads of mixed ops, then quiesce, verify
 *                              and conservation
 *   unit_check_conservation() - elements and allocator objects agree, the
 *                              driver's rule (inline structures included)
 *   unit_fill_until_nomem()  - insert until the arena runs dry
 * Sequence structures (FIFO/LIFO/deque: unit_model_check_seq(),
 * unit_prodcons()) and corruption suites (unit_expect_corrupt(), tables of
 * struct unit_corruption) have theirs in unit_model.h and unit_corrupt.h,
 * included at the end.
 * Scale follows TEST_MODE (quick / verify / stress).
 */
#ifndef __UNIT_H
#define __UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libarena-ds/registry.h>
#include <libarena-ds/sanitize.h>
/* White-box: the library's internals (lib/) are in reach of the tests. */
#include "ds_internal.h"
#include "workload.h"

#define UNIT_ARENA_PAGES (1U << 16)	/* 256 MiB of address space */

static inline int unit_stress_mode(void)
{
	const char *m = getenv("TEST_MODE");

	return m && !strcmp(m, "stress");
}

/* Sanitizer builds run the same checks on less work. */
static inline unsigned long unit_scale(unsigned long n)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	n /= 4;
#endif
	return unit_stress_mode() ? n * 10 : n;
}

static int unit_setup(void **state)
{
	(void)state;
	return arena_standalone_init(UNIT_ARENA_PAGES);
}

static int unit_teardown(void **state)
{
	struct arena_san_stats san;

	(void)state;
	arena_standalone_fini();
	/* Sanitizer mode (SANITIZE=1): a violation counted is a failure. */
	arena_san_get_stats(&san);
	if (san.total) {
		print_error("arena sanitizer: %llu violations (overflow %llu, underflow %llu, "
			    "use-after-free %llu, double free %llu, invalid free %llu)\n",
			    (unsigned long long)san.total, (unsigned long long)san.count[0],
			    (unsigned long long)san.count[1], (unsigned long long)san.count[2],
			    (unsigned long long)san.count[3], (unsigned long long)san.count[4]);
		return -1;
	}
	return 0;
}

static inline int unit_op(int kind, void *head, int op, __u64 key, __u64 value,
			  struct ds_req *out)
{
	struct ds_req r = { .op = op, .key = key, .value = value, .hi = value };
	int rc = ds_dispatch(kind, head, &r);

	if (out)
		*out = r;
	return rc;
}

/* Objects the allocator holds now (small objects; heads are large). */
static inline __s64 unit_alloc_current(void)
{
	struct arena_stats st;

	arena_get_stats(&st);
	return (__s64)st.current;
}

/*
 * Insert keys 0, 1, ... (value key + @voff) into the structure at @h until
 * the arena runs dry: each insert succeeds until one is NOMEM, before
 * @limit keys; verify passes then.  Returns how many went in.
 */
static inline __u64 unit_fill_until_nomem(int kind, void *h, __u64 limit, __u64 voff)
{
	__u64 k, stored = 0;
	int rc = DS_SUCCESS;

	for (k = 0; k < limit; k++) {
		rc = unit_op(kind, h, DS_OP_INSERT, k, k + voff, NULL);
		if (rc == DS_ERROR_NOMEM)
			break;
		assert_int_equal(rc, DS_SUCCESS);
		stored++;
	}
	assert_int_equal(rc, DS_ERROR_NOMEM);
	assert_int_equal(unit_op(kind, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	return stored;
}

/*
 * Conservation once the structure at @h is quiet (after ds_quiesce()): it
 * counts @n elements, and the allocator holds one object per element plus
 * the fixed ones, or only the fixed ones when the elements are stored inline
 * (DS_CAP_INLINE: the driver's verify_all() skips the per-element objects
 * for them too).
 */
static inline void unit_check_conservation(int kind, void *h, __s64 n)
{
	const struct ds_metadata *md = ds_metadata_of(kind);
	__s64 objects = md->caps & DS_CAP_INLINE ? 0 : n;
	struct ds_stats st;

	ds_get_stats(kind, h, &st);
	if ((__s64)st.current_elements != n)
		fail_msg("%s: %lld elements counted, %lld expected", md->name,
			 (long long)st.current_elements, (long long)n);
	if (unit_alloc_current() != objects + (__s64)md->fixed_objects)
		fail_msg("%s: %lld allocator objects for %lld elements (+%u fixed)%s", md->name,
			 (long long)unit_alloc_current(), (long long)n, md->fixed_objects,
			 md->caps & DS_CAP_INLINE ? " stored inline" : "");
}

/*
 * Keyed structures (DS_CAP_KEYED): apply @nops random operations to the
 * structure and to a reference map; every return code, every value read and
 * the final contents must agree.  Bounded structures (DS_CAP_BOUNDED) may
 * answer an insert of a new key with FULL, which changes nothing.
 */
static inline void unit_model_check_keyed(int kind, unsigned long nops, __u32 key_range,
					  __u64 seed)
{
	const struct ds_metadata *md = ds_metadata_of(kind);
	void *h = ds_create(kind);
	unsigned char *present = calloc(key_range, 1);
	__u64 *val = calloc(key_range, sizeof(*val));
	__u64 rng = seed, n = 0, k, i;
	struct ds_req r;
	int rc, want;

	assert_non_null(h);
	assert_non_null(present);
	assert_non_null(val);
	for (i = 0; i < nops; i++) {
		__u64 x = wl_next(&rng);
		int p = x % 100;

		k = (x >> 32) % key_range;
		if (p < 40) {
			rc = unit_op(kind, h, DS_OP_INSERT, k, x, NULL);
			want = present[k] ? DS_ERROR_EXISTS : DS_SUCCESS;
			if (rc == DS_ERROR_FULL && want == DS_SUCCESS &&
			    (md->caps & DS_CAP_BOUNDED))
				continue;
			assert_int_equal(rc, want);
			if (!present[k]) {
				present[k] = 1;
				val[k] = x;
				n++;
			}
		} else if (p < 65) {
			rc = unit_op(kind, h, DS_OP_DELETE, k, 0, NULL);
			assert_int_equal(rc, present[k] ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (present[k]) {
				present[k] = 0;
				n--;
			}
		} else if (p < 90 || !(md->caps & (DS_CAP_POP | DS_CAP_RANGE))) {
			rc = unit_op(kind, h, DS_OP_SEARCH, k, 0, &r);
			assert_int_equal(rc, present[k] ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (present[k])
				assert_true(r.out_value == val[k]);
		} else if (p < 95 && (md->caps & DS_CAP_POP)) {
			__u64 m;

			rc = unit_op(kind, h, DS_OP_POP, 0, 0, &r);
			if (!n) {
				assert_int_equal(rc, DS_ERROR_NOT_FOUND);
				continue;
			}
			assert_int_equal(rc, DS_SUCCESS);
			if (md->caps & DS_CAP_ORDERED) {
				for (m = 0; m < key_range && !present[m]; m++)
					;
				assert_true(r.out_key == m);
			}
			assert_true(r.out_key < key_range && present[r.out_key]);
			assert_true(r.out_value == val[r.out_key]);
			present[r.out_key] = 0;
			n--;
		} else if (md->caps & DS_CAP_RANGE) {
			__u64 lo = k, hi = k + (x & 63), cnt = 0, m;

			for (m = lo; m <= hi && m < key_range; m++)
				cnt += present[m];
			rc = unit_op(kind, h, DS_OP_RANGE, lo, hi, &r);
			assert_int_equal(rc, DS_SUCCESS);
			assert_true(r.out_value == cnt);
		}
	}
	/* Final contents: exactly the reference keys, with their values. */
	for (k = 0; k < key_range; k++) {
		rc = unit_op(kind, h, DS_OP_SEARCH, k, 0, &r);
		assert_int_equal(rc, present[k] ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
	}
	assert_int_equal(ds_quiesce(kind, h), 0);
	rc = unit_op(kind, h, DS_OP_VERIFY, 0, 0, NULL);
	assert_int_equal(rc, DS_SUCCESS);
	unit_check_conservation(kind, h, (__s64)n);
	free(present);
	free(val);
}

struct unit_thread {
	pthread_t tid;
	int kind;
	void *head;
	unsigned long nops;
	__u32 key_range;
	struct skel_mix mix;
	__u64 seed;
	pthread_barrier_t *barrier;
	struct skel_counts counts;
};

static void *unit_worker(void *arg)
{
	struct unit_thread *t = arg;
	__u64 rng = t->seed;
	struct ds_req r;
	unsigned long i;
	int rc;

	pthread_barrier_wait(t->barrier);
	for (i = 0; i < t->nops; i++) {
		memset(&r, 0, sizeof(r));
		wl_pick(&rng, t->key_range, &t->mix, &r);
		rc = ds_dispatch(t->kind, t->head, &r);
		skel_count(&t->counts, r.op, rc);
	}
	return NULL;
}

/*
 * @nthreads threads run @nops operations of @mix each on a new structure;
 * afterwards no error codes (misses such as FULL are fine), quiesce drains,
 * verify passes, and inserts - deletes - pops is the element count and
 * conserves allocator objects (unit_check_conservation()).  Returns the
 * structure, for checks of the caller's own.
 */
static inline void *unit_stress(int kind, int nthreads, unsigned long nops, __u32 key_range,
				struct skel_mix mix)
{
	struct unit_thread *t = calloc(nthreads, sizeof(*t));
	pthread_barrier_t barrier;
	void *h = ds_create(kind);
	__s64 live = 0;
	int i, e;

	assert_non_null(h);
	assert_non_null(t);
	pthread_barrier_init(&barrier, NULL, nthreads);
	for (i = 0; i < nthreads; i++) {
		t[i].kind = kind;
		t[i].head = h;
		t[i].nops = nops;
		t[i].key_range = key_range;
		t[i].mix = mix;
		t[i].seed = 0x1234 + i * 7919;
		t[i].barrier = &barrier;
		assert_int_equal(pthread_create(&t[i].tid, NULL, unit_worker, &t[i]), 0);
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i].tid, NULL);
	pthread_barrier_destroy(&barrier);
	for (i = 0; i < nthreads; i++) {
		for (e = 1; e < DS_NR_ERRORS; e++)
			if (!ds_rc_is_miss(ds_err_of_index(e)) && t[i].counts.err[e])
				fail_msg("thread %d: %llu x %s", i,
					 (unsigned long long)t[i].counts.err[e], ds_strerror(ds_err_of_index(e)));
		live += t[i].counts.ok[DS_OP_INSERT] - t[i].counts.ok[DS_OP_DELETE] -
			t[i].counts.ok[DS_OP_POP];
	}
	assert_int_equal(ds_quiesce(kind, h), 0);
	assert_int_equal(unit_op(kind, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	unit_check_conservation(kind, h, live);
	free(t);
	return h;
}

#include "unit_model.h"
#include "unit_corrupt.h"

#endif /* __UNIT_H */
