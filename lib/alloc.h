/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/alloc.h - the arena object allocator, shared by BPF programs and
 * userspace threads: its internal, inline implementation.  The library's
 * own code (structures, EBR) uses these fast paths directly; applications
 * call the DS_API functions of <libarena-ds/alloc.h> (lib/alloc.c).
 *
 * Layout
 *   Every page the allocator hands out starts with a 64-byte page header
 *   (struct arena_page_hdr); the objects follow it.  Small requests (up to
 *   ARENA_MAX_SMALL bytes) are served from size classes of 16..2016 bytes,
 *   8-byte aligned; a larger request takes whole pages.
 *
 * Three levels, fastest first
 *   1. a per-context cache: one per slot (arena_slot(): CPU for BPF, thread
 *      for userspace), a small magazine of up to arena_cache_max() free
 *      objects per class (64, fewer above 128 bytes), linked through their
 *      first word.  A slot may be
 *      shared (threads beyond 64, BPF programs nesting or being preempted on
 *      one CPU), so each slot's cache is guarded by an ownership word taken
 *      with one CAS; a context that finds it busy does not wait, it uses the
 *      shared lists directly (the "fallback" path);
 *   2. the shared class free lists: Treiber stacks whose head packs a 32-bit
 *      arena offset and a 32-bit tag, so a plain 64-bit CAS is ABA-safe on
 *      both sides.  An empty magazine is refilled with one CAS that takes a
 *      chain of up to ARENA_CACHE_BATCH objects; a full one is flushed with
 *      one CAS that pushes its whole chain;
 *   3. the page reserve (whole free pages), then the kernel:
 *      - sleepable BPF (SEC("syscall"), lsm.s): arena_reserve_topup() calls
 *        bpf_arena_alloc_pages() and stocks the reserve;
 *      - any BPF program: an empty reserve gives NULL at once (callers return
 *        DS_ERROR_NOMEM), never a wait; reserve_count falling below low_water
 *        counts a top-up request, which the driver's refill program serves;
 *      - userspace: when the reserve is empty it asks arena_pages_hook for
 *        ARENA_REFILL_PAGES fresh pages (then for one), pushes them into the
 *        reserve and retries once.  Userspace never touches an arena page the
 *        kernel has not handed out.
 *   When all of that fails, the slow path steals the magazine of the same
 *   class from another slot's cache (if that cache is idle), so objects
 *   parked in caches are never lost to an allocation that needs them.
 *
 * Pages back to the kernel (arena_reclaim(), sleepable BPF or standalone)
 *   A page whose objects are all free goes back with bpf_arena_free_pages().
 *   The danger is the stale read of a Treiber pop: a context reads head = o,
 *   is delayed, and only then reads o's link word; if o's page has been
 *   returned meanwhile, a userspace read faults a fresh page in (the arena
 *   fault handler allocates one, which then leaks) and a BPF read gives 0.
 *   The protocol:
 *   (a) Detach.  The reclaimer (one at a time: reclaim_lock) takes each class
 *       list wholesale with a tagged CAS, walks it privately and sorts the
 *       objects into per-page chains, counting them in the page header
 *       (scan_cnt).  Every free object is in exactly one place (a user, a
 *       magazine, a shared list, or this detached chain), so a page whose
 *       scan_cnt equals its object count is fully free and no list or cache
 *       holds any of its objects.  Other pages' chains are pushed back.
 *   (b) Grace period.  Every pop from a shared list (class list or reserve)
 *       runs inside a guard: the slot's ownership word when the context holds
 *       its cache, otherwise one of ARENA_NR_GUARDS fallback guard words.  A
 *       guard word is a sequence: odd while held, +1 on take (a fully ordered
 *       CAS) and +1 on release (a release store); it names its holder too
 *       and may wrap (see Dead holders), which only ever delays a return.
 *       After (a) the reclaimer snapshots every guard word (quarantine
 *       time) and frees the quarantined pages only once every word that was
 *       odd then has changed.  Why that suffices: a context C that can still read a
 *       link word in page P read a head pointing into P before the reclaimer
 *       detached P's last object, so C took its guard before that and has not
 *       left it; its word is odd in the snapshot and has not changed.  A
 *       context whose guard was even at the snapshot took it afterwards: its
 *       taking CAS and the reclaimer's detach CAS are both fully ordered, so
 *       it reads a head at least as new as the detach, and no list reachable
 *       from such a head contains an object of P (the reclaimer holds them
 *       all).  Chain refills read several link words; each one is validated
 *       by re-reading the head (unchanged head => untouched stack), so a
 *       refill never follows a link of an object that left the list.
 *   Fully free pages first top the reserve up to reserve_keep (no grace
 *   needed: a reserve page stays mapped, a stale pop reading it only fails
 *   its CAS); the rest wait in quarantine, then go to the kernel.
 *   Pushes read no other context's memory and need no guard.
 *   Structures must keep the same rule for their own nodes: bpf_arena_free()
 *   a node only when no context can still read it (arena_ebr.h); a node read
 *   after that may sit on a page that is gone.
 *
 * Dead holders (userspace)
 *   A BPF program always runs to its end, but a userspace thread may die
 *   holding a guard word (pthread_exit() from a signal handler, a process
 *   killed while other processes share the arena).  Its word would stay odd
 *   for ever: no quarantine would end, so no page would go back again, and
 *   its slot's cache would be lost.  Hence every guard word names its
 *   holder: bits 0..19 are the sequence, bits 20..63 the identity of a
 *   userspace holder (arena_ebr_me() of lib/ident.h, the identity EBR
 *   records carry, without its generation: tgid << 22 | tid), or a value
 *   with tgid 0 when the word is free or a BPF program holds it ("the
 *   kernel": never dead).
 *   - Taking (arena_word_take()) is still one CAS, from an even value to
 *     the next odd sequence or'ed with the taker's identity; releasing
 *     (arena_word_put()) is still one release store, of the next even
 *     sequence with no identity.  The identity costs the hot path nothing
 *     but a thread-local load, a shift, an OR and a mask: no store, and no
 *     instant at which the word is held under a stale or missing name.
 *     BPF code is unchanged (+1 and +1); its rare carry past bit 19 only
 *     makes a holder field with tgid 0, which names no thread.
 *   - The sequence wraps after 2^19 holds.  Only equality with a snapshot
 *     is ever tested, and a word that comes back to its snapshot value is
 *     taken as still held: a wrap can delay a page's return, never hasten
 *     it.  A value that differs means the hold seen has ended.
 *   - A userspace reclaimer held up by a word still at its snapshot value s
 *     checks the holder that s names with tgkill(tgid, tid, 0)
 *     (arena_ebr_owner_dead()), once per run (not right after taking the
 *     snapshot, when holders are most likely mid-operation).  A dead one's
 *     word is taken over with a CAS from exactly s (arena_word_seize(): two
 *     seizers never both win, and the dead thread never writes again) and
 *     released; counted in reaped_guards.  A userspace taker that finds its
 *     own slot's word held by a userspace thread does the same, on its
 *     first miss and then once every 4096 misses (a system call each), and
 *     keeps the slot; so does a fallback taker that finds all
 *     ARENA_NR_GUARDS words held.  arena_guards_reap() sweeps every word,
 *     for a housekeeping loop when pages go back in BPF, which cannot tell.
 *   - The grace argument is untouched: a dead thread reads nothing more, so
 *     the pages its hold protected may go.
 *   - A slot's cache is never trusted after its owner died: the owner's
 *     plain writes to it (magazine head, tail and count; a flush pushes the
 *     chain and only then empties the magazine; a steal copies a magazine
 *     and only then empties the source) leave states that cannot be told
 *     from sound ones, and one of them hands objects out twice.  The seizer
 *     empties the magazines instead (arena_slot_abandon()): the objects in
 *     them stay allocated for good, a leak bounded by one cache per dead
 *     holder, counted in `abandoned`.  A dead holder of a fallback guard
 *     left nothing half done in shared state (every shared-list change is
 *     one CAS); an object or page it had popped is lost with it.
 *   - A recycled tid reads as alive: the word stays held (the safe
 *     direction) until that thread is gone too.
 *
 * Statistics are kept per slot, each slot on its own cache lines, and summed
 * on read: allocations and frees per size class (written only by the cache
 * owner), fallback counts (atomic), pages taken, held, quarantined and
 * returned.  "current" counts objects handed out and not yet freed, whether
 * or not caches hold free objects, so it is exact at any quiescent point.
 */
#ifndef __LIB_ALLOC_H
#define __LIB_ALLOC_H

#include <libarena-ds/alloc.h>
#include "ident.h"

#ifdef __BPF__
/*
 * The allocator's and EBR's own loops are bounded by may_goto and by
 * explicit counts (ARENA_EBR_FREE_MAX, ARENA_RECLAIM_SCAN), not by the
 * step budget: a budget test on every step of these long, branchy loops
 * multiplied the verifier's states past its limit.  Structure walks keep
 * the budget (can_loop as common.h defines it).
 */
#pragma push_macro("can_loop")
#undef can_loop
#define can_loop arena_may_goto()
#endif

#define ARENA_PAGE_HDR		64
#define ARENA_PAGE_MAGIC	0x41524e41U	/* "ARNA" */
#define ARENA_CLASS_LARGE	0xff
#define ARENA_REFILL_PAGES	16		/* pages per userspace refill */
#define ARENA_CACHE_MAX		64		/* objects per magazine (small classes) */
#define ARENA_CACHE_BYTES	8192		/* ... and at most this many bytes */
#define ARENA_CACHE_BATCH	16		/* objects per refill */
#define ARENA_NR_GUARDS		16		/* fallback guard words */
#define ARENA_NR_GUARD_WORDS	(ARENA_NR_SLOTS + ARENA_NR_GUARDS)
#define ARENA_RECLAIM_SCAN	(1U << 18)	/* objects sorted per reclaim run */
#define ARENA_F_NO_CACHE	1ULL		/* state flag: shared lists only */
#define ARENA_OFF_MASK		0xffffffffULL
#define ARENA_PARK_PENDING	1ULL		/* link word of a chain being parked */
#define ARENA_PARK_RESERVE	ARENA_NR_CLASSES	/* park index of reserve pages */
#define ARENA_NR_PARKS		(ARENA_NR_CLASSES + 1)
#define ARENA_PARK_DRAIN	(1U << 18)	/* parked items put back per drain */
#define ARENA_MAP_MIN_PAGES	1024		/* smaller arenas keep no page map */


/* Objects of class c in one page. */
static __always_inline __u32 arena_class_objs(__u32 c)
{
	return (ARENA_PAGE_SIZE - ARENA_PAGE_HDR) / arena_class_size(c);
}

/* Objects a magazine of class c holds before it is flushed: 64 for small
 * classes, fewer for large ones (at most ARENA_CACHE_BYTES, at least 4). */
static __always_inline __u32 arena_cache_max(__u32 c)
{
	__u32 n = ARENA_CACHE_BYTES / arena_class_size(c);

	return n > ARENA_CACHE_MAX ? ARENA_CACHE_MAX : n < 4 ? 4 : n;
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
	__u32 scan_cnt;		/* reclaimer only: free objects found in this page */
	__u64 next;		/* spare */
	__u64 scan_next;	/* reclaimer only: next page seen in this scan */
	__u32 scan_head;	/* reclaimer only: this page's objects found (offsets) */
	__u32 scan_tail;
	__u64 qnext;		/* reclaimer only: quarantine link */
	__u8 rsvd[ARENA_PAGE_HDR - 40];
};

/* One slot's atomic counters: any context may add to them. */
struct arena_slot_stats {
	__u64 failed;		/* requests answered with NULL */
	__u64 large_allocs;	/* page-sized allocations */
	__u64 pages_carved;	/* pages turned into objects */
	__u64 refills;		/* refill requests made (userspace) */
	__u64 steals;		/* magazines taken from other slots */
	__u64 fallbacks;	/* operations that found the cache busy */
};

/* A magazine: free objects of one class linked through their first word
 * (arena offsets, like the shared lists), newest first. */
struct arena_mag {
	__u32 head;		/* offset of the first object, 0 if empty */
	__u32 tail;		/* offset of the last one */
	__u32 n;
	__u32 pad;
};

/* Per-context cache and counters.  Everything but stats is written only by
 * the holder of owner. */
struct arena_slot {
	__u64 owner;		/* guard word: odd while held (arena_word_take()) */
	struct arena_slot_stats stats;
	__u64 pad;
	struct arena_mag mag[ARENA_NR_CLASSES];
	__u64 allocs[ARENA_NR_CLASSES];
	__u64 frees[ARENA_NR_CLASSES];
} ARENA_ALIGNED_CL;

struct arena_tagged_head {
	__u64 word;		/* tag << 32 | arena offset of the first item */
} ARENA_ALIGNED_CL;

struct arena_guard_word {
	__u64 seq;		/* odd while held; holder bits: arena_word_take() */
} ARENA_ALIGNED_CL;

/* The allocator's shared state: allocated by arena_setup() at init. */
struct arena_alloc_state {
	__u64 magic;
	__u64 max_pages;
	__u64 flags;				/* ARENA_F_* */
	__u64 reserve_keep;			/* reclaimed pages kept in the reserve */
	struct arena_tagged_head class_free[ARENA_NR_CLASSES];
	struct arena_tagged_head reserve;	/* free whole pages */
	__u64 reserve_count ARENA_ALIGNED_CL;	/* pages in the reserve */
	__u64 pages_total;			/* pages taken from the kernel */
	__u64 low_water;			/* top-up wanted below this */
	__u64 topup_requests;			/* low-water crossings seen */
	__u64 pages_returned;			/* pages given back */
	__u64 pages_recycled;			/* reclaimed pages put in the reserve */
	__u64 reclaim_runs;
	__u64 reclaim_parked;			/* chains left for the next run */
	__u64 reclaim_lock ARENA_ALIGNED_CL;	/* one reclaimer at a time */
	__u64 quar_head;			/* quarantined pages (addresses) */
	__u64 quar_count;
	__u64 carry[ARENA_NR_CLASSES];		/* reclaimer: chains to put back */
	__u64 scan_seen[ARENA_NR_CLASSES];	/* reclaimer: pages mid-sort */
	/* Parked frees (see arena_park_chain()): any context adds, the
	 * drainer (reclaim_lock holder) takes. */
	__u64 park[ARENA_NR_PARKS] ARENA_ALIGNED_CL;	/* chains: offset of the newest */
	__u64 park_nodes;			/* node lists: address of the newest */
	__u64 parked;				/* chains and lists parked */
	__u64 park_drained;			/* items the drainer put back */
	__u64 park_nodes_hold;			/* drainer only: list being freed */
	__u32 park_hold[ARENA_NR_PARKS];	/* drainer only: chain being put back */
	/* Page map: one bit per arena page, set while the allocator holds
	 * the page (see arena_ptr_ok()). */
	__u64 page_map;				/* address of the bitmap, 0: none */
	__u64 last_returned;			/* a page given back last (tests) */
	__u64 map_bits;				/* pages it covers */
	__u64 reaped_guards;			/* words taken back from dead holders */
	__u64 abandoned;			/* objects in the caches they dropped */
	__u64 fb_allocs[ARENA_NR_CLASSES] ARENA_ALIGNED_CL;	/* fallback path */
	__u64 fb_frees[ARENA_NR_CLASSES];
	struct arena_guard_word guard[ARENA_NR_GUARDS];
	__u64 quar_snap[ARENA_NR_GUARD_WORDS];	/* guard words at quarantine */
	__u64 san_counts[8];			/* sanitizer mode: violations by kind */
	struct arena_slot slot[ARENA_NR_SLOTS];
};

#ifdef __BPF__
/* Set by arena_setup() (lib/alloc.c); userspace learns it at attach. */
extern struct arena_alloc_state __arena *arena_alloc_st;
#else
extern struct arena_alloc_state *arena_alloc_st;
/*
 * Installed by the driver: return @npages fresh, contiguous, zeroed arena
 * pages that no one else holds, or NULL.  With a kernel it runs a
 * SEC("syscall") program; standalone it carves an mmap'd region.
 */
extern void *(*arena_pages_hook)(__u32 npages);
/*
 * The way back, for a userspace reclaimer (standalone builds; the driver
 * reclaims in BPF): give @npages pages at @p back.  May be NULL.
 */
extern void (*arena_free_pages_hook)(void *p, __u32 npages);
#endif

/* ---- tagged Treiber stacks of arena objects linked through their first word
 *
 * A delayed pop may read a link word after its object has moved on; every
 * link write is therefore a (relaxed) atomic store, and every racy read an
 * atomic load.  The remaining race, with a new owner's plain writes to word
 * 0, is the benign one tests/tsan.supp names. */

/* One push attempt: link @last to the current head, then one CAS. */
static __always_inline int arena_stack_try_push(__u64 __arena *head, void __arena *first,
						void __arena *last)
{
	__u64 old = arena_atomic_load_acquire(head), new;

	ARENA_WRITE_ONCE(*(__u64 __arena *)last, old & ARENA_OFF_MASK);
	new = ((old >> 32) + 1) << 32 | arena_offset(first);
	return arena_atomic_cmpxchg(head, old, new) == old;
}

/*
 * Push the private chain @first..@last (linked through word 0, offsets)
 * onto a tagged stack.  Lock-free.  The first attempt does not depend on
 * the loop budget, so a context whose budget is spent still pushes unless
 * another context wins that CAS.  Returns 1 when pushed, 0 when the budget
 * ran out first: the chain is then still the caller's (arena_chain_put()
 * parks it; never drop it).
 */
static __always_inline int arena_stack_push_chain(__u64 __arena *head, void __arena *first,
						  void __arena *last)
{
	if (arena_stack_try_push(head, first, last))
		return 1;
	while (can_loop)
		if (arena_stack_try_push(head, first, last))
			return 1;
	return 0;
}

/* Pop one item.  Call inside a guard (see the header comment). */
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
		 * the CAS fail then, and the guard keeps the page mapped. */
		next = ARENA_READ_ONCE(*arena_ptr_from_off(__u64, off));
		new = ((old >> 32) + 1) << 32 | (next & ARENA_OFF_MASK);
		if (arena_atomic_cmpxchg(head, old, new) == old)
			return arena_ptr_from_off(void, off);
	}
	return NULL;
}

