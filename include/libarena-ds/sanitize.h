/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/sanitize.h - what applications see of the sanitizer mode
 * (a library built with -DARENA_SANITIZE, `make SANITIZE=1`): violation
 * kinds and counters.  The mechanism (redzones, poison) is lib/sanitize.h.
 */
#ifndef __LIBARENA_DS_SANITIZE_H
#define __LIBARENA_DS_SANITIZE_H

#include "common.h"

/* Violation kinds, the index into arena_san_counts[]. */
enum arena_san_kind {
	ARENA_SAN_OVERFLOW = 0,		/* rear redzone written */
	ARENA_SAN_UNDERFLOW,		/* front guard written */
	ARENA_SAN_UAF_WRITE,		/* freed object written */
	ARENA_SAN_DOUBLE_FREE,
	ARENA_SAN_INVALID_FREE,		/* not an object the allocator gave */
	ARENA_SAN_NR_KINDS,
	ARENA_SAN_WALKED = ARENA_SAN_NR_KINDS,	/* freed objects arena_san_check() saw */
	ARENA_SAN_NR_COUNTERS = 8,
};

/* Names, for reports: "overflow", "underflow", ... */
#define ARENA_SAN_KIND_NAMES \
	{ "overflow", "underflow", "use-after-free", "double-free", "invalid-free" }

/* A snapshot of the counters. */
struct arena_san_stats {
	__u64 count[ARENA_SAN_NR_KINDS];
	__u64 total;			/* sum of count[] */
	__u64 walked;			/* freed objects checked by arena_san_check() */
};

#ifdef ARENA_SANITIZE
#define ARENA_SAN_ENABLED 1
#else
#define ARENA_SAN_ENABLED 0
#endif

/*
 * arena_san_stats_read - the violation counters summed into @out.  Any
 * context; a snapshot; all zero when the sanitizer is compiled out.
 * Returns 0.
 */
DS_API int arena_san_stats_read(struct arena_san_stats *out);

/*
 * arena_san_check_all - check the poison of every free object held by the
 * allocator (shared lists and every context's caches); violations are
 * counted.  Quiescent points.  Returns the write-after-free violations
 * found by this call (0 when the sanitizer is compiled out).
 */
DS_API int arena_san_check_all(void);

#endif /* __LIBARENA_DS_SANITIZE_H */
