/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena_ds.h - the arena object allocator, shared by BPF programs and
 * userspace threads.
 *
 * Layout
 *   Every page the allocator hands out starts with a 64-byte page header
 *   (struct arena_page_hdr); the objects follow it.  Small requests (up to
 *   ARENA_MAX_SMALL bytes) are served from size classes of 16..2016 bytes,
 *   8-byte aligned; a larger request takes whole pages.
 *
 * Sources of pages, per context
 *   - sleepable BPF (SEC("syscall"), lsm.s): arena_reserve_topup() calls
 *     bpf_arena_alloc_pages() and stocks the shared page reserve.  Only
 *     sleepable programs may call it; the verifier rejects it elsewhere on
 *     kernels before 7.0.
 *   - any BPF program: bpf_arena_alloc() takes objects from the class free
 *     lists, then carves a page from the reserve; an empty reserve gives NULL
 *     at once (callers return DS_ERROR_NOMEM), never a wait.
 *   - userspace threads: the same, and when the reserve is empty they ask
 *     arena_pages_hook for ARENA_REFILL_PAGES fresh pages (the driver's hook
 *     runs a SEC("syscall") program that calls bpf_arena_alloc_pages), push
 *     them into the reserve and retry once.  A userspace-only build (unit
 *     tests, sanitizers) installs a hook that carves pages from an mmap'd
 *     region at ARENA_BASE.  Userspace never touches an arena page the kernel
 *     has not handed out, so the kernel can never hand it out twice.
 *
 * Free lists are Treiber stacks whose head packs a 32-bit arena offset and a
 * 32-bit tag into one 64-bit word, so a plain 64-bit CAS is ABA-safe on both
 * sides.  Pages are never given back to the kernel: memory a structure can
 * still reach stays mapped, and a stale read never faults.
 *
 * Statistics are kept per slot (CPU for BPF, thread for userspace), each slot
 * in its own cache line, and summed on read: no shared counter on the hot
 * path.
 */
#ifndef __LIBARENA_DS_H
#define __LIBARENA_DS_H

#include "bpf_arena_common.h"

#define ARENA_PAGE_HDR		64
#define ARENA_NR_CLASSES	8
#define ARENA_MAX_SMALL		2016
#define ARENA_PAGE_MAGIC	0x41524e41U	/* "ARNA" */
#define ARENA_CLASS_LARGE	0xff
#define ARENA_REFILL_PAGES	16		/* pages per userspace refill */

/* Class sizes: powers of two up to 1024, then the largest size that fits
 * twice in a page after its header. */
static __always_inline __u32 arena_class_size(__u32 c)
{
	return c < 7 ? 16U << c : ARENA_MAX_SMALL;
}

static __always_inline int arena_size_class(__u32 size)
{
	if (size <= 16)   return 0;
	if (size <= 32)   return 1;
	if (size <= 64)   return 2;
	if (size <= 128)  return 3;
	if (size <= 256)  return 4;
	if (size <= 512)  return 5;
	if (size <= 1024) return 6;
	if (size <= ARENA_MAX_SMALL) return 7;
	return -1;
}

struct arena_page_hdr {
	__u32 magic;
	__u32 class;		/* size class, or ARENA_CLASS_LARGE */
	__u32 npages;		/* pages in this allocation (large objects) */
	__u32 pad;
	__u64 next;		/* link while the page sits in the reserve */
	__u8 rsvd[ARENA_PAGE_HDR - 24];
};

/* One slot's counters: only atomic adds, so slots may be shared. */
struct arena_slot_stats {
	__u64 allocs;		/* small objects handed out */
	__u64 frees;		/* small objects returned */
	__u64 failed;		/* requests answered with NULL */
	__u64 large_allocs;	/* page-sized allocations */
	__u64 pages_carved;	/* pages turned into objects */
	__u64 refills;		/* refill requests made (userspace) */
} ARENA_ALIGNED_CL;

struct arena_tagged_head {
	__u64 word;		/* tag << 32 | arena offset of the first item */
} ARENA_ALIGNED_CL;

/* The allocator's shared state: allocated by arena_setup() at init. */
struct arena_alloc_state {
	__u64 magic;
	__u64 max_pages;
	struct arena_tagged_head class_free[ARENA_NR_CLASSES];
	struct arena_tagged_head reserve;	/* free whole pages */
	__u64 reserve_count ARENA_ALIGNED_CL;	/* pages in the reserve */
	__u64 pages_total;			/* pages taken from the kernel */
	__u64 low_water;			/* top-up wanted below this */
	__u64 topup_requests;			/* low-water crossings seen */
	struct arena_slot_stats stats[ARENA_NR_SLOTS];
};