/*
 * Pop a chain of up to @max items in one CAS and return the first; the
 * others (if any) become magazine @m, which must be empty.  Call inside a
 * guard.  Each link is read, then the head re-read: while the tagged head is
 * unchanged nothing in the stack has changed, so the link is the live one
 * and the next item is safe to read.  Returns NULL when the stack is empty.
 */
static __always_inline void __arena *arena_stack_pop_chain(__u64 __arena *head, __u32 max,
							   struct arena_mag __arena *m)
{
	__u64 old, new, next;
	__u32 off, cur, n;

	while (can_loop) {
		old = arena_atomic_load_acquire(head);
		off = (__u32)old;
		if (!off)
			return NULL;
		cur = off;
		for (n = 1; n < max && can_loop; n++) {
			next = arena_atomic_load_acquire(arena_ptr_from_off(__u64, cur));
			if (arena_atomic_load_acquire(head) != old || !(__u32)next)
				break;
			cur = (__u32)next;
		}
		if (arena_atomic_load_acquire(head) != old)
			continue;
		next = ARENA_READ_ONCE(*arena_ptr_from_off(__u64, cur));
		new = ((old >> 32) + 1) << 32 | (next & ARENA_OFF_MASK);
		if (arena_atomic_cmpxchg(head, old, new) == old) {
			if (n > 1) {
				m->head = (__u32)*arena_ptr_from_off(__u64, off);
				m->tail = cur;
				ARENA_WRITE_ONCE(m->n, n - 1);
			}
			return arena_ptr_from_off(void, off);
		}
	}
	return NULL;
}

