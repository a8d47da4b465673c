/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/sanitize.h - the arena sanitizer mode (-DARENA_SANITIZE, `make
 * SANITIZE=1`): redzones around every allocator object, poison on free,
 * violation counters shared by BPF programs and userspace threads, and in
 * userspace builds with AddressSanitizer, ASAN shadow poisoning of arena
 * objects.  Without ARENA_SANITIZE every hook below is the identity and
 * compiles to nothing.
 *
 * Layout of one object in sanitizer mode (raw = what the allocator hands
 * out, p = what the caller gets, n = the requested size, N = n rounded up
 * to 8):
 *
 *   raw+0   8 bytes  the allocator's free-list link word: never touched
 *   raw+8   8 bytes  header: size n (16 bits), size class (8 bits), magic
 *                    ARENA_SAN_LIVE while allocated, ARENA_SAN_DEAD once
 *                    freed (32 bits, the bytes nearest to p)
 *   raw+16  8 bytes  front guard, ARENA_SAN_RZ_BYTE
 *   p=raw+24 n bytes the object
 *   p+n     N-n+16   rear redzone, ARENA_SAN_RZ_BYTE
 *
 * so an object costs ARENA_SAN_OVERHEAD (40) bytes more, rounded to its
 * size class.  Free checks the header (double free, invalid free), the
 * guard (underflow) and the rear redzone (overflow), then fills raw+16 ..
 * p+N+16 with ARENA_SAN_FREE_BYTE.  Allocating a reused object checks that
 * this poison is intact (a write after free); arena_san_check() walks the
 * shared free lists and every context's magazines and checks each freed
 * object the same way.  Each violation is
 * counted once, by kind, in arena_san_counts[] (in the allocator's state,
 * seen alike by BPF programs and userspace).
 *
 * ASAN (userspace, compiled with -fsanitize=address, and only while
 * arena_san_asan_on is set, i.e. on a standalone arena where no BPF program
 * allocates): header, guard and rear redzone of a live object and all of a
 * freed small object are poisoned in ASAN's shadow, so an access to them is
 * reported by ASAN ("use-after-poison") with a stack trace.  BPF programs
 * cannot update the shadow, so with a kernel (the skeleton driver) it stays
 * off: an object userspace freed may be handed out by a BPF program next.
 */
#ifndef __LIB_SANITIZE_H
#define __LIB_SANITIZE_H

/* Included by lib/alloc.h after the page header and size classes. */
#include <libarena-ds/sanitize.h>

#define ARENA_SAN_LIVE		0x4556494cU	/* "LIVE" */
#define ARENA_SAN_DEAD		0x44414544U	/* "DEAD" */
#define ARENA_SAN_RZ_BYTE	0xfaU
#define ARENA_SAN_FREE_BYTE	0xfdU
#define ARENA_SAN_RZ_WORD	0xfafafafafafafafaULL
#define ARENA_SAN_FREE_WORD	0xfdfdfdfdfdfdfdfdULL
#define ARENA_SAN_FRONT		24	/* link + header + guard */
#define ARENA_SAN_REAR		16
#define ARENA_SAN_OVERHEAD	(ARENA_SAN_FRONT + ARENA_SAN_REAR)
#define ARENA_SAN_MAX_REQ	0xffffU	/* the header keeps 16 bits of size */

#ifdef ARENA_SANITIZE
/* ------------------------------------------------------- sanitizer on */

/* The counters live in the allocator's state, in the arena, so BPF
 * programs and userspace threads count in one place.  Every path that
 * counts runs with the state set up. */
#define arena_san_counts (arena_alloc_st->san_counts)

#ifdef __BPF__
#define arena_san_count(kind) \
	__sync_fetch_and_add(&arena_san_counts[(kind) & (ARENA_SAN_NR_COUNTERS - 1)], 1)
/* Out of line: the callers' stacks (ds_batch, the hooks) are nearly full. */
#define ARENA_SAN_FN static __noinline
#else
/* Non-zero: keep ASAN's shadow in step (only where no BPF program allocates). */
int arena_san_asan_on __attribute__((weak));
#define arena_san_count(kind) \
	__atomic_fetch_add(&arena_san_counts[(kind) & (ARENA_SAN_NR_COUNTERS - 1)], 1, \
			   __ATOMIC_RELAXED)

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_SAN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_SAN_ASAN 1
#endif
#endif

