/* SPDX-License-Identifier: GPL-2.0 */
/* alloc_bench.h - argument blocks shared by alloc_bench.bpf.c and alloc_bench.c. */
#ifndef __ALLOC_BENCH_H
#define __ALLOC_BENCH_H

/* Patterns: alloc+free back to back, or bursts of ALLOC_BURST allocations
 * followed by their frees (more than a magazine holds: refills, flushes). */
enum { ALLOC_PAT_PAIR = 0, ALLOC_PAT_BURST = 1 };
#define ALLOC_BURST 64

struct alloc_init_args {
	__u64 max_pages;
	__s32 rc;
	__u32 pad;
};

struct alloc_loop_args {
	__u32 pairs;		/* in: alloc+free pairs */
	__u32 size;		/* in: object size */
	__u32 pattern;		/* in: ALLOC_PAT_* */
	__u32 done;		/* out: pairs done */
	__u64 failed;		/* out: allocations answered NULL */
	__u64 ns;		/* out: time inside the loop */
};

#endif /* __ALLOC_BENCH_H */