/* Take a whole stack (no guard needed: nothing is read but the head). */
static __always_inline __u32 arena_stack_detach(__u64 __arena *head)
{
	__u64 old;

	while (can_loop) {
		old = arena_atomic_load_acquire(head);
		if (!(__u32)old)
			return 0;
		if (arena_atomic_cmpxchg(head, old, ((old >> 32) + 1) << 32) == old)
			return (__u32)old;
	}
	return 0;
}

/* ---- parking: frees that must not be lost when a loop budget runs out
 *
 * A BPF program's loop budget (can_loop) can be spent when a free comes:
 * after a long limbo list, or in a busy reclaim run.  A free that cannot
 * push its objects then parks them instead, wait-free: one exchange on a
 * park word, no loop.  Chains of one class (or reserve pages) are parked on
 * park[k]: the chain's last link is marked PENDING, the exchange makes the
 * chain the newest entry, and the old entry is linked behind it.  Node lists
 * from EBR (arena_park_nodes) are parked the same way on park_nodes, one
 * list per entry, the entries linked through the second word of each list's
 * first node.  The drainer (arena_park_drain(), under reclaim_lock: the
 * reclaimer, and arena_park_flush()) puts everything back with bounded work
 * per call; a PENDING link it meets (a parker between its two stores) is
 * kept for the next drain.  Nothing is dropped, whatever the budget.
 */

/* Park the private chain @first..@last (word-0 links) on park word @k (a
 * class, or ARENA_PARK_RESERVE).  Any context.  Wait-free. */
static __always_inline void arena_park_chain(struct arena_alloc_state __arena *st, __u32 k,
					     void __arena *first, void __arena *last)
{
	__u64 old;

	ARENA_WRITE_ONCE(*(__u64 __arena *)last, ARENA_PARK_PENDING);
	old = arena_atomic_xchg(&st->park[k % ARENA_NR_PARKS], (__u64)arena_offset(first));
	arena_atomic_store_release((__u64 __arena *)last, old);
	arena_atomic_add(&st->parked, 1);
}

/*
 * Park @list, a list of objects to free linked through word 0 by address
 * (an EBR limbo list): the drainer frees them.  Every object must be at
 * least 16 bytes (the second word links the entries) and no context may
 * still read it.  Any context.  Wait-free.
 */
static __always_inline void arena_park_nodes(struct arena_alloc_state __arena *st, __u64 list)
{
	__u64 __arena *w1 = (__u64 __arena *)list + 1;
	__u64 old;

	ARENA_WRITE_ONCE(*w1, ARENA_PARK_PENDING);
	old = arena_atomic_xchg(&st->park_nodes, list);
	arena_atomic_store_release(w1, old);
	arena_atomic_add(&st->parked, 1);
}

/* Is anything parked or held by the drainer?  Any context; a snapshot. */
static __always_inline int arena_park_pending(void)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	__u32 k;

	if (!st)
		return 0;
	if (arena_atomic_load(&st->park_nodes) || arena_atomic_load(&st->park_nodes_hold))
		return 1;
	for (k = ARENA_ZERO; k < ARENA_NR_PARKS && can_loop; k++)
		if (arena_atomic_load(&st->park[k % ARENA_NR_PARKS]) ||
		    arena_atomic_load(&st->park_hold[k % ARENA_NR_PARKS]))
			return 1;
	return 0;
}

/* Push a private chain onto class list @k (or the reserve), or park it when
 * the loop budget is spent.  Any context.  Never loses the chain. */
static __always_inline void arena_chain_put(struct arena_alloc_state __arena *st, __u32 k,
					    void __arena *first, void __arena *last, __u32 n)
{
	__u64 __arena *head = k < ARENA_NR_CLASSES ? &st->class_free[k % ARENA_NR_CLASSES].word :
						     &st->reserve.word;

	if (!arena_stack_push_chain(head, first, last)) {
		arena_park_chain(st, k, first, last);
		return;
	}
	if (k == ARENA_PARK_RESERVE)
		arena_atomic_add(&st->reserve_count, n);
}

static __always_inline struct arena_slot_stats __arena *arena_my_stats(void)
{
	return &arena_alloc_st->slot[arena_slot() % ARENA_NR_SLOTS].stats;
}

/* ---- guards and caches
 *
 * A guard word (a slot's owner, or a fallback guard's seq) packs its holder
 * with its sequence (see "Dead holders" in the header comment): bits 0..19
 * the sequence, odd while held; bits 20..63 the userspace holder's identity
 * (arena_ebr_me() without its generation: tgid << 22 | tid), or a value
 * with tgid 0 (0, or BPF carries: see arena_word_take()) for a BPF holder
 * and whenever the word is free.
 */
#define ARENA_GUARD_SEQ_BITS	20
#define ARENA_GUARD_SEQ_MASK	((1ULL << ARENA_GUARD_SEQ_BITS) - 1)
#define ARENA_GUARD_ID_MASK	((1ULL << (2 * ARENA_EBR_ID_BITS)) - 1)

/* The holder field of guard word value @w (tgid << 22 | tid). */
#define arena_guard_holder(w)	((w) >> ARENA_GUARD_SEQ_BITS)
/* The userspace holder it names, 0 if none (tgid 0: BPF carries). */
#define arena_guard_user_holder(w) \
	(arena_guard_holder(w) >> ARENA_EBR_ID_BITS ? arena_guard_holder(w) : 0)

/* The sequence of word value @w advanced by @n, holder bits clear. */
#define arena_guard_seq_add(w, n)	(((w) + (n)) & ARENA_GUARD_SEQ_MASK)

/* What the calling context writes in the holder bits of a word it takes. */
static __always_inline __u64 arena_guard_me(void)
{
#ifdef __BPF__
	return 0;
#else
	return (arena_ebr_me() & ARENA_GUARD_ID_MASK) << ARENA_GUARD_SEQ_BITS;
#endif
}

/*
 * Take guard word @w: one CAS from an even value to the next, odd sequence;
 * userspace clears the holder bits and puts its identity there.  Any
 * context; never waits.  Returns 1 when taken, 0 when the word is held.
 *
 * BPF takes and releases are plain +1, as before holders existed (with the
 * mask, the allocator benchmark's BPF loop went past the verifier's million
 * instructions): a BPF release at sequence 2^20 - 1 carries into the holder
 * bits.  The carries only add to the tgid-0 range of the holder field (the
 * tgid bits are 2^42 BPF holds away), which names no thread
 * (arena_guard_user_holder(): none; tgkill() refuses tgid 0 in any case),
 * and the next userspace take or release masks them away.
 */