#ifdef ARENA_SAN_ASAN
#include <sanitizer/asan_interface.h>
/*
 * The checks read and write poisoned bytes on purpose: they are not
 * instrumented, and not inlined into instrumented callers.
 */
#define ARENA_SAN_FN static __attribute__((noinline, no_sanitize_address, unused))
#define arena_san_poison(p, n) \
	do { if (arena_san_asan_on) __asan_poison_memory_region((void *)(p), (n)); } while (0)
#define arena_san_unpoison(p, n) \
	do { if (arena_san_asan_on) __asan_unpoison_memory_region((void *)(p), (n)); } while (0)
#endif
#endif /* __BPF__ */

#ifndef ARENA_SAN_FN
#define ARENA_SAN_FN static __always_inline
#endif
#ifndef arena_san_poison
#define arena_san_poison(p, n)		do { } while (0)
#define arena_san_unpoison(p, n)	do { } while (0)
#endif

/* Volatile accesses: never merged into a memset (which loses the arena
 * address space in BPF, and which ASAN's interceptor would check). */
#define arena_san_ld8(a)	(*(volatile __u8 __arena *)(a))
#define arena_san_st8(a, v)	(*(volatile __u8 __arena *)(a) = (v))
#define arena_san_ld64(a)	(*(volatile __u64 __arena *)(a))
#define arena_san_st64(a, v)	(*(volatile __u64 __arena *)(a) = (v))

static __always_inline __u32 arena_san_round8(__u32 n)
{
	return (n + 7) & ~7U;
}

/* Header word: magic << 32 | class << 16 | size. */
static __always_inline __u64 arena_san_hdr(__u32 magic, __u32 cls, __u32 size)
{
	return (__u64)magic << 32 | (__u64)(cls & 0xff) << 16 | (size & 0xffff);
}

/*
 * arena_san_size - what bpf_arena_alloc() really takes for a request of
 * @size bytes.  Pure arithmetic.  A request too large for the header is
 * passed through: the allocator refuses it as before.
 */
static __always_inline __u32 arena_san_size(__u32 size)
{
	if (size > ARENA_SAN_MAX_REQ)
		return size;
	return arena_san_round8(size) + ARENA_SAN_OVERHEAD;
}

/* End of the slot holding @raw: its size class's end, or the page's. */
static __always_inline __u64 arena_san_slot_end(__u64 raw, __u32 cls)
{
	if (cls == ARENA_CLASS_LARGE)
		return (raw & ~(__u64)(ARENA_PAGE_SIZE - 1)) + ARENA_PAGE_SIZE;
	return raw + arena_class_size(cls & 7);
}

/* Does a header of class @cls and size @size describe the slot at @raw? */
static __always_inline bool arena_san_hdr_fits(__u64 raw, __u32 cls, __u32 hcls, __u32 size)
{
	return hcls == cls &&
	       raw + arena_san_round8(size) + ARENA_SAN_OVERHEAD <= arena_san_slot_end(raw, cls);
}

/* Fill [a, a + n) with @word, 8 bytes at a time (@a and @n 8-aligned). */
static __always_inline void arena_san_fill(__u64 a, __u32 n, __u64 word)
{
	__u32 i;

	for (i = ARENA_ZERO; i < n / 8 && can_loop; i++)
		arena_san_st64(a + (__u64)i * 8, word);
}

/* Is [a, a + n) all @word?  (@a and @n 8-aligned.) */
static __always_inline bool arena_san_intact(__u64 a, __u32 n, __u64 word)
{
	__u32 i;

	for (i = ARENA_ZERO; i < n / 8 && can_loop; i++)
		if (arena_san_ld64(a + (__u64)i * 8) != word)
			return false;
	return true;
}

/* Bytes [p + size, p + round8(size)) and the two rear words: fill or test. */
static __always_inline void arena_san_rear_fill(__u64 p, __u32 size)
{
	__u32 i, end = arena_san_round8(size);

	for (i = size; i < end && can_loop; i++)
		arena_san_st8(p + i, ARENA_SAN_RZ_BYTE);
	arena_san_st64(p + end, ARENA_SAN_RZ_WORD);
	arena_san_st64(p + end + 8, ARENA_SAN_RZ_WORD);
}

