/* SPDX-License-Identifier: GPL-2.0 */
/*
 * workload.h - the operation stream, written once for both sides: kernel
 * workers and userspace threads draw their keys and operations from the
 * same generator, so a mix means the same thing in every context.
 */
#ifndef __WORKLOAD_H
#define __WORKLOAD_H

#include "skeleton.h"

/* splitmix64: a full-period generator with one word of state. */
static __always_inline __u64 wl_next(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Fill @r with the next operation of the mix. */
static __always_inline void wl_pick(__u64 *state, __u32 key_range,
				    const struct skel_mix *mix, struct ds_req *r)
{
	__u64 x = wl_next(state);
	__u32 p = (__u32)(x % 100);
	__u64 key = (x >> 32) % (key_range ? key_range : 1);

	r->key = key;
	r->value = key * 2 + 1;
	r->hi = key + 16;
	if (p < mix->insert)
		r->op = DS_OP_INSERT;
	else if (p < mix->insert + mix->delete)
		r->op = DS_OP_DELETE;
	else if (p < mix->insert + mix->delete + mix->pop)
		r->op = DS_OP_POP;
	else if (p < mix->insert + mix->delete + mix->pop + mix->range)
		r->op = DS_OP_RANGE;
	else
		r->op = DS_OP_SEARCH;
}

#endif /* __WORKLOAD_H */