static __always_inline int arena_word_take(__u64 __arena *w)
{
	__u64 s = arena_atomic_load(w);

#ifdef __BPF__
	if ((s & 1) || arena_atomic_cmpxchg(w, s, s + 1) != s)
#else
	if ((s & 1) ||
	    arena_atomic_cmpxchg(w, s, arena_guard_seq_add(s, 1) | arena_guard_me()) != s)
#endif
		return 0;
	/* Store->load: the reclaimer must see the guard odd, or we must see
	 * its detach (the grace argument in the header comment). */
	arena_rmw_fence();
	return 1;
}

/* Release guard word @w, held by the caller: the next, even sequence
 * (userspace: holder bits clear), with one release store.  Wait-free. */
static __always_inline void arena_word_put(__u64 __arena *w)
{
#ifdef __BPF__
	arena_atomic_store_release(w, arena_atomic_load(w) + 1);
#else
	arena_atomic_store_release(w, arena_guard_seq_add(arena_atomic_load(w), 1));
#endif
}

static __always_inline __u64 __arena *arena_guard_word_at(struct arena_alloc_state __arena *st,
							 __u32 i)
{
	if (i < ARENA_NR_SLOTS)
		return &st->slot[i % ARENA_NR_SLOTS].owner;
	return &st->guard[(i - ARENA_NR_SLOTS) % ARENA_NR_GUARDS].seq;
}

#ifndef __BPF__
/*
 * arena_word_seize - take guard word @w over from a dead holder.
 * @s: the odd value the caller saw (a quarantine snapshot, or a failed
 * take); it names the holder.  Userspace only: one tgkill() system call
 * when @s has a userspace holder.  Any number of callers, concurrently with
 * everything; lock-free.  One CAS from exactly @s (so the dead thread's
 * hold, not a later one) to the sequence after the next, odd, with the
 * caller's identity: two seizers never both win, and a quarantine that saw
 * @s sees a change.
 * Returns 1 when the caller now holds the word (put it with
 * arena_word_put(); a slot's owner word after arena_slot_abandon()), 0 when
 * it moved on, is free, or its holder is alive (or BPF).
 */
static inline int arena_word_seize(__u64 *w, __u64 s)
{
	if (!(s & 1) || !arena_ebr_owner_dead(arena_guard_user_holder(s)))
		return 0;
	if (arena_atomic_cmpxchg(w, s, arena_guard_seq_add(s, 2) | arena_guard_me()) != s)
		return 0;
	arena_rmw_fence();	/* as in arena_word_take() */
	return 1;
}

/*
 * The caller has seized slot @sl's owner word from a dead holder: drop the
 * slot's magazines.  The dead thread may have stopped anywhere in its plain
 * writes to them: between a flush's push and its clear (the chain would be
 * in the shared list and in the magazine: handed out twice), half through a
 * steal's copy (one chain in two magazines), between a pop's count and its
 * head.  None of that can be told from the words left, so nothing in them
 * is trusted: the objects they held stay allocated for good (a leak bounded
 * by one cache, counted in `abandoned` with the counts the magazines show).
 */
static inline void arena_slot_abandon(struct arena_alloc_state *st, struct arena_slot *sl)
{
	__u64 lost = 0;
	__u32 c;

	for (c = 0; c < ARENA_NR_CLASSES; c++) {
		lost += ARENA_READ_ONCE(sl->mag[c].n);
		ARENA_WRITE_ONCE(sl->mag[c].head, 0);
		ARENA_WRITE_ONCE(sl->mag[c].tail, 0);
		ARENA_WRITE_ONCE(sl->mag[c].n, 0);
	}
	arena_atomic_add(&st->abandoned, lost);
	arena_atomic_add(&st->reaped_guards, 1);
}

/*
 * Guard word @i (a slot's owner below ARENA_NR_SLOTS, else a fallback
 * guard), seen odd at @s: if its holder is dead, take it over, make it safe
 * (a slot's cache is abandoned) and release it.  Userspace only (a system
 * call), concurrently with everything.  Returns 1 if released.
 */
static inline int arena_guard_reap(struct arena_alloc_state *st, __u32 i, __u64 s)
{
	__u64 *w = arena_guard_word_at(st, i);

	if (!arena_word_seize(w, s))
		return 0;
	if (i < ARENA_NR_SLOTS)
		arena_slot_abandon(st, &st->slot[i]);
	else
		arena_atomic_add(&st->reaped_guards, 1);
	arena_word_put(w);
	return 1;
}

/*
 * Failed takes of a guard word by this thread.  A held word may be a dead
 * thread's, but finding out costs a system call: a taker checks on its
 * first miss and then once every 4096, as arena_ebr_enter() does.
 */
static __thread __u32 arena_guard_misses;

static inline int arena_guard_check_due(void)
{
	return (++arena_guard_misses & 4095) == 1;
}

/* The caller's slot @sl is held: if by a dead thread (checked now and
 * then), seize it and abandon its cache.  Returns 1 when the caller holds
 * @sl now. */
static __attribute__((noinline, cold)) int arena_cache_recover(struct arena_alloc_state *st,
								struct arena_slot *sl)
{
	__u64 s = arena_atomic_load(&sl->owner);

	if (!(s & 1) || !arena_guard_user_holder(s) || !arena_guard_check_due())
		return 0;
	if (!arena_word_seize(&sl->owner, s))
		return 0;
	arena_slot_abandon(st, sl);
	return 1;
}

/* Every fallback guard is held: if one by a dead thread (checked now and
 * then), seize it.  Returns its index, or -1. */
static __attribute__((noinline, cold)) int arena_guard_recover(struct arena_alloc_state *st)
{
	__u32 i;

	if (!arena_guard_check_due())
		return -1;
	for (i = 0; i < ARENA_NR_GUARDS; i++)
		if (arena_word_seize(&st->guard[i].seq, arena_atomic_load(&st->guard[i].seq))) {
			arena_atomic_add(&st->reaped_guards, 1);
			return (int)i;
		}
	return -1;
}
#endif

/*
 * Take the calling context's cache: returns its slot, or NULL when caches
 * are off or the slot is held by another context (never waits; a userspace
 * caller takes over, now and then, a slot whose holder is dead).  Holding
 * it is also the guard for shared-list pops.
 */
static __always_inline struct arena_slot __arena *arena_cache_take(struct arena_alloc_state __arena *st)
{
	struct arena_slot __arena *sl;

	if (st->flags & ARENA_F_NO_CACHE)
		return NULL;
	sl = &st->slot[arena_slot() % ARENA_NR_SLOTS];
	if (arena_word_take(&sl->owner))
		return sl;
#ifndef __BPF__
	if (arena_cache_recover(st, sl))
		return sl;
#endif
	return NULL;
}

/* Give the cache taken with arena_cache_take() back.  Wait-free. */
static __always_inline void arena_cache_put(struct arena_slot __arena *sl)
{
	arena_word_put(&sl->owner);
}

/*
 * Take a fallback guard word: its index, or -1 when all are held (a
 * userspace caller then, now and then, takes over one held by a dead
 * thread).  Any context; lock-free, a bounded scan.
 */
static __always_inline int arena_guard_take(struct arena_alloc_state __arena *st)
{
	__u32 start = arena_slot(), i, idx;

	for (i = ARENA_ZERO; i < ARENA_NR_GUARDS && can_loop; i++) {
		idx = (start + i) % ARENA_NR_GUARDS;
		if (arena_word_take(&st->guard[idx].seq))
			return (int)idx;
	}
#ifndef __BPF__
	return arena_guard_recover(st);
#else
	return -1;
#endif
}

/* Release fallback guard @idx.  Wait-free. */
static __always_inline void arena_guard_put(struct arena_alloc_state __arena *st, int idx)
{
	arena_word_put(&st->guard[idx % ARENA_NR_GUARDS].seq);
}

/* Owner-only counter bump (plain RMW, read concurrently by stats). */
#define arena_owner_inc(p) ARENA_WRITE_ONCE(*(p), ARENA_READ_ONCE(*(p)) + 1)

static __always_inline void __arena *arena_mag_pop(struct arena_mag __arena *m)
{
	__u32 off = m->head;
	void __arena *obj;

	if (!off || !m->n)
		return NULL;
	obj = arena_ptr_from_off(void, off);
	/* n is read by other contexts (steal, flush, statistics). */
	ARENA_WRITE_ONCE(m->n, m->n - 1);
	m->head = m->n ? (__u32)*(__u64 __arena *)obj : 0;
	return obj;
}