static __always_inline bool arena_san_rear_intact(__u64 p, __u32 size)
{
	__u32 i, end = arena_san_round8(size);

	for (i = size; i < end && can_loop; i++)
		if (arena_san_ld8(p + i) != ARENA_SAN_RZ_BYTE)
			return false;
	return arena_san_ld64(p + end) == ARENA_SAN_RZ_WORD &&
	       arena_san_ld64(p + end + 8) == ARENA_SAN_RZ_WORD;
}

/*
 * If the slot at @raw holds a freed object (a DEAD header that fits the
 * slot), check its poison; count and repair a write after free.  Returns 1
 * if a freed object was checked, 0 for a slot that never held one.
 */
static __always_inline int arena_san_check_dead(__u64 raw, __u32 cls)
{
	__u64 h = arena_san_ld64(raw + 8);
	__u32 size = h & 0xffff, n;

	if ((__u32)(h >> 32) != ARENA_SAN_DEAD ||
	    !arena_san_hdr_fits(raw, cls, (h >> 16) & 0xff, size))
		return 0;
	n = arena_san_round8(size) + ARENA_SAN_OVERHEAD - 16;
	if (!arena_san_intact(raw + 16, n, ARENA_SAN_FREE_WORD)) {
		arena_san_count(ARENA_SAN_UAF_WRITE);
		arena_san_fill(raw + 16, n, ARENA_SAN_FREE_WORD);	/* count it once */
	}
	return 1;
}

/*
 * arena_san_on_alloc - turn the slot @obj that bpf_arena_alloc() took for a
 * request of @size bytes into a guarded object.  Called by the allocating
 * context only (it owns the slot).  Wait-free apart from the bounded checks.
 * Returns the caller's pointer (NULL for NULL).
 */
ARENA_SAN_FN void __arena *arena_san_on_alloc(void __arena *obj, __u32 size)
{
	struct arena_page_hdr __arena *pg;
	__u64 raw = (__u64)obj, p = raw + ARENA_SAN_FRONT;
	__u32 cls;

	if (!obj || size > ARENA_SAN_MAX_REQ)
		return obj;
	pg = (struct arena_page_hdr __arena *)(raw & ~(__u64)(ARENA_PAGE_SIZE - 1));
	cls = pg->class;
	arena_san_check_dead(raw, cls);
	arena_san_st64(raw + 8, arena_san_hdr(ARENA_SAN_LIVE, cls, size));
	arena_san_st64(raw + 16, ARENA_SAN_RZ_WORD);
	arena_san_rear_fill(p, size);
	arena_san_unpoison(p, size);
	arena_san_poison(raw + 8, ARENA_SAN_FRONT - 8);
	arena_san_poison(p + size, arena_san_slot_end(raw, cls) - (p + size));
	return (void __arena *)p;
}

/*
 * arena_san_on_free - check the object @ptr that bpf_arena_free() was given.
 * Any context, concurrently with anything (two frees of one object race on
 * one CAS; the loser counts a double free).  Lock-free.
 * Returns the slot to give back to the allocator, @ptr itself for what the
 * sanitizer does not guard (multi-page init arrays), or NULL when nothing
 * may be freed (double or invalid free, counted).
 */