/* Summed view of the statistics. */
struct arena_stats {
	__u64 allocs, frees, current, failed;
	__u64 large_allocs, pages_carved, refills;
	__u64 reserve_pages, pages_total, topup_requests;
};

#ifdef __BPF__
/* Set by arena_setup() in the init program; userspace reads it from .bss. */
struct arena_alloc_state __arena *arena_alloc_st;
#else
extern struct arena_alloc_state *arena_alloc_st;
/*
 * Installed by the driver: return @npages fresh, contiguous, zeroed arena
 * pages that no one else holds, or NULL.  With a kernel it runs a
 * SEC("syscall") program; standalone it carves an mmap'd region.
 */
extern void *(*arena_pages_hook)(__u32 npages);
#define ARENA_ALLOC_DEFINE_GLOBALS				\
	ARENA_USER_DEFINE_GLOBALS;				\
	struct arena_alloc_state *arena_alloc_st;		\
	void *(*arena_pages_hook)(__u32 npages)
#endif

/* ---- tagged Treiber stacks of arena objects linked through their first word */

static __always_inline void arena_stack_push_chain(__u64 __arena *head,
						   void __arena *first,
						   void __arena *last)
{
	__u64 old, new;

	while (can_loop) {
		old = arena_atomic_load_acquire(head);
		*(__u64 __arena *)last = old & 0xffffffffULL;
		new = ((old >> 32) + 1) << 32 | arena_offset(first);
		if (arena_atomic_cmpxchg(head, old, new) == old)
			return;
	}
}

static __always_inline void __arena *arena_stack_pop(__u64 __arena *head)
{
	__u64 old, new, next;
	__u32 off;

	while (can_loop) {
		old = arena_atomic_load_acquire(head);
		off = (__u32)old;
		if (!off)
			return NULL;
		/* May read an object someone else just popped: the tag makes
		 * the CAS fail then, and the page is still mapped. */
		next = ARENA_READ_ONCE(*arena_ptr_from_off(__u64, off));
		new = ((old >> 32) + 1) << 32 | (next & 0xffffffffULL);
		if (arena_atomic_cmpxchg(head, old, new) == old)
			return arena_ptr_from_off(void, off);
	}
	return NULL;
}

static __always_inline struct arena_slot_stats __arena *arena_my_stats(void)
{
	return &arena_alloc_st->stats[arena_slot()];
}

/* ---- the page reserve */

static __always_inline void arena_reserve_push(void __arena *page)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;

	arena_stack_push_chain(&st->reserve.word, page, page);
	arena_atomic_add(&st->reserve_count, 1);
}

static __always_inline void __arena *arena_reserve_pop(void)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	void __arena *page;

	page = arena_stack_pop(&st->reserve.word);
	if (page) {
		arena_atomic_add(&st->reserve_count, -1);
		if (arena_atomic_load(&st->reserve_count) < arena_atomic_load(&st->low_water))
			arena_atomic_add(&st->topup_requests, 1);
	}
	return page;
}

/* Carve a fresh page into objects of class c: return the first object and
 * push the rest onto the class free list. */
static __always_inline void __arena *arena_carve(void __arena *page, __u32 c)
{
	struct arena_page_hdr __arena *hdr = page;
	__u32 sz = arena_class_size(c), n, i;
	char __arena *base = (char __arena *)page + ARENA_PAGE_HDR;
	char __arena *obj;

	hdr->magic = ARENA_PAGE_MAGIC;
	hdr->class = c;
	hdr->npages = 1;
	n = (ARENA_PAGE_SIZE - ARENA_PAGE_HDR) / sz;
	for (i = ARENA_ZERO; i + 1 < n && can_loop; i++) {
		obj = base + i * sz;
		*(__u64 __arena *)obj = arena_offset(obj + sz);
	}
	if (n > 1)
		arena_stack_push_chain(&arena_alloc_st->class_free[c].word,
				       base + sz, base + (n - 1) * sz);
	arena_atomic_add(&arena_my_stats()->pages_carved, 1);
	return base;
}