static __always_inline void arena_mag_push(struct arena_mag __arena *m, void __arena *p)
{
	ARENA_WRITE_ONCE(*(__u64 __arena *)p, m->head);
	if (!m->n)
		m->tail = arena_offset(p);
	m->head = arena_offset(p);
	ARENA_WRITE_ONCE(m->n, m->n + 1);
}

/* Push a magazine's chain to the shared list of class c and empty it. */
static __always_inline void arena_mag_flush(struct arena_alloc_state __arena *st,
					    struct arena_mag __arena *m, __u32 c)
{
	if (m->n && m->head)
		arena_chain_put(st, c & 7, arena_ptr_from_off(void, m->head),
				arena_ptr_from_off(void, m->tail), m->n);
	ARENA_WRITE_ONCE(m->head, 0);
	ARENA_WRITE_ONCE(m->tail, 0);
	ARENA_WRITE_ONCE(m->n, 0);
}

/* ---- the page reserve */

static __always_inline void arena_reserve_push(void __arena *page)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;

	arena_chain_put(st, ARENA_PARK_RESERVE, page, page, 1);
}

/* Call inside a guard. */
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

static __always_inline void arena_hdr_clear_scan(struct arena_page_hdr __arena *hdr)
{
	/* Volatile stores: clang would merge plain adjacent zero stores into
	 * a memset that loses the address-space cast. */
	ARENA_WRITE_ONCE(hdr->scan_cnt, 0);
	ARENA_WRITE_ONCE(hdr->scan_next, 0);
	ARENA_WRITE_ONCE(hdr->scan_head, 0);
	ARENA_WRITE_ONCE(hdr->scan_tail, 0);
	ARENA_WRITE_ONCE(hdr->qnext, 0);
}

/* ARENA_SANITIZE: redzones and poison (hooks in alloc/free below). */
#include "sanitize.h"

/* Carve a fresh page into objects of class c: return the first object, put
 * up to ARENA_CACHE_BATCH more in magazine @m (if any) and push the rest
 * onto the class free list. */
static __always_inline void __arena *arena_carve(void __arena *page, __u32 c,
						 struct arena_mag __arena *m)
{
	struct arena_page_hdr __arena *hdr = page;
	__u32 sz = arena_class_size(c), n, i, k = 0;
	char __arena *base = (char __arena *)page + ARENA_PAGE_HDR;
	char __arena *obj;

	arena_san_page_recycled(page);	/* ARENA_SANITIZE hook: a new layout */
	hdr->magic = ARENA_PAGE_MAGIC;
	hdr->class = c;
	hdr->npages = 1;
	arena_hdr_clear_scan(hdr);
	n = arena_class_objs(c);
	for (i = ARENA_ZERO; i + 1 < n && can_loop; i++) {
		obj = base + i * sz;
		ARENA_WRITE_ONCE(*(__u64 __arena *)obj, arena_offset(obj + sz));
	}
	if (m && !m->n && n > 1) {
		k = n - 1 < ARENA_CACHE_BATCH ? n - 1 : ARENA_CACHE_BATCH;
		m->head = arena_offset(base + sz);
		m->tail = arena_offset(base + k * sz);
		ARENA_WRITE_ONCE(m->n, k);
	}
	if (k + 1 < n)
		arena_chain_put(arena_alloc_st, c, base + (k + 1) * sz, base + (n - 1) * sz,
				n - k - 1);
	arena_atomic_add(&arena_my_stats()->pages_carved, 1);
	return base;
}

/* The page header of an object. */
static __always_inline struct arena_page_hdr __arena *arena_page_of(void __arena *p)
{
	return (struct arena_page_hdr __arena *)((__u64)p & ~(__u64)(ARENA_PAGE_SIZE - 1));
}

/* Mark @npages pages at @addr held (@on) or given back in the page map. */
static __always_inline void arena_page_map_set(__u64 addr, __u32 npages, int on)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	__u64 __arena *map;
	__u64 idx, j;
	__u32 i;

	if (!st || !st->page_map)
		return;
	map = (__u64 __arena *)st->page_map;
	idx = (addr - ARENA_BASE) / ARENA_PAGE_SIZE;
	for (i = ARENA_ZERO; i < npages && can_loop; i++) {
		j = idx + i;
		if (j >= st->map_bits)
			break;
		if (on)
			arena_atomic_fetch_or(&map[j / 64], 1ULL << (j % 64));
		else
			arena_atomic_fetch_and(&map[j / 64], ~(1ULL << (j % 64)));
	}
}

/*
 * arena_ptr_ok - may a reader follow the pointer @p (read 8 bytes at it)?
 * True when @p lies in the arena, is 8-byte aligned and its page is one the
 * allocator holds (the page map), so reading it neither faults nor, in
 * userspace, makes the kernel create a page.  Any context; a snapshot: the
 * page may go back right after (verify and reclaim paths run quiescent or
 * under EBR).  Without a page map (no arena_setup) only range and alignment
 * are checked.
 */
static __always_inline int arena_ptr_ok(__u64 p)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	__u64 idx;

	if ((p & ~0xffffffffULL) != ARENA_BASE || (p & 7) || !st)
		return 0;
	if (!st->page_map)
		return 1;
	idx = (p - ARENA_BASE) / ARENA_PAGE_SIZE;
	if (idx >= st->map_bits)
		return 0;
	return (arena_atomic_load(&((__u64 __arena *)st->page_map)[idx / 64]) >> (idx % 64)) & 1;
}

#ifdef __BPF__
/*
 * Sleepable programs only (SEC("syscall"), lsm.s; any program on kernels
 * that allow it): take pages from the kernel / give them back.
 */
DS_API __u64 arena_kern_alloc_pages(__u32 npages);
DS_API int arena_kern_free_pages(void __arena *p __arg_arena, __u32 npages);
#ifdef ARENA_KFUNCS
/* lib/alloc.c, the one object that declares the kfuncs, calls them
 * directly. */
#define arena_kern_alloc_pages(n) ((__u64)bpf_arena_alloc_pages(&arena, NULL, (n), NUMA_NO_NODE, 0))
#define arena_kern_free_pages(p, n) bpf_arena_free_pages(&arena, (p), (n))
#endif

/* Pages straight from the kernel, neither counted nor mapped. */
static __always_inline void __arena *arena_alloc_pages_raw(__u32 npages)
{
	return (void __arena *)arena_kern_alloc_pages(npages);
}

static __always_inline void __arena *arena_alloc_pages(__u32 npages)
{
	void __arena *p = (void __arena *)arena_kern_alloc_pages(npages);

	if (p && arena_alloc_st) {
		arena_atomic_add(&arena_alloc_st->pages_total, npages);
		arena_page_map_set((__u64)p, npages, 1);
	}
	return p;
}

static __always_inline void arena_free_page(void __arena *p)
{
	arena_page_map_set((__u64)p, 1, 0);
	arena_kern_free_pages(p, 1);
}
#else
static inline void *arena_alloc_pages_raw(__u32 npages)
{
	void *(*hook)(__u32) = arena_pages_hook;

	return hook ? hook(npages) : NULL;
}

static inline void *arena_alloc_pages(__u32 npages)
{
	void *(*hook)(__u32) = arena_pages_hook;
	void *p;

	if (!hook)
		return NULL;
	p = hook(npages);
	if (p && arena_alloc_st) {
		arena_atomic_add(&arena_alloc_st->pages_total, npages);
		arena_page_map_set((__u64)p, npages, 1);
	}
	return p;
}

static inline void arena_free_page(void *p)
{
	void (*hook)(void *, __u32) = arena_free_pages_hook;

	arena_page_map_set((__u64)p, 1, 0);
	if (hook)
		hook(p, 1);
}

/* Userspace slow path: move fresh pages into the reserve (ARENA_REFILL_PAGES
 * at once, or a single one when the arena has no such run left). */
static inline int arena_user_refill(void)
{
	__u32 n = ARENA_REFILL_PAGES, i;
	char *p;

	arena_atomic_add(&arena_my_stats()->refills, 1);
	p = arena_alloc_pages(n);
	if (!p) {
		n = 1;
		p = arena_alloc_pages(n);
	}
	if (!p)
		return -1;
	for (i = 0; i < n; i++)
		arena_reserve_push(p + (size_t)i * ARENA_PAGE_SIZE);
	return 0;
}
#endif

/*
 * Take the magazine of class c from another, idle slot's cache: the last
 * resort of an allocation that found no memory anywhere else.  With @mine
 * (the caller's held cache, whose magazine c is empty) the whole magazine
 * moves there; without, one object is taken.
 */
static __always_inline void __arena *arena_steal(struct arena_alloc_state __arena *st,
						 struct arena_slot __arena *mine, __u32 c)
{
	struct arena_slot __arena *sl;
	struct arena_mag __arena *m;
	void __arena *obj = NULL;
	__u32 start = arena_slot(), i;

