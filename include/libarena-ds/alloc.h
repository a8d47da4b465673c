/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/alloc.h - the arena object allocator, as applications see it.
 *
 * One allocator serves every context at once: BPF programs (sleepable or
 * not) and userspace threads working on the mmap'd arena.  Objects up to
 * ARENA_MAX_SMALL bytes come from size classes with per-context caches;
 * larger ones take whole pages.  Pages come from the kernel in sleepable
 * BPF programs (and, through a SEC("syscall") program of the library, for
 * userspace); a program that cannot sleep is served from a page reserve
 * that the sleepable side keeps topped up (see lib/alloc.h for the design).
 *
 * Every function here is a DS_API function: global (and __weak) in the
 * BPF object libarena-ds.bpf.o, extern in libarena-ds.a.  Functions that
 * return an arena pointer return it as a __u64 (a BPF global function may
 * only return a scalar); the macros cast it back.
 */
#ifndef __LIBARENA_DS_ALLOC_H
#define __LIBARENA_DS_ALLOC_H

#include "common.h"

#define ARENA_NR_CLASSES	8
#define ARENA_MAX_SMALL		2016

/* Bytes of an object of size class @c: powers of two up to 1024, then the
 * largest size that fits twice in a page after its 64-byte header. */
static __always_inline __u32 arena_class_size(__u32 c)
{
	return c < 7 ? 16U << c : ARENA_MAX_SMALL;
}

/* Summed view of the allocator's statistics (arena_stats_read()). */
struct arena_stats {
	__u64 allocs, frees, current, failed;
	__u64 large_allocs, pages_carved, refills;
	__u64 reserve_pages, pages_total, topup_requests;
	__u64 pages_returned, pages_held, pages_quarantined, pages_recycled;
	__u64 cached, steals, fallbacks, reclaim_runs;
	__u64 parked, park_drained;	/* frees parked when a loop budget ran out */
	__u64 reclaim_pending;		/* 1: parked items or a sort still to finish */
	__u64 reaped_guards;		/* guard/cache words taken back from dead threads */
	__u64 abandoned;		/* objects left in the caches of dead holders */
	__u64 class_allocs[ARENA_NR_CLASSES];
	__u64 class_frees[ARENA_NR_CLASSES];
	__u64 class_current[ARENA_NR_CLASSES];
};

/*
 * arena_malloc - an object of @size bytes, 8-byte aligned, contents
 * undefined.  Any context, concurrently with anything; lock-free.
 * NULL when nothing is available without sleeping.
 */
DS_API __u64 arena_malloc_u64(__u32 size);
#define arena_malloc(size) ((void __arena *)arena_malloc_u64(size))

/*
 * arena_free - give back an object from arena_malloc().  Any context,
 * lock-free.  The caller guarantees no other context can still reach it.
 * Returns 0, or -EINVAL (-22) for a pointer the allocator does not own
 * (counted, left alone).
 */
DS_API int arena_free(void __arena *p __arg_arena);

/*
 * arena_malloc_pages - a zeroed object of @size bytes on pages of its own,
 * kept for the arena's lifetime (arrays, heads).  Sleepable BPF or
 * userspace only.
 */
DS_API __u64 arena_malloc_pages_u64(__u64 size);
#define arena_malloc_pages(size) ((void __arena *)arena_malloc_pages_u64(size))

/*
 * arena_init - create the allocator state (once; later calls return 0).
 * @max_pages: the arena's size in pages; @low_water: reserve pages under
 * which a top-up is requested.  Sleepable BPF or userspace.  0 or -ENOMEM.
 */
DS_API int arena_init(__u64 max_pages, __u64 low_water);

/* Bring the page reserve up to @target pages.  Sleepable BPF or userspace.
 * Returns the pages added. */
DS_API int arena_refill(__u32 target);

/*
 * Give fully free pages back to the kernel after a grace period (@flush:
 * empty idle per-context caches first).  Sleepable BPF, or a standalone
 * userspace arena.  One caller at a time: -EBUSY (-16) for the others.
 * Returns the pages given back.
 */
DS_API int arena_return_pages(int flush);

/* Pages in the reserve now (for deciding when to call arena_refill()).
 * Any context. */
DS_API __u64 arena_reserve_pages(void);

/* Address of the last page arena_return_pages() gave back, 0 if none
 * (for tests that touch it to see a use after return fault). */
DS_API __u64 arena_last_returned_page(void);

/* Fill @out with summed statistics.  Any context; a snapshot.  Returns 0,
 * or -ENOENT (-2) before arena_init(). */
DS_API int arena_stats_read(struct arena_stats *out);

/* Push every idle per-context cache to the shared lists (@off = 1: and
 * keep caches off, for measurements; 0: back on).  Quiescent points only.
 * Returns the caches that were busy and skipped. */
DS_API int arena_caches_off(int off);

#ifndef __BPF__
/*
 * Userspace: run the allocator on a plain anonymous mapping at ARENA_BASE
 * instead of a kernel arena (unit tests, sanitizers, benchmarks): the same
 * code BPF programs run.  Returns 0, or -1 when the range is taken.
 */
int arena_standalone_init(__u64 npages);
void arena_standalone_fini(void);
/*
 * As arena_standalone_init(), on a MAP_SHARED mapping: a fork()ed child
 * works on the very arena of its parent (tests of what one process leaves
 * behind for another).  The page bookkeeping stays in the parent: a child
 * must not take pages (no refill, no reclaim).
 */
int arena_standalone_init_shared(__u64 npages);
/*
 * Take back every allocator guard word (cache ownership words included)
 * that a dead thread or process holds, dropping such a cache's contents.
 * For a housekeeping loop when pages go back in BPF (arena_return_pages()
 * run in userspace does it on its own).  Any thread, at any time.  Returns
 * the words taken back.
 */
int arena_reap_dead_guards(void);
/* Pages a standalone arena got back from arena_return_pages(). */
__u64 arena_standalone_returned(void);
/* The standalone arena's mapping: its first byte, its size in pages, and
 * the pages handed out so far (for tests that scan or poke it). */
void arena_standalone_span(char **base, __u64 *npages, __u64 *used);
#endif

#endif /* __LIBARENA_DS_ALLOC_H */