/* Recover the size class of an object from its page header. */
static __always_inline struct arena_page_hdr __arena *arena_page_of(void __arena *p)
{
	return (struct arena_page_hdr __arena *)((__u64)p & ~(__u64)(ARENA_PAGE_SIZE - 1));
}

/* ARENA_SANITIZE: redzones and poison (hooks in alloc/free below). */
#include "arena_sanitize.h"

#ifdef __BPF__
/*
 * Sleepable programs only (SEC("syscall"), lsm.s; any program on kernels
 * that allow it): take pages from the kernel.
 */
static __always_inline void __arena *arena_alloc_pages(__u32 npages)
{
	void __arena *p = bpf_arena_alloc_pages(&arena, NULL, npages, NUMA_NO_NODE, 0);

	if (p && arena_alloc_st)
		arena_atomic_add(&arena_alloc_st->pages_total, npages);
	return p;
}
#else
static inline void *arena_alloc_pages(__u32 npages)
{
	void *(*hook)(__u32) = arena_pages_hook;
	void *p;

	if (!hook)
		return NULL;
	p = hook(npages);
	if (p && arena_alloc_st)
		arena_atomic_add(&arena_alloc_st->pages_total, npages);
	return p;
}

/* Userspace slow path: move ARENA_REFILL_PAGES fresh pages into the reserve. */
static inline int arena_user_refill(void)
{
	char *p;
	int i;

	arena_atomic_add(&arena_my_stats()->refills, 1);
	p = arena_alloc_pages(ARENA_REFILL_PAGES);
	if (!p)
		return -1;
	for (i = 0; i < ARENA_REFILL_PAGES; i++)
		arena_reserve_push(p + (size_t)i * ARENA_PAGE_SIZE);
	return 0;
}
#endif

/*
 * bpf_arena_alloc - allocate an arena object of @size bytes (8-byte aligned).
 * Concurrency: any number of BPF programs and userspace threads at once.
 * Progress: lock-free (bounded by can_loop in BPF).
 * Returns: the object (contents undefined), or NULL when no memory is
 * available without sleeping (BPF) or after one refill (userspace).
 * Requests above ARENA_MAX_SMALL take one page; above a page, see
 * arena_alloc_large().
 */
static __always_inline void __arena *bpf_arena_alloc(__u32 size)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	void __arena *obj = NULL;
	__u32 san_req;				/* ARENA_SANITIZE hook */
	int c, tries;

	if (!st || !size)
		return NULL;
	san_req = size;				/* ARENA_SANITIZE hook */
	size = arena_san_size(size);		/* ARENA_SANITIZE hook */
	c = arena_size_class(size);
	for (tries = 0; tries < 2; tries++) {
		if (c >= 0) {
			obj = arena_stack_pop(&st->class_free[c & 7].word);
			if (obj)
				break;
		}
		if (size + ARENA_PAGE_HDR <= ARENA_PAGE_SIZE) {
			void __arena *page = arena_reserve_pop();

			if (page) {
				if (c >= 0) {
					obj = arena_carve(page, c & 7);
				} else {
					struct arena_page_hdr __arena *hdr = page;

					hdr->magic = ARENA_PAGE_MAGIC;
					hdr->class = ARENA_CLASS_LARGE;
					hdr->npages = 1;
					obj = (char __arena *)page + ARENA_PAGE_HDR;
				}
				break;
			}
		}
#ifdef __BPF__
		break;
#else
		if (arena_user_refill())
			break;
#endif
	}
	if (!obj) {
		arena_atomic_add(&arena_my_stats()->failed, 1);
		return NULL;
	}
	if (c >= 0)
		arena_atomic_add(&arena_my_stats()->allocs, 1);
	else
		arena_atomic_add(&arena_my_stats()->large_allocs, 1);
	return arena_san_on_alloc(obj, san_req);	/* ARENA_SANITIZE hook */
}

/*
 * bpf_arena_free - give back an object from bpf_arena_alloc().
 * Concurrency: any context, concurrently with anything.  Lock-free.
 * The caller guarantees no context can still reach @p (see arena_ebr.h for
 * structures whose readers run without locks).  NULL is ignored; a pointer
 * whose page header is not the allocator's is counted as failed and left.
 */