	for (i = ARENA_ZERO + 1; i < ARENA_NR_SLOTS && can_loop; i++) {
		sl = &st->slot[(start + i) % ARENA_NR_SLOTS];
		if (sl == mine || !arena_atomic_load(&sl->mag[c & 7].n))
			continue;
		if (!arena_word_take(&sl->owner))
			continue;
		m = &sl->mag[c & 7];
		if (mine && m->n) {
			mine->mag[c & 7].head = m->head;
			mine->mag[c & 7].tail = m->tail;
			ARENA_WRITE_ONCE(mine->mag[c & 7].n, m->n);
			ARENA_WRITE_ONCE(m->head, 0);
			ARENA_WRITE_ONCE(m->tail, 0);
			ARENA_WRITE_ONCE(m->n, 0);
			obj = arena_mag_pop(&mine->mag[c & 7]);
		} else {
			obj = arena_mag_pop(m);
		}
		arena_cache_put(sl);
		if (obj) {
			arena_atomic_add(&arena_my_stats()->steals, 1);
			break;
		}
	}
	return obj;
}

/*
 * The slow path of an allocation; the caller holds a guard (its cache @sl,
 * or a fallback guard with @sl NULL).  Shared list, then reserve, then (in
 * userspace) one refill, then another slot's magazine.
 */
static __always_inline void __arena *arena_alloc_slow(struct arena_alloc_state __arena *st,
						      struct arena_slot __arena *sl,
						      __u32 size, int c)
{
	struct arena_mag __arena *m = NULL;
	void __arena *obj = NULL, *page;
	int tries;

	if (c >= 0 && sl)
		m = &sl->mag[c & 7];
	for (tries = 0; tries < 2; tries++) {
		if (c >= 0) {
			if (m)
				obj = arena_stack_pop_chain(&st->class_free[c & 7].word,
							    ARENA_CACHE_BATCH + 1, m);
			else
				obj = arena_stack_pop(&st->class_free[c & 7].word);
			if (obj)
				return obj;
		}
		if (size + ARENA_PAGE_HDR <= ARENA_PAGE_SIZE) {
			page = arena_reserve_pop();
			if (page) {
				if (c >= 0)
					return arena_carve(page, c & 7, m);
				struct arena_page_hdr __arena *hdr = page;

				arena_san_page_recycled(page);	/* ARENA_SANITIZE hook */
				hdr->magic = ARENA_PAGE_MAGIC;
				hdr->class = ARENA_CLASS_LARGE;
				hdr->npages = 1;
				arena_atomic_add(&arena_my_stats()->large_allocs, 1);
				return (char __arena *)page + ARENA_PAGE_HDR;
			}
		}
#ifdef __BPF__
		break;
#else
		if (arena_user_refill())
			break;
#endif
	}
	if (c >= 0)
		obj = arena_steal(st, sl, c & 7);
	return obj;
}

/*
 * bpf_arena_alloc - allocate an arena object of @size bytes (8-byte aligned).
 * Concurrency: any number of BPF programs and userspace threads at once.
 * Progress: lock-free (bounded by can_loop in BPF); the cache is taken with
 * one CAS and never waited for.
 * Returns: the object (contents undefined), or NULL when no memory is
 * available without sleeping (BPF) or after one refill (userspace).
 * Requests above ARENA_MAX_SMALL take one page; above a page, see
 * arena_alloc_large().
 */
static __always_inline void __arena *bpf_arena_alloc(__u32 size)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	struct arena_slot __arena *sl;
	void __arena *obj = NULL;
	__u32 san_req;				/* ARENA_SANITIZE hook */
	int c, g;

	if (!st || !size)
		return NULL;
	san_req = size;				/* ARENA_SANITIZE hook */
	size = arena_san_size(size);		/* ARENA_SANITIZE hook */
	c = arena_size_class(size);
	sl = arena_cache_take(st);
	if (sl) {
		/* Fast path: this context's magazine. */
		if (c >= 0)
			obj = arena_mag_pop(&sl->mag[c & 7]);
		if (!obj)
			obj = arena_alloc_slow(st, sl, size, c);
		if (obj && c >= 0)
			arena_owner_inc(&sl->allocs[c & 7]);
		arena_cache_put(sl);
	} else {
		/* Cache off or busy: the shared lists, under a guard word. */
		if (!(st->flags & ARENA_F_NO_CACHE))
			arena_atomic_add(&arena_my_stats()->fallbacks, 1);
		g = arena_guard_take(st);
		if (g >= 0) {
			obj = arena_alloc_slow(st, NULL, size, c);
			arena_guard_put(st, g);
		}
		if (obj && c >= 0)
			arena_atomic_add(&st->fb_allocs[c & 7], 1);
	}
	if (!obj) {
		arena_atomic_add(&arena_my_stats()->failed, 1);
		return NULL;
	}
	return arena_san_on_alloc(obj, san_req);	/* ARENA_SANITIZE hook */
}

/*
 * bpf_arena_free - give back an object from bpf_arena_alloc().
 * Concurrency: any context, concurrently with anything.  Lock-free.
 * The caller guarantees no context can still reach @p (see arena_ebr.h for
 * structures whose readers run without locks): once freed, its page may go
 * back to the kernel.  NULL is ignored; a pointer whose page header is not
 * the allocator's is counted as failed and left.
 */
static __always_inline void bpf_arena_free(void __arena *p)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	struct arena_page_hdr __arena *hdr;
	struct arena_slot __arena *sl;
	struct arena_mag __arena *m;
	__u32 c;

	if (p && !arena_ptr_ok((__u64)p & ~7ULL)) {
		/* Not on a page the allocator holds: never read it.  (A
		 * misaligned one on a held page is the sanitizer's to judge.) */
		if (st) {
			arena_atomic_add(&arena_my_stats()->failed, 1);
#ifdef ARENA_SANITIZE
			arena_san_count(ARENA_SAN_INVALID_FREE);
#endif
		}
		return;
	}
	p = arena_san_on_free(p);	/* ARENA_SANITIZE hook: NULL = bad free, counted */
	if (!p || !st)
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
	c &= 7;
	sl = arena_cache_take(st);
	if (sl) {
		m = &sl->mag[c];
		if (m->n >= arena_cache_max(c))
			arena_mag_flush(st, m, c);
		arena_mag_push(m, p);
		arena_owner_inc(&sl->frees[c]);
		arena_cache_put(sl);
	} else {
		if (!(st->flags & ARENA_F_NO_CACHE))
			arena_atomic_add(&arena_my_stats()->fallbacks, 1);
		/* A push reads nobody else's memory: no guard needed. */
		arena_chain_put(st, c, p, p, 1);
		arena_atomic_add(&st->fb_frees[c], 1);
	}
}

#if !defined(__BPF__) && !defined(ARENA_ALLOC_INLINE)
/*
 * Userspace: every caller shares one out-of-line copy of the two functions
 * above (lib/alloc.c, which defines ARENA_ALLOC_INLINE): one call more per
 * allocation (not measured yet in the bench); inlined at every call site of
 * the library and the tests, they made sanitizer builds of some test files
 * take two to three times as long.  Not arena_malloc()/arena_free(): those
 * arm the userspace loop budget and read the page header before checking
 * that the pointer is the allocator's.
 * BPF keeps them inline: a global function there would take arena pointers
 * as scalars and be verified on its own.
 */
void __arena *arena_alloc_user(__u32 size);
void arena_free_user(void __arena *p);
#define bpf_arena_alloc(size)	arena_alloc_user(size)
#define bpf_arena_free(p)	arena_free_user(p)
#endif

/* ---- flushing caches, statistics, setup */

/*
 * arena_cache_flush_all - push every idle cache's magazines to the shared
 * lists.  Any context; a cache held by another context at that moment is
 * skipped.  Returns the number of slots skipped (0 at a quiescent point).
 */
static __always_inline int arena_cache_flush_all(void)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	struct arena_slot __arena *sl;
	__u32 i, c, any;
	int skipped = 0;

	if (!st)
		return 0;
	for (i = ARENA_ZERO; i < ARENA_NR_SLOTS && can_loop; i++) {
		sl = &st->slot[i % ARENA_NR_SLOTS];
		any = 0;
		for (c = ARENA_ZERO; c < ARENA_NR_CLASSES && can_loop; c++)
			any |= arena_atomic_load(&sl->mag[c & 7].n);
		if (!any)
			continue;
		if (!arena_word_take(&sl->owner)) {
			skipped++;
			continue;
		}
		for (c = ARENA_ZERO; c < ARENA_NR_CLASSES && can_loop; c++)
			arena_mag_flush(st, &sl->mag[c & 7], c & 7);
		arena_cache_put(sl);
	}
	return skipped;
}

/*
 * Switch the per-context caches off (@off = 1, every operation then uses the
 * shared lists: for measurements) or on.  Call at a quiescent point.
 */
