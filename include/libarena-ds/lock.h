/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/lock.h - the arena spinlock's type, for heads that embed one
 * (the bounded lock itself is internal: lib/lock.h).
 */
#ifndef __LIBARENA_DS_LOCK_H
#define __LIBARENA_DS_LOCK_H

#include "common.h"

/* The holder word of a lock taken by a BPF program: this bit and its CPU
 * slot.  Anything else non-zero is a userspace thread's identity. */
#define ARENA_LOCK_KERNEL	(1ULL << 63)

struct arena_spinlock {
	__u64 holder;		/* 0: free; else who holds it (see above) */
	__u64 recovered;	/* taken over from a holder that died */
};

#endif /* __LIBARENA_DS_LOCK_H */
