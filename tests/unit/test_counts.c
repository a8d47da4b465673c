// SPDX-License-Identifier: GPL-2.0
/*
 * The driver's outcome counters (driver/skeleton.h): the plain version
 * (threads, kernel workers) and the atomic one (hooks, whose runs on one
 * CPU may interleave) must count every return code in the same place, the
 * one the report names.  The atomic one used to index errors by -rc & 7, a
 * leftover of the old error codes: a hook's BUSY was reported as another
 * error ("not found"), and test_search_b failed whenever hooks met a held
 * lock.
 */
#include "unit.h"
#include "skeleton.h"

static void test_counts_same_slots(void **state)
{
	struct skel_counts plain, atomic;
	int i, rc;

	(void)state;
	for (i = -1; i < DS_NR_ERRORS; i++) {
		rc = i < 0 ? DS_SUCCESS : ds_err_of_index(i);
		memset(&plain, 0, sizeof(plain));
		memset(&atomic, 0, sizeof(atomic));
		skel_count(&plain, DS_OP_INSERT, rc);
		skel_count_atomic(&atomic, DS_OP_INSERT, rc);
		if (memcmp(&plain, &atomic, sizeof(plain)))
			fail_msg("%s counted in different places", ds_strerror(rc));
	}
	/* And BUSY lands under its own name. */
	memset(&atomic, 0, sizeof(atomic));
	skel_count_atomic(&atomic, DS_OP_SEARCH, DS_ERROR_BUSY);
	assert_int_equal(atomic.err[ds_err_index(DS_ERROR_BUSY)], 1);
	assert_string_equal(ds_strerror(ds_err_of_index(ds_err_index(DS_ERROR_BUSY))),
			    ds_strerror(DS_ERROR_BUSY));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_same_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