static __always_inline void arena_set_caches_off(int off)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;

	if (!st)
		return;
	if (off) {
		st->flags |= ARENA_F_NO_CACHE;
		arena_cache_flush_all();
	} else {
		st->flags &= ~ARENA_F_NO_CACHE;
	}
}

/* Sum the per-slot statistics.  Any context; the result is a snapshot that
 * is exact once all writers are quiescent. */
static __always_inline void arena_get_stats(struct arena_stats *out)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	struct arena_slot __arena *sl;
	__u32 i, c;

	__builtin_memset(out, 0, sizeof(*out));
	if (!st)
		return;
	for (i = ARENA_ZERO; i < ARENA_NR_SLOTS && can_loop; i++) {
		sl = &st->slot[i % ARENA_NR_SLOTS];
		for (c = 0; c < ARENA_NR_CLASSES; c++) {
			out->class_allocs[c] += arena_atomic_load(&sl->allocs[c]);
			out->class_frees[c] += arena_atomic_load(&sl->frees[c]);
			out->cached += arena_atomic_load(&sl->mag[c].n);
		}
		out->failed += arena_atomic_load(&sl->stats.failed);
		out->large_allocs += arena_atomic_load(&sl->stats.large_allocs);
		out->pages_carved += arena_atomic_load(&sl->stats.pages_carved);
		out->refills += arena_atomic_load(&sl->stats.refills);
		out->steals += arena_atomic_load(&sl->stats.steals);
		out->fallbacks += arena_atomic_load(&sl->stats.fallbacks);
	}
	for (c = 0; c < ARENA_NR_CLASSES; c++) {
		out->class_allocs[c] += arena_atomic_load(&st->fb_allocs[c]);
		out->class_frees[c] += arena_atomic_load(&st->fb_frees[c]);
		out->class_current[c] = out->class_allocs[c] - out->class_frees[c];
		out->allocs += out->class_allocs[c];
		out->frees += out->class_frees[c];
	}
	out->current = out->allocs - out->frees;
	out->reserve_pages = arena_atomic_load(&st->reserve_count);
	out->pages_total = arena_atomic_load(&st->pages_total);
	out->topup_requests = arena_atomic_load(&st->topup_requests);
	out->pages_returned = arena_atomic_load(&st->pages_returned);
	out->pages_held = out->pages_total - out->pages_returned;
	out->pages_quarantined = arena_atomic_load(&st->quar_count);
	out->pages_recycled = arena_atomic_load(&st->pages_recycled);
	out->reclaim_runs = arena_atomic_load(&st->reclaim_runs);
	out->reaped_guards = arena_atomic_load(&st->reaped_guards);
	out->abandoned = arena_atomic_load(&st->abandoned);
	out->parked = arena_atomic_load(&st->parked);
	out->park_drained = arena_atomic_load(&st->park_drained);
	for (c = 0; c < ARENA_NR_CLASSES; c++)
		if (st->carry[c] || st->scan_seen[c])
			out->reclaim_pending = 1;
	if (arena_park_pending())
		out->reclaim_pending = 1;
}

/* Initialise allocator state placed at @st (zeroed memory of
 * sizeof(*st) bytes).  Called once, before any allocation. */
static __always_inline void arena_state_init(struct arena_alloc_state __arena *st,
					     __u64 max_pages, __u64 low_water)
{
	st->magic = ARENA_PAGE_MAGIC;
	st->max_pages = max_pages;
	st->low_water = low_water;
	st->reserve_keep = 2 * low_water;
}

#define ARENA_STATE_PAGES \
	((sizeof(struct arena_alloc_state) + ARENA_PAGE_SIZE - 1) / ARENA_PAGE_SIZE)

/* ---- draining the parked frees (see arena_park_chain()) */

/*
 * Put back the parked chain that starts at @cur (park word @k), at most
 * *@budget items.  Returns where the walk stopped: 0 when the whole chain is
 * back, else the first item not yet put back (a PENDING link, or the budget
 * ran out), which the caller keeps for the next drain.
 */
static __always_inline __u32 arena_park_drain_chain(struct arena_alloc_state __arena *st,
						    __u32 k, __u32 cur, __u32 *budget)
{
	__u32 first = cur, prev = 0, n = ARENA_ZERO;
	__u64 nx;

	while (cur && n < *budget && can_loop) {
		nx = arena_atomic_load_acquire(arena_ptr_from_off(__u64, cur));
		if (nx == ARENA_PARK_PENDING)
			break;		/* its parker has not linked the rest yet */
		prev = cur;
		cur = (__u32)nx;
		n++;
	}
	*budget -= n;
	if (prev) {
		arena_chain_put(st, k, arena_ptr_from_off(void, first),
				arena_ptr_from_off(void, prev), n);
		arena_atomic_add(&st->park_drained, n);
	}
	return cur;
}

/* Free the parked node lists, at most *@budget nodes; keep the rest. */
static __always_inline void arena_park_drain_nodes(struct arena_alloc_state __arena *st,
						   __u32 *budget)
{
	__u64 e = st->park_nodes_hold, nx, ne;
	void __arena *node;
	__u32 n = ARENA_ZERO;

	if (!e && arena_atomic_load(&st->park_nodes))
		e = arena_atomic_xchg(&st->park_nodes, 0);
	while (e && n < *budget && can_loop) {
		/* Free the entry's list behind its first node, then the first
		 * node once its entry link is there.  A wild link (the arena
		 * written behind our back) is never followed: counted, cut. */
		if (!arena_ptr_ok(e)) {
			arena_atomic_add(&arena_my_stats()->failed, 1);
			e = 0;
			break;
		}
		nx = *(__u64 __arena *)e;
		if (nx && !arena_ptr_ok(nx)) {
			arena_atomic_add(&arena_my_stats()->failed, 1);
			nx = 0;
			ARENA_WRITE_ONCE(*(__u64 __arena *)e, 0);
		}
		if (nx) {
			node = (void __arena *)nx;
			ARENA_WRITE_ONCE(*(__u64 __arena *)e, *(__u64 __arena *)node);
		} else {
			ne = arena_atomic_load_acquire((__u64 __arena *)e + 1);
			if (ne == ARENA_PARK_PENDING)
				break;
			node = (void __arena *)e;
			e = ne;
		}
		bpf_arena_free(node);
		n++;
	}
	arena_atomic_store(&st->park_nodes_hold, e);
	arena_atomic_add(&st->park_drained, n);
	*budget = n < *budget ? *budget - n : 0;
}

/* Everything parked back in place, within *@budget items.  Caller holds
 * reclaim_lock (the only drainer). */
static __always_inline void arena_park_drain(struct arena_alloc_state __arena *st, __u32 *budget)
{
	__u32 k, cur;

	for (k = ARENA_ZERO; k < ARENA_NR_PARKS && *budget && can_loop; k++) {
		cur = st->park_hold[k % ARENA_NR_PARKS];
		if (!cur && arena_atomic_load(&st->park[k % ARENA_NR_PARKS]))
			cur = (__u32)arena_atomic_xchg(&st->park[k % ARENA_NR_PARKS], 0);
		if (cur)
			cur = arena_park_drain_chain(st, k % ARENA_NR_PARKS, cur, budget);
		arena_atomic_store(&st->park_hold[k % ARENA_NR_PARKS], cur);
	}
	if (*budget)
		arena_park_drain_nodes(st, budget);
}

/*
 * arena_park_flush - put back (free) everything parked, within a bounded
 * budget.  Any context (no page goes to the kernel); one drainer at a time:
 * when the reclaimer runs, returns -16 (EBUSY) at once.  Returns 0, or 1
 * when something is still parked (call again).
 */
static __always_inline int arena_park_flush(void)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	__u32 budget = ARENA_PARK_DRAIN;

	if (!st)
		return 0;
	if (arena_atomic_cmpxchg(&st->reclaim_lock, 0, 1) != 0)
		return -16;
	arena_park_drain(st, &budget);
	arena_atomic_store_release(&st->reclaim_lock, 0);
	return arena_park_pending();
}

/* ---- reclamation: pages back to the kernel (see the header comment) */

/* Record every guard word: the start of the quarantine's grace period. */
static __always_inline void arena_grace_snapshot(struct arena_alloc_state __arena *st)
{
	__u32 i;

	arena_atomic_fence();
	for (i = ARENA_ZERO; i < ARENA_NR_GUARD_WORDS && can_loop; i++)
		st->quar_snap[i % ARENA_NR_GUARD_WORDS] =
			arena_atomic_load_acquire(arena_guard_word_at(st, i));
}

/*
 * Has every guard held at the snapshot been released since?  With @reap (a
 * userspace reclaimer's first look after the run that took the snapshot),
 * a word still at its snapshot value whose holder is dead is taken back
 * (arena_guard_reap(): one system call per such word) instead of blocking
 * page return for ever.  Caller holds reclaim_lock.
 */
