/* SPDX-License-Identifier: GPL-2.0 */
/*
 * san_plant.h - test-only: plant one memory bug of a given kind in the
 * arena, from a BPF program or from userspace, so that tests can see the
 * sanitizer mode (lib/sanitize.h) report it.  The driver does it when
 * SKELETON_SAN_PLANT=<user|kernel>-<kind> is set in a SANITIZE=1 build.
 * Each plant leaves the allocator's counts balanced (one alloc, one free).
 */
#ifndef __SAN_PLANT_H
#define __SAN_PLANT_H

#include <libarena-ds/alloc.h>

enum san_plant_kind {
	SAN_PLANT_NONE = 0,
	SAN_PLANT_OVERFLOW,	/* write one byte past the end, then free */
	SAN_PLANT_UNDERFLOW,	/* write one byte before the start, then free */
	SAN_PLANT_UAF,		/* free, then write one byte into the object */
	SAN_PLANT_DOUBLE_FREE,	/* free twice */
	SAN_PLANT_INVALID_FREE,	/* free a pointer inside the object, then it */
	SAN_PLANT_MAX,
};

#define SAN_PLANT_NAMES \
	{ "none", "overflow", "underflow", "uaf", "double-free", "invalid-free" }

#define SAN_PLANT_SIZE 24	/* bytes of the victim object */

/* SEC("syscall") san_plant */
struct san_plant_args {
	__u32 kind;
	__s32 rc;		/* out: 0, or -1 when no memory */
};

/* Plant a bug of @kind.  Returns 0, or -1 when the victim cannot be had. */
static __always_inline int san_plant(__u32 kind)
{
	__u8 __arena *p = arena_malloc(SAN_PLANT_SIZE);

	if (!p)
		return -1;
	switch (kind) {
	case SAN_PLANT_OVERFLOW:
		p[SAN_PLANT_SIZE] = 1;
		arena_free(p);
		break;
	case SAN_PLANT_UNDERFLOW:
		*(p - 1) = 1;
		arena_free(p);
		break;
	case SAN_PLANT_UAF:
		arena_free(p);
		p[3] = 1;
		break;
	case SAN_PLANT_DOUBLE_FREE:
		arena_free(p);
		arena_free(p);
		break;
	case SAN_PLANT_INVALID_FREE:
		arena_free(p + 8);
		arena_free(p);
		break;
	default:
		arena_free(p);
	}
	return 0;
}

#endif /* __SAN_PLANT_H */
