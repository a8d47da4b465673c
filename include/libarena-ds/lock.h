/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/lock.h - the arena spinlock's type, for heads that embed one
 * (the bounded lock itself is internal: lib/lock.h).
 */
#ifndef __LIBARENA_DS_LOCK_H
#define __LIBARENA_DS_LOCK_H

#include "common.h"

struct arena_spinlock {
	__u32 locked;
	__u32 owner;		/* arena_slot() of the holder, for debugging */
};

#endif /* __LIBARENA_DS_LOCK_H */