static __always_inline int arena_grace_over(struct arena_alloc_state __arena *st, int reap)
{
	__u64 s;
	__u32 i;

	for (i = ARENA_ZERO; i < ARENA_NR_GUARD_WORDS && can_loop; i++) {
		s = st->quar_snap[i % ARENA_NR_GUARD_WORDS];
		if ((s & 1) && arena_atomic_load_acquire(arena_guard_word_at(st, i)) == s) {
#ifndef __BPF__
			if (reap && arena_guard_reap(st, i, s))
				continue;
#endif
			return 0;
		}
	}
	(void)reap;
	return i == ARENA_NR_GUARD_WORDS;
}

/* Free the quarantined pages if their grace period is over (@reap: see
 * arena_grace_over()). */
static __always_inline __u32 arena_quarantine_release(struct arena_alloc_state __arena *st,
						      int reap)
{
	struct arena_page_hdr __arena *hdr;
	__u64 list = st->quar_head;
	__u32 n = 0;

	if (!list || !arena_grace_over(st, reap))
		return 0;
	while (list && can_loop) {
		hdr = (struct arena_page_hdr __arena *)list;
		list = hdr->qnext;
		arena_atomic_store(&st->last_returned, (__u64)hdr);
		arena_free_page(hdr);
		n++;
	}
	st->quar_head = list;
	st->quar_count -= n;
	arena_atomic_add(&st->pages_returned, n);
	return n;
}

/* A fully free page: top the reserve up, or quarantine it. */
static __always_inline void arena_reclaim_page(struct arena_alloc_state __arena *st,
					       struct arena_page_hdr __arena *hdr)
{
	arena_hdr_clear_scan(hdr);
	if (arena_atomic_load(&st->reserve_count) < st->reserve_keep) {
		arena_reserve_push(hdr);
		arena_atomic_add(&st->pages_recycled, 1);
		return;
	}
	hdr->qnext = st->quar_head;
	st->quar_head = (__u64)hdr;
	st->quar_count++;
}

/*
 * Sort one class list: detach it (or take the chain parked by the previous
 * run), sort up to *@budget objects into per-page chains, take fully free
 * pages out, push every other object back.  Returns the pages taken out.
 */
static __always_inline __u32 arena_reclaim_class(struct arena_alloc_state __arena *st, __u32 c,
						 __u32 *budget)
{
	struct arena_page_hdr __arena *hdr;
	__u32 per = arena_class_objs(c), cur, nx, kf = 0, kl = 0, found = 0, i;
	__u64 seen = st->scan_seen[c];
	__u64 __arena *o;

	st->scan_seen[c] = 0;
	cur = (__u32)st->carry[c];
	st->carry[c] = 0;
	if (!cur)
		cur = arena_stack_detach(&st->class_free[c].word);
	for (i = ARENA_ZERO; cur && i < *budget && can_loop; i++) {
		o = arena_ptr_from_off(__u64, cur);
		arena_san_reclaim_check((__u64)o, c);	/* ARENA_SANITIZE hook */
		nx = (__u32)*o;
		hdr = arena_page_of(o);
		if (!hdr->scan_cnt) {
			hdr->scan_next = seen;
			seen = (__u64)hdr;
			hdr->scan_tail = cur;
			hdr->scan_head = 0;
		}
		ARENA_WRITE_ONCE(*o, hdr->scan_head);
		hdr->scan_head = cur;
		hdr->scan_cnt++;
		cur = nx;
	}
	*budget = i < *budget ? *budget - i : 0;
	if (cur) {
		/* The list is longer than this run's budget: keep the pages
		 * sorted so far and the unsorted rest for the next run, and
		 * decide only once the whole list is sorted.  (Deciding per
		 * window found no page whose objects were spread over a list
		 * of millions: a stack run kept 20,000 free pages.) */
		st->scan_seen[c] = seen;
		st->carry[c] = cur;
		arena_atomic_add(&st->reclaim_parked, 1);
		return 0;
	}
	while (seen && can_loop) {
		hdr = (struct arena_page_hdr __arena *)seen;
		seen = hdr->scan_next;
		if (hdr->scan_cnt == per) {
			arena_reclaim_page(st, hdr);
			found++;
			continue;
		}
		ARENA_WRITE_ONCE(*arena_ptr_from_off(__u64, hdr->scan_tail), kf);
		if (!kf)
			kl = hdr->scan_tail;
		kf = hdr->scan_head;
		arena_hdr_clear_scan(hdr);
	}
	/* A budget spent here leaves sorted pages: the next run goes on. */
	st->scan_seen[c] = seen;
	if (kf)
		arena_chain_put(st, c, arena_ptr_from_off(void, kf), arena_ptr_from_off(void, kl),
				0);
	return found;
}

/*
 * arena_reclaim - give fully free pages back to the kernel.
 * Context: sleepable BPF (SEC("syscall")) or a userspace standalone build
 * (through arena_free_pages_hook).  Concurrently with every allocator
 * operation; one reclaimer at a time (others get -16, EBUSY, at once).
 * @flush: first empty every idle cache into the shared lists (quiescent
 * points: all objects in caches become reclaimable).
 * A run frees the quarantine of the previous run if its grace period is
 * over; if the quarantine is then empty, it sorts the class lists (at most
 * ARENA_RECLAIM_SCAN objects), quarantines the fully free pages and frees
 * them at once when no guard was held at that moment.
 * Returns the pages given back to the kernel by this run.
 */
static __always_inline int arena_reclaim(int flush)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;
	__u32 budget = ARENA_RECLAIM_SCAN, c;
	int ret;

	if (!st)
		return 0;
	if (arena_atomic_cmpxchg(&st->reclaim_lock, 0, 1) != 0)
		return -16;
	arena_atomic_add(&st->reclaim_runs, 1);
	if (flush)
		arena_cache_flush_all();
	arena_park_drain(st, &budget);
	budget = ARENA_RECLAIM_SCAN;
	/* A word still held since the last run's snapshot may be a dead
	 * thread's: this first look reaps (userspace); the look right after a
	 * new snapshot does not (its holders are most likely mid-operation). */
	ret = arena_quarantine_release(st, 1);
	if (!st->quar_head) {
		for (c = ARENA_ZERO; c < ARENA_NR_CLASSES && budget && can_loop; c++)
			arena_reclaim_class(st, c & 7, &budget);
		if (st->quar_head) {
			arena_grace_snapshot(st);
			ret += arena_quarantine_release(st, 0);
		}
	}
	arena_atomic_store_release(&st->reclaim_lock, 0);
	return ret;
}

#ifndef __BPF__
/*
 * arena_guards_reap - take back every guard word (cache ownership words
 * included) whose holder is a dead thread, abandoning a dead holder's cache
 * (arena_slot_abandon()).  Userspace only: one system call per word held
 * right now, for a housekeeping loop (where the reclaimer runs in BPF and
 * cannot tell a dead thread).  Any number of callers, concurrently with
 * everything.  Lock-free.  Returns the words taken back.
 */
static inline int arena_guards_reap(void)
{
	struct arena_alloc_state *st = arena_alloc_st;
	__u32 i;
	__u64 s;
	int n = 0;

	if (!st)
		return 0;
	for (i = 0; i < ARENA_NR_GUARD_WORDS; i++) {
		s = arena_atomic_load_acquire(arena_guard_word_at(st, i));
		if (s & 1)
			n += arena_guard_reap(st, i, s);
	}
	return n;
}
#endif

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
	void __arena *map;
	__u32 map_pages;

	if (arena_alloc_st)
		return 0;
	st = arena_alloc_pages(ARENA_STATE_PAGES);
	if (!st)
		return -12;
	arena_state_init(st, max_pages, low_water);
	st->pages_total = ARENA_STATE_PAGES;
	arena_alloc_st = st;
	/* The page map (one bit per page of the arena), then its own and the
	 * state's pages in it.  Kept out of pages_total (it is the allocator's
	 * own, like the state) and left out for arenas under
	 * ARENA_MAP_MIN_PAGES, where its pages would be missed; without one,
	 * arena_ptr_ok() checks range and alignment only. */
	map_pages = (max_pages + 8 * ARENA_PAGE_SIZE - 1) / (8 * ARENA_PAGE_SIZE);
	map = max_pages >= ARENA_MAP_MIN_PAGES ? arena_alloc_pages_raw(map_pages) : NULL;
	if (map) {
		st->map_bits = max_pages;
		st->page_map = (__u64)map;
		arena_page_map_set((__u64)st, ARENA_STATE_PAGES, 1);
		arena_page_map_set((__u64)map, map_pages, 1);
	}
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

#ifdef __BPF__
#pragma pop_macro("can_loop")
#endif

#endif /* __LIB_ALLOC_H */