ARENA_SAN_FN void __arena *arena_san_on_free(void __arena *ptr)
{
	struct arena_page_hdr __arena *pg;
	__u64 p = (__u64)ptr, page, raw, h, end;
	__u32 cls, size, csz, off;

	if (!ptr)
		return ptr;
	page = p & ~(__u64)(ARENA_PAGE_SIZE - 1);
	pg = (struct arena_page_hdr __arena *)page;
	if (pg->magic != ARENA_PAGE_MAGIC)
		goto invalid;
	cls = pg->class;
	if (cls == ARENA_CLASS_LARGE) {
		if (p == page + ARENA_PAGE_HDR)
			return ptr;		/* arena_alloc_large(): unguarded */
		if (p != page + ARENA_PAGE_HDR + ARENA_SAN_FRONT)
			goto invalid;
	} else {
		if (cls >= ARENA_NR_CLASSES || p < page + ARENA_PAGE_HDR + ARENA_SAN_FRONT)
			goto invalid;
		csz = arena_class_size(cls);
		off = p - (page + ARENA_PAGE_HDR + ARENA_SAN_FRONT);
		if (off % csz || off + csz > ARENA_PAGE_SIZE - ARENA_PAGE_HDR)
			goto invalid;
	}
	raw = p - ARENA_SAN_FRONT;
	h = arena_san_ld64(raw + 8);
	size = h & 0xffff;
	if ((__u32)(h >> 32) == ARENA_SAN_DEAD) {
		arena_san_count(ARENA_SAN_DOUBLE_FREE);
		return NULL;
	}
	if ((__u32)(h >> 32) != ARENA_SAN_LIVE ||
	    !arena_san_hdr_fits(raw, cls, (h >> 16) & 0xff, size)) {
		/* No live header: never allocated, or an underflow ran over
		 * guard and header (then the extent is unknown: leak it). */
		if (h && arena_san_ld64(raw + 16) != ARENA_SAN_RZ_WORD)
			arena_san_count(ARENA_SAN_UNDERFLOW);
		else
			arena_san_count(ARENA_SAN_INVALID_FREE);
		return NULL;
	}
	if (arena_atomic_cmpxchg((__u64 __arena *)(raw + 8), h,
				 arena_san_hdr(ARENA_SAN_DEAD, cls, size)) != h) {
		arena_san_count(ARENA_SAN_DOUBLE_FREE);
		return NULL;
	}
	if (arena_san_ld64(raw + 16) != ARENA_SAN_RZ_WORD)
		arena_san_count(ARENA_SAN_UNDERFLOW);
	if (!arena_san_rear_intact(p, size))
		arena_san_count(ARENA_SAN_OVERFLOW);
	end = arena_san_slot_end(raw, cls);
	arena_san_fill(raw + 16, arena_san_round8(size) + ARENA_SAN_OVERHEAD - 16,
		       ARENA_SAN_FREE_WORD);
	/* A one-page object's page goes back to the reserve and may be carved
	 * into any class: leave its shadow clean for the allocator. */
	if (cls == ARENA_CLASS_LARGE)
		arena_san_unpoison(raw + 8, end - (raw + 8));
	else
		arena_san_poison(raw + 8, end - (raw + 8));
	(void)end;
	return (void __arena *)raw;
invalid:
	arena_san_count(ARENA_SAN_INVALID_FREE);
	return NULL;
}

/*
 * arena_san_check - walk every size class's free list and check that each
 * freed object's poison is intact; a write after free is counted (and the
 * poison repaired, so it is counted once).  Only while no context allocates
 * or frees (e.g. before verify, all workers stopped).  Bounded by can_loop
 * in BPF.  Returns the violations this walk found; the number of freed
 * objects it checked is added to arena_san_counts[ARENA_SAN_WALKED].
 */
ARENA_SAN_FN int arena_san_check_lists(void)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	__u64 before = arena_san_counts[ARENA_SAN_UAF_WRITE], walked = 0;
	__u32 c, off, sl;
#ifndef __BPF__
	/* A corrupted list may cycle: can_loop bounds BPF, this userspace. */
	__u64 budget = (__u64)ARENA_MAX_PAGES * (ARENA_PAGE_SIZE / 16);
#define arena_san_walk_more() (budget-- > 0)
#else
#define arena_san_walk_more() true
#endif

	if (!st)
		return 0;
	for (c = ARENA_ZERO; c < ARENA_NR_CLASSES && can_loop; c++) {
		off = (__u32)arena_atomic_load(&st->class_free[c & 7].word);
		while (off && arena_san_walk_more() && can_loop) {
			__u64 raw = ARENA_BASE | off;

			walked += arena_san_check_dead(raw, c);
			off = (__u32)arena_san_ld64(raw);
		}
	}
	/* The per-context magazines hold freed objects too (linked the same
	 * way, @n of them). */
	for (sl = ARENA_ZERO; sl < ARENA_NR_SLOTS && can_loop; sl++) {
		for (c = ARENA_ZERO; c < ARENA_NR_CLASSES && can_loop; c++) {
			struct arena_mag __arena *m = &st->slot[sl].mag[c & 7];
			__u32 left = arena_atomic_load(&m->n);

			off = arena_atomic_load(&m->head);
			while (off && left-- && arena_san_walk_more() && can_loop) {
				__u64 raw = ARENA_BASE | off;

				walked += arena_san_check_dead(raw, c);
				off = (__u32)arena_san_ld64(raw);
			}
		}
	}