static __always_inline void bpf_arena_free(void __arena *p)
{
	struct arena_page_hdr __arena *hdr;
	__u32 c;

	p = arena_san_on_free(p);	/* ARENA_SANITIZE hook: NULL = bad free, counted */
	if (!p || !arena_alloc_st)
		return;
	hdr = arena_page_of(p);
	if (hdr->magic != ARENA_PAGE_MAGIC) {
		arena_atomic_add(&arena_my_stats()->failed, 1);
		return;
	}
	c = hdr->class;
	if (c == ARENA_CLASS_LARGE) {
		/* One-page objects go back to the reserve; multi-page ones are
		 * init-time arrays kept for the arena's lifetime. */
		if (hdr->npages == 1)
			arena_reserve_push(hdr);
		return;
	}
	arena_stack_push_chain(&arena_alloc_st->class_free[c & 7].word, p, p);
	arena_atomic_add(&arena_my_stats()->frees, 1);
}

/* Sum the per-slot statistics.  Any context; the result is a snapshot that
 * is exact once all writers are quiescent. */
static __always_inline void arena_get_stats(struct arena_stats *out)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	__u32 i;

	__builtin_memset(out, 0, sizeof(*out));
	if (!st)
		return;
	for (i = ARENA_ZERO; i < ARENA_NR_SLOTS && can_loop; i++) {
		out->allocs += arena_atomic_load(&st->stats[i].allocs);
		out->frees += arena_atomic_load(&st->stats[i].frees);
		out->failed += arena_atomic_load(&st->stats[i].failed);
		out->large_allocs += arena_atomic_load(&st->stats[i].large_allocs);
		out->pages_carved += arena_atomic_load(&st->stats[i].pages_carved);
		out->refills += arena_atomic_load(&st->stats[i].refills);
	}
	out->current = out->allocs - out->frees;
	out->reserve_pages = arena_atomic_load(&st->reserve_count);
	out->pages_total = arena_atomic_load(&st->pages_total);
	out->topup_requests = arena_atomic_load(&st->topup_requests);
}

/* Initialise allocator state placed at @st (zeroed memory of
 * sizeof(*st) bytes).  Called once, before any allocation. */
static __always_inline void arena_state_init(struct arena_alloc_state __arena *st,
					     __u64 max_pages, __u64 low_water)
{
	st->magic = ARENA_PAGE_MAGIC;
	st->max_pages = max_pages;
	st->low_water = low_water;
}

#define ARENA_STATE_PAGES \
	((sizeof(struct arena_alloc_state) + ARENA_PAGE_SIZE - 1) / ARENA_PAGE_SIZE)

/*
 * The functions below take pages from the kernel: in BPF they may only be
 * called from sleepable programs (SEC("syscall"), lsm.s) on kernels before
 * 7.0; in userspace they go through arena_pages_hook.
 */

/* Create the allocator state.  Returns 0 or -ENOMEM.  Call once, before
 * any other context allocates. */
static __always_inline int arena_setup(__u64 max_pages, __u64 low_water)
{
	struct arena_alloc_state __arena *st;

	if (arena_alloc_st)
		return 0;
	st = arena_alloc_pages(ARENA_STATE_PAGES);
	if (!st)
		return -12;
	arena_state_init(st, max_pages, low_water);
	st->pages_total = ARENA_STATE_PAGES;
	arena_alloc_st = st;
	return 0;
}

/* Bring the reserve up to @target pages.  Returns the number of pages
 * added; stops early when the arena is exhausted. */
static __always_inline int arena_reserve_topup(__u32 target)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	void __arena *page;
	int added = ARENA_ZERO;

	if (!st)
		return 0;
	while (arena_atomic_load(&st->reserve_count) < target && can_loop) {
		page = arena_alloc_pages(1);
		if (!page)
			break;
		arena_reserve_push(page);
		added++;
	}
	return added;
}

/* A multi-page object for init-time arrays (bucket tables, rings, heads).
 * Kept for the arena's lifetime; bpf_arena_free() ignores it. */
static __always_inline void __arena *arena_alloc_large(__u64 size)
{
	__u32 npages = (size + ARENA_PAGE_HDR + ARENA_PAGE_SIZE - 1) / ARENA_PAGE_SIZE;
	struct arena_page_hdr __arena *hdr;

	hdr = arena_alloc_pages(npages);
	if (!hdr)
		return NULL;
	hdr->magic = ARENA_PAGE_MAGIC;
	hdr->class = ARENA_CLASS_LARGE;
	hdr->npages = npages;
	arena_atomic_add(&arena_my_stats()->large_allocs, 1);
	return (char __arena *)hdr + ARENA_PAGE_HDR;
}

#endif /* __LIBARENA_DS_H */
