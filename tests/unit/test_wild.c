// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: wild pointers planted in the arena (issue 16, item 12).
 *
 * Another process with the arena mapped can write anything anywhere.  The
 * verify path and EBR's limbo lists must check a pointer before following
 * it: report CORRUPT (or count it), never crash.  Each wild value below
 * would make a plain dereference fault: an address outside the arena, an
 * arena page the allocator does not hold (made inaccessible here, as the
 * kernel's SEGV_ON_FAULT arena does), and a misaligned one.
 */
#include <sys/mman.h>
#include "unit.h"

#define WILD_PAGES	4096

static __u64 wild_values[3];

static void wild_setup_values(void)
{
	__u64 npages, used;
	char *base, *hole;

	arena_standalone_span(&base, &npages, &used);
	hole = base + (npages - 1) * ARENA_PAGE_SIZE;

	assert_int_equal(mprotect(hole, ARENA_PAGE_SIZE, PROT_NONE), 0);
	wild_values[0] = 0x10000;			/* outside the arena */
	wild_values[1] = (__u64)hole + 64;		/* a page nobody holds */
	wild_values[2] = 0;				/* misaligned: set per word */
}

/* A word that holds a pointer a structure would follow. */
static int looks_like_link(__u64 v)
{
	return v && ds_link_ok(v);
}

/*
 * For every structure: fill it, then replace each word of the arena that
 * holds an arena pointer by each wild value in turn and verify.  Verify must
 * return (SUCCESS or CORRUPT), and some planting must be caught.
 */
static void test_verify_survives_wild_pointers(void **state)
{
	int kind;

	(void)state;
	for (kind = 0; kind < DS_KIND_MAX; kind++) {
		const struct ds_metadata *md = ds_metadata_of(kind);
		__u64 planted = 0, caught = 0, p, end, i, w, npages, used;
		char *base;
		struct ds_req r = { .op = DS_OP_VERIFY };
		void *h;
		int rc;

		assert_int_equal(arena_standalone_init(WILD_PAGES), 0);
		wild_setup_values();
		h = ds_create(kind);
		assert_non_null(h);
		for (i = 0; i < 40; i++)
			unit_op(kind, h, DS_OP_INSERT, i * 7 + 1, i, NULL);
		assert_int_equal(ds_quiesce(kind, h), 0);
		assert_int_equal(ds_dispatch(kind, h, &r), DS_SUCCESS);
		arena_standalone_span(&base, &npages, &used);
		end = (__u64)base + used * ARENA_PAGE_SIZE;
		for (p = (__u64)base; p < end; p += 8) {
			__u64 old = *(__u64 *)p;

			if (!looks_like_link(old))
				continue;
			for (w = 0; w < 3; w++) {
				*(__u64 *)p = w == 2 ? old + 3 : wild_values[w];
				rc = ds_dispatch(kind, h, &r);
				assert_true(rc == DS_SUCCESS || rc == DS_ERROR_CORRUPT);
				planted++;
				caught += rc == DS_ERROR_CORRUPT;
			}
			*(__u64 *)p = old;
		}
		assert_int_equal(ds_dispatch(kind, h, &r), DS_SUCCESS);
		print_message("  %-10s %llu wild links planted, %llu reported CORRUPT\n",
			      md->name, (unsigned long long)planted, (unsigned long long)caught);
		if (planted)
			assert_true(caught > 0);
		arena_standalone_fini();
	}
}

/* Limbo lists: a retired node's link overwritten with a wild value.  The
 * advance that frees the list stops there and counts it. */
static void test_ebr_limbo_wild_link(void **state)
{
	int w;

	(void)state;
	for (w = 0; w < 3; w++) {
		struct arena_ebr *ebr;
		void *nodes[100];
		int idx, i;

		assert_int_equal(arena_standalone_init(WILD_PAGES), 0);
		wild_setup_values();
		ebr = arena_alloc_large(sizeof(*ebr));
		assert_non_null(ebr);
		memset(ebr, 0, sizeof(*ebr));
		idx = arena_ebr_enter(ebr);
		for (i = 0; i < 100; i++) {
			nodes[i] = bpf_arena_alloc(32);
			assert_non_null(nodes[i]);
			arena_ebr_retire(ebr, idx, nodes[i]);
		}
		arena_ebr_exit(ebr, idx);
		/* nodes[50]'s limbo link (word 0) -> wild */
		*(__u64 *)nodes[50] = w == 2 ? (__u64)nodes[49] + 3 : wild_values[w];
		arena_ebr_flush(ebr);
		assert_int_equal(arena_atomic_load(&ebr->corrupt), 1);
		/* The nodes before the wild link were freed. */
		{
			struct arena_stats st;

			arena_get_stats(&st);
			assert_true(st.current <= 50);
		}
		arena_standalone_fini();
	}
}

/* bpf_arena_free() of a wild pointer: counted as failed, nothing read. */
static void test_free_wild_pointer(void **state)
{
	struct arena_stats st;

	(void)state;
	assert_int_equal(arena_standalone_init(WILD_PAGES), 0);
	wild_setup_values();
	bpf_arena_free((void *)wild_values[0]);
	bpf_arena_free((void *)wild_values[1]);
	arena_get_stats(&st);
	assert_int_equal(st.failed, 2);
	arena_standalone_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_survives_wild_pointers),
		cmocka_unit_test(test_ebr_limbo_wild_link),
		cmocka_unit_test(test_free_wild_pointer),
	};

	(void)unit_setup;	/* each test makes its own arenas */
	(void)unit_teardown;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