#undef arena_san_walk_more
	arena_atomic_add(&arena_san_counts[ARENA_SAN_WALKED], walked);
	return (int)(arena_san_counts[ARENA_SAN_UAF_WRITE] - before);
}

#ifdef __BPF__
/* A global function in BPF: verified once, with its own loop budget. */
__weak __noinline int arena_san_check(void)
{
	arena_bind();
	return arena_san_check_lists();
}
#else
static inline int arena_san_check(void)
{
	return arena_san_check_lists();
}

/*
 * Standalone arenas (arena_standalone.h): only userspace allocates there,
 * so ASAN's shadow can follow every object.  _asan_begin turns it on for a
 * fresh mapping (whose shadow is clean); _asan_end cleans the shadow of the
 * first @len bytes used at @base before the mapping goes.
 */
static inline void arena_san_asan_begin(void)
{
#ifdef ARENA_SAN_ASAN
	arena_san_asan_on = 1;
#endif
}

static inline void arena_san_asan_end(void *base, __u64 len)
{
	(void)base;
	(void)len;
#ifdef ARENA_SAN_ASAN
	arena_san_asan_on = 0;
	__asan_unpoison_memory_region(base, len);
#endif
}
#endif /* __BPF__ */

/*
 * arena_san_reclaim_check - the reclaimer is about to take the freed object
 * at @raw (class @cls) off its list, maybe to give its page back: check its
 * poison first, as arena_san_check() would.  Reclaimer only.
 */
static __always_inline void arena_san_reclaim_check(__u64 raw, __u32 cls)
{
	arena_atomic_add(&arena_san_counts[ARENA_SAN_WALKED], arena_san_check_dead(raw, cls));
}

/*
 * arena_san_page_recycled - an allocator path that hands a page out again in
 * a different layout (recarved into another size class, returned to the
 * kernel and mapped again) must call this first: it clears the page's ASAN
 * shadow so the allocator's own writes there are not reported.  Any
 * context; a no-op in BPF and without ASAN.
 */
static __always_inline void arena_san_page_recycled(void __arena *page)
{
	arena_san_unpoison(page, ARENA_PAGE_SIZE);
	(void)page;
}

#else /* !ARENA_SANITIZE */
/* ------------------------------------------------------ sanitizer off */

static __always_inline __u32 arena_san_size(__u32 size)
{
	return size;
}

static __always_inline void __arena *arena_san_on_alloc(void __arena *obj, __u32 size)
{
	(void)size;
	return obj;
}

static __always_inline void __arena *arena_san_on_free(void __arena *ptr)
{
	return ptr;
}

static __always_inline int arena_san_check(void)
{
	return 0;
}

static __always_inline void arena_san_page_recycled(void __arena *page)
{
	(void)page;
}

static __always_inline void arena_san_reclaim_check(__u64 raw, __u32 cls)
{
	(void)raw;
	(void)cls;
}

#ifndef __BPF__
static inline void arena_san_asan_begin(void)
{
}

static inline void arena_san_asan_end(void *base, __u64 len)
{
	(void)base;
	(void)len;
}
#endif
#endif /* ARENA_SANITIZE */

/*
 * arena_san_get_stats - sum of the violation counters.  Any context; a
 * snapshot.  All zero when the sanitizer is compiled out.
 */
static __always_inline void arena_san_get_stats(struct arena_san_stats *out)
{
	__u32 k;

	__builtin_memset(out, 0, sizeof(*out));
#ifdef ARENA_SANITIZE
	if (!arena_alloc_st)
		return;
	for (k = 0; k < ARENA_SAN_NR_KINDS; k++) {
		out->count[k] = arena_atomic_load(&arena_san_counts[k]);
		out->total += out->count[k];
	}
	out->walked = arena_atomic_load(&arena_san_counts[ARENA_SAN_WALKED]);
#else
	(void)k;
#endif
}

#endif /* __LIB_SANITIZE_H */
