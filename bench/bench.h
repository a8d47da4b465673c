/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - what the benchmark's BPF object and its userspace driver share:
 * the argument block of the SEC("syscall") loops and the key stream.
 */
#ifndef __BENCH_H
#define __BENCH_H

/* Operations of one timed loop. */
enum bench_op {
	BENCH_FILL,	/* insert keys perm(0..n-1) (untimed use) */
	BENCH_LOOKUP,	/* n searches of random keys in [0, range) */
	BENCH_UPDATE,	/* n value updates of random keys in [0, range) */
	BENCH_DELETE,	/* delete keys perm(0..n-1) */
	BENCH_MIX,	/* search_pct% search, the rest insert/delete 50/50 */
	BENCH_PAIR,	/* n push+pop pairs (queues, stacks) */
	BENCH_PQ,	/* insert keys first+perm(0..n/2-1), then n/2 pop-min */
};

struct bench_args {
	__u32 op;		/* enum bench_op */
	__u32 range;		/* key range, a power of two */
	__u64 n;		/* operations (pairs for BENCH_PAIR) */
	__u64 seed;		/* key stream state, advanced on return */
	__u32 search_pct;
	__u32 first;		/* FILL/DELETE: first permutation index; PQ: key offset */
	__u64 ns;		/* out: time inside the loop */
	__u64 done;		/* out: operations completed */
	__u64 ok;		/* out: operations that returned success */
	__u32 variant;		/* prof_run: enum bench_prof */
	__u32 pad;
};

/* prof_run: one piece of an arena hash lookup at a time (bench.bpf.c). */
enum bench_prof {
	PROF_LOOP,	/* key stream only: the loop's own cost */
	PROF_EBR,	/* + arena_ebr_enter/exit, no table access */
	PROF_COUNT,	/* + ds_count() statistics, no table access */
	PROF_WALK,	/* + bucket walk, no EBR, no statistics */
	PROF_WALK_EBR,	/* + bucket walk inside EBR, no statistics */
	PROF_INLINE,	/* ds_hash_search() inlined (no bench_dispatch call) */
	PROF_DISPATCH,	/* ds_hash_search() through bench_dispatch (= arena_run) */
	PROF_PLAIN,	/* walk in EBR + statistics as plain (non-atomic) adds */
	PROF_BATCH,	/* walk + plain statistics, EBR entered once per batch */
	PROF_MAX,
};

struct bench_init_args {
	__u64 max_pages;
	__s32 rc;
	__u32 pad;
};

/* splitmix64: the one key stream every contender draws from. */
static __always_inline __u64 bench_rng(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A permutation of [0, range) for a power-of-two range. */
static __always_inline __u64 bench_perm(__u64 i, __u32 range)
{
	return (i * 0x9e3779b1ULL) & (range - 1);
}

/* The operation of step @i of @a's loop, drawn from the key stream. */
static __always_inline void bench_pick(const struct bench_args *a, __u64 *s, __u64 i,
				       __u32 *op, __u64 *key)
{
	__u64 x;

	switch (a->op) {
	case BENCH_FILL:
	case BENCH_DELETE:
		*op = a->op;
		*key = bench_perm(a->first + i, a->range);
		return;
	case BENCH_MIX:
		x = bench_rng(s);
		*key = (x >> 32) & (a->range - 1);
		if ((__u32)(x % 100) < a->search_pct)
			*op = BENCH_LOOKUP;
		else
			*op = (x >> 16) & 1 ? BENCH_FILL : BENCH_DELETE;
		return;
	default:
		x = bench_rng(s);
		*key = (x >> 32) & (a->range - 1);
		*op = a->op;
	}
}

#endif /* __BENCH_H */
