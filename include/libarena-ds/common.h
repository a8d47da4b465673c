/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/common.h - what every libarena-ds header needs, in both worlds.
 *
 * The same header is compiled as a BPF object (clang -target bpf, __BPF__
 * defined) and as ordinary userspace C.  It provides:
 *   - __arena and cast_kern()/cast_user() for arena pointers;
 *   - can_loop, the loop bound every BPF loop must carry;
 *   - the arena map (BPF side, declared __weak with one fixed definition so
 *     any number of objects that include this header link together) and its
 *     fixed user address ARENA_BASE;
 *   - DS_API, the mark of a library function: a global __weak function in
 *     BPF (verified once, on its own), an ordinary extern in userspace;
 *   - arena_atomic_*: one set of atomics with the same meaning on both sides;
 *   - arena_slot(): a small per-context index for per-CPU / per-thread data.
 *
 * Pointer model: an arena pointer stored anywhere (in the arena, in .bss) is
 * the userspace address of the object.  The arena is mapped at ARENA_BASE in
 * userspace (map_extra), so userspace follows stored pointers directly, and
 * clang's address-space casts let BPF programs do the same.
 */
#ifndef __LIBARENA_DS_COMMON_H
#define __LIBARENA_DS_COMMON_H

#ifndef ARENA_PAGE_SIZE
#define ARENA_PAGE_SIZE 4096
#endif

/* Userspace address of arena page 0.  4 GiB aligned: the low 32 bits of an
 * arena pointer are its offset in the arena. */
#ifndef ARENA_BASE
#if defined(__TARGET_ARCH_arm64) || defined(__aarch64__)
#define ARENA_BASE (1ULL << 32)
#else
#define ARENA_BASE (1ULL << 44)
#endif
#endif

/* Upper bound of the arena in pages (map max_entries; 4 GiB is the kernel's
 * limit).  The driver may lower it before load (--arena-pages). */
#ifndef ARENA_MAX_PAGES
#define ARENA_MAX_PAGES (1U << 18)	/* 1 GiB of address space, sparse */
#endif

/* Per-context slots: the first half is indexed by CPU (BPF programs), the
 * second half by userspace thread.  Several contexts may share a slot; every
 * update of slot data is atomic, so sharing costs speed, never correctness. */
#define ARENA_NR_CPU_SLOTS	64
#define ARENA_NR_THREAD_SLOTS	64
#define ARENA_NR_SLOTS		(ARENA_NR_CPU_SLOTS + ARENA_NR_THREAD_SLOTS)
#define ARENA_CACHELINE		64

#define ARENA_ALIGNED_CL __attribute__((aligned(ARENA_CACHELINE)))

/*
 * Loop budget.  Every loop over arena data carries can_loop, and can_loop
 * also spends a step budget: when it is spent, every can_loop of the same
 * run answers false (the operation answers DS_ERROR_BUSY) until the budget
 * is armed again.  A corrupted structure (a cycle, a wild link) so costs a
 * bounded number of steps per operation, in the kernel and in userspace.
 *   BPF: one counter per CPU slot; a program arms it (arena_loop_arm) at
 *        entry: hooks with a few thousand steps, kernel workers per
 *        operation.  Unarmed programs are bounded by may_goto only.
 *   userspace: one counter per thread, armed to arena_loop_user_budget
 *        (0: unbounded) at the first step of each outermost public call
 *        (see arena_bind); arena_loop_arm() between two calls sets the
 *        budget of the next one instead (e.g. a verify).
 */
#ifndef ARENA_LOOP_BUDGET_USER
#define ARENA_LOOP_BUDGET_USER	(1ULL << 22)
#endif

#ifdef __BPF__
/* ------------------------------------------------------------------ BPF */
#ifndef BPF_NO_KFUNC_PROTOTYPES
#define BPF_NO_KFUNC_PROTOTYPES
#endif
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#ifndef __BPF_FEATURE_ADDR_SPACE_CAST
#error "libarena-ds needs clang >= 19 with __BPF_FEATURE_ADDR_SPACE_CAST (arena address-space casts)"
#endif

#define __arena __attribute__((address_space(1)))
/* clang inserts the casts itself when it sees address_space(1). */
#define cast_kern(ptr) /* nothing to do */
#define cast_user(ptr) /* nothing to do */

#ifndef NUMA_NO_NODE
#define NUMA_NO_NODE (-1)
#endif

/*
 * The arena kfuncs (bpf_arena_alloc_pages / bpf_arena_free_pages) are
 * declared in one object only, lib/alloc.c, and reached through
 * arena_kern_alloc_pages() / arena_kern_free_pages(): libbpf before 1.5
 * cannot link two objects that declare the same kfunc.
 */

/*
 * The one arena every libarena-ds program shares.  Weak, and the same
 * definition in every object: libbpf's linker joins identical weak maps
 * but refuses two definitions that differ, so an application sizes the
 * arena at open time (bpf_map__set_max_entries()) rather than by its own
 * definition.  The user address must stay ARENA_BASE.  Sanitizer builds
 * add BPF_F_SEGV_ON_FAULT: a userspace access to a page the allocator gave
 * back (a use after return) faults instead of mapping a fresh zero page;
 * the driver sets it too with LIBARENA_SEGV_ON_FAULT=1.
 */
#ifdef ARENA_SANITIZE
#define ARENA_MAP_FLAGS (BPF_F_MMAPABLE | BPF_F_SEGV_ON_FAULT)
#else
#define ARENA_MAP_FLAGS BPF_F_MMAPABLE
#endif
struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, ARENA_MAP_FLAGS);
	__uint(max_entries, ARENA_MAX_PAGES);
	__ulong(map_extra, ARENA_BASE);
} arena SEC(".maps") __weak;

/* A library function: global, so the verifier checks it once on its own
 * instead of once per call site; weak, so objects link in any order. */
#define DS_API __weak
#ifndef __arg_arena
#define __arg_arena __attribute__((btf_decl_tag("arg:arena")))
#endif

/* A program that touches arena memory must reference the arena map; this
 * does so at no cost for programs that otherwise would not. */
#define arena_bind() asm volatile("" :: "r"(&arena))

/*
 * Loop step budget, per CPU slot (see "Loop budget" below): steps left + 1,
 * 1 when spent, 0 when nothing armed it (then only may_goto bounds loops).
 * Plain stores: a slot shared by two CPUs (more than ARENA_NR_CPU_SLOTS of
 * them) or by a preempted sleepable program mixes budgets, never unbounds
 * a loop (may_goto still ends it).
 */
__u64 arena_loop_left[ARENA_NR_CPU_SLOTS] __weak;

static __always_inline __u64 *arena_loop_slot(void)
{
	return &arena_loop_left[bpf_get_smp_processor_id() & (ARENA_NR_CPU_SLOTS - 1)];
}

/*
 * One step of the running program's budget: 0 once it is spent.  A global
 * function: the verifier checks it once and sees an unknown answer at each
 * loop, so budgets add no states to the loops that use them.
 */
__weak __noinline int arena_loop_step(void)
{
	__u64 *p = arena_loop_slot(), l = *p;

	if (l == 0)
		return 1;
	if (l == 1)
		return 0;
	*p = l - 1;
	return 1;
}

/* Arm @steps for the running program (0: no budget but may_goto's). */
static __always_inline void arena_loop_arm(__u64 steps)
{
	*arena_loop_slot() = steps ? steps + 1 : 0;
}

/* The slot's budget word, for a program that runs inside another's slot
 * (a hook on a CPU whose sleepable program was preempted) to put back. */
static __always_inline __u64 arena_loop_save(void)
{
	return *arena_loop_slot();
}

static __always_inline void arena_loop_restore(__u64 v)
{
	*arena_loop_slot() = v;
}

/* BPF programs arm explicitly (per hook run, per worker operation). */

/*
 * can_loop: true until this run's step budget (arena_loop_arm) or the
 * verifier's per-program loop budget (may_goto) is spent.  Every loop over
 * arena data ends with "&& can_loop".
 */
#define can_loop (arena_loop_step() && arena_may_goto())

#ifdef __BPF_FEATURE_MAY_GOTO
#define arena_may_goto()				\
	({ __label__ l_out, l_go;			\
	   bool __ok = true;				\
	   asm volatile goto("may_goto %l[l_out]" :::: l_out); \
	   goto l_go;					\
	l_out: __ok = false;				\
	l_go:;						\
	   __ok; })
#else
#error "libarena-ds needs clang with may_goto support (__BPF_FEATURE_MAY_GOTO)"
#endif

#define arena_barrier() asm volatile("" ::: "memory")

/*
 * Start loop counters at ARENA_ZERO, not 0.  The verifier cannot see its
 * value (it lives in .bss), so a counter stays an unknown scalar and a
 * can_loop loop converges after a few iterations instead of being walked
 * once per value.
 */
__u64 arena_zero __weak;
#define ARENA_ZERO arena_zero

/* Slot of the running BPF program: its CPU (migration is disabled while a
 * BPF program runs, sleepable or not). */
static __always_inline __u32 arena_slot(void)
{
	return bpf_get_smp_processor_id() % ARENA_NR_CPU_SLOTS;
}

static __always_inline __u64 arena_now_ns(void)
{
	return bpf_ktime_get_ns();
}

#define ARENA_READ_ONCE(x)	(*(volatile typeof(x) *)&(x))
#define ARENA_WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))

/*
 * BPF atomics on arena memory.  The value-returning atomics (cmpxchg, xchg,
 * fetch_add) are fully ordered.  clang-19 has no BPF load-acquire /
 * store-release instructions, so on x86 (TSO) a plain access plus a compiler
 * barrier gives acquire/release; elsewhere a fully ordered RMW is used.
 */
#define arena_atomic_cmpxchg(p, old, new) __sync_val_compare_and_swap((p), (old), (new))
#define arena_atomic_xchg(p, v)		__sync_lock_test_and_set((p), (v))
#define arena_atomic_fetch_add(p, v)	__sync_fetch_and_add((p), (v))
#define arena_atomic_add(p, v)		((void)__sync_fetch_and_add((p), (v)))
#define arena_atomic_fetch_or(p, v)	__sync_fetch_and_or((p), (v))
#define arena_atomic_fetch_and(p, v)	__sync_fetch_and_and((p), (v))
#define arena_atomic_load(p)		ARENA_READ_ONCE(*(p))
#define arena_atomic_store(p, v)	ARENA_WRITE_ONCE(*(p), (v))
#if defined(__TARGET_ARCH_x86)
#define arena_atomic_load_acquire(p)					\
	({ __typeof__(*(p) + 0) __v = ARENA_READ_ONCE(*(p)); arena_barrier(); __v; })
#define arena_atomic_store_release(p, v)				\
	do { arena_barrier(); ARENA_WRITE_ONCE(*(p), (v)); } while (0)
/* A fetching atomic is fully ordered on every JIT; its result is used so
 * clang cannot emit the non-fetching (unordered on arm64) form. */
#define arena_atomic_fence()						\
	do {								\
		__u64 __f = 0, __r = __sync_fetch_and_add(&__f, 0);	\
		asm volatile("" :: "r"(__r));				\
	} while (0)
#else
#define arena_atomic_load_acquire(p)	__sync_fetch_and_or((p), 0)
#define arena_atomic_store_release(p, v) ((void)__sync_lock_test_and_set((p), (v)))
#define arena_atomic_fence()						\
	do {								\
		__u64 __f = 0, __r = __sync_fetch_and_add(&__f, 0);	\
		asm volatile("" :: "r"(__r));				\
	} while (0)
#endif
#define arena_cpu_relax()	do { } while (0)
/*
 * After a fully ordered RMW (cmpxchg, xchg, fetch_*) whose store must be
 * visible before a following load of another word (store->load: a guard
 * taken, then a list head read; a record published, then the epoch read).
 * The BPF memory model makes value-returning atomics fully ordered on every
 * JIT (x86 lock-prefixed, arm64 with full barriers), so only the compiler
 * needs holding back here.
 */
#define arena_rmw_fence()	arena_barrier()

#else /* !__BPF__ */
/* ------------------------------------------------------------ userspace */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#define __arena
#define __arg_arena
#define DS_API
#define cast_kern(ptr) /* nothing to do */
#define cast_user(ptr) /* nothing to do */
#define ARENA_ZERO 0

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define arena_barrier() __asm__ __volatile__("" ::: "memory")

#define ARENA_READ_ONCE(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ARENA_WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Same meaning as the BPF side: value-returning RMWs are fully ordered. */
#define arena_atomic_cmpxchg(p, old, new)					\
	({ typeof(*(p)) __o = (old);						\
	   __atomic_compare_exchange_n((p), &__o, (new), false,			\
				       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);	\
	   __o; })
#define arena_atomic_xchg(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define arena_atomic_fetch_add(p, v)	__atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define arena_atomic_add(p, v)		((void)__atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST))
#define arena_atomic_fetch_or(p, v)	__atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#define arena_atomic_fetch_and(p, v)	__atomic_fetch_and((p), (v), __ATOMIC_SEQ_CST)
#define arena_atomic_load(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define arena_atomic_store(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define arena_atomic_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define arena_atomic_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#if defined(__SANITIZE_THREAD__)
/* TSAN does not model stand-alone fences; a seq_cst RMW orders the same. */
static __u64 arena_fence_word __attribute__((unused));
#define arena_atomic_fence()	((void)__atomic_fetch_add(&arena_fence_word, 0, __ATOMIC_SEQ_CST))
#else
#define arena_atomic_fence()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
/*
 * After a seq_cst RMW whose store must be visible before a following load
 * of another word (store->load, see the BPF side).  On x86 the RMW is a
 * locked instruction, a full barrier already.  Elsewhere C11 does not order
 * a seq_cst RMW before a later acquire load (arm64 may use LDAPR, which can
 * pass the RMW's store): a full fence.
 */
#if defined(__x86_64__) || defined(__i386__) || defined(ARENA_TEST_NO_RMW_FENCE)
/* (ARENA_TEST_NO_RMW_FENCE: tests/arch/ builds the fence-less variant to
 * show that its check catches a missing fence.) */
#define arena_rmw_fence()	arena_barrier()
#else
#define arena_rmw_fence()	arena_atomic_fence()
#endif
#if defined(__x86_64__) || defined(__i386__)
#define arena_cpu_relax()	__builtin_ia32_pause()
#else
#define arena_cpu_relax()	arena_barrier()
#endif

#include <time.h>
static inline __u64 arena_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC is the clock bpf_ktime_get_ns() reads. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Slot of the calling userspace thread, assigned on first use.  A thread may
 * pick its slot explicitly (arena_set_thread_slot) so that concurrently
 * running threads never share one.
 */
extern __thread int arena_tls_slot;
extern int arena_next_thread_slot;

static inline __u32 arena_slot(void)
{
	if (arena_tls_slot < 0)
		arena_tls_slot = __atomic_fetch_add(&arena_next_thread_slot, 1,
						    __ATOMIC_RELAXED) % ARENA_NR_THREAD_SLOTS;
	return ARENA_NR_CPU_SLOTS + (__u32)arena_tls_slot;
}

static inline void arena_set_thread_slot(int idx)
{
	arena_tls_slot = idx % ARENA_NR_THREAD_SLOTS;
}

/*
 * Loop budget, userspace side: the calling thread's steps left + 1 (1 when
 * spent, 0 before its first step, which arms arena_loop_user_budget).
 * The outermost public call clears it when it returns (arena_bind), so
 * each call has the budget to itself.
 */
extern __thread __u64 arena_loop_left;
extern __u64 arena_loop_user_budget;

/* Arm @steps for the calling thread (0: unbounded, as before budgets). */
static inline void arena_loop_arm(__u64 steps)
{
	arena_loop_left = steps ? steps + 1 : ~0ULL;
}

static inline bool arena_loop_step(void)
{
	__u64 l = arena_loop_left;

	if (__builtin_expect(l > 1, 1)) {
		if (l != ~0ULL)
			arena_loop_left = l - 1;
		return true;
	}
	if (l == 1)
		return false;
	arena_loop_arm(__atomic_load_n(&arena_loop_user_budget, __ATOMIC_RELAXED));
	return true;
}

/*
 * Every public function opens with arena_bind().  In userspace it scopes the
 * step budget to the outermost public call: when that call returns, the
 * thread's budget is cleared, and the next call starts on a fresh
 * arena_loop_user_budget (or on what arena_loop_arm() set in between).
 * Public calls made inside another share its budget, so a loop of them
 * stays bounded.
 */
extern __thread __u32 arena_api_depth;

static inline __u32 arena_api_enter(void)
{
	return arena_api_depth++;
}

static inline void arena_api_leave(__u32 *outer)
{
	arena_api_depth = *outer;
	if (!*outer)
		arena_loop_left = 0;
}

#define arena_bind()							\
	__u32 __arena_api_outer __attribute__((cleanup(arena_api_leave), unused)) = \
		arena_api_enter()

/* A test may define can_loop itself (e.g. a budget that runs out at a
 * chosen step) before including this header. */
#ifndef can_loop
#define can_loop arena_loop_step()
#endif

#endif /* __BPF__ */

/* Both worlds. */
#define arena_offset(p)		((__u32)((__u64)(p) & 0xffffffffULL))
#define arena_ptr_from_off(type, off)					\
	((type __arena *)(off ? (ARENA_BASE | (__u64)(off)) : 0))

#endif /* __LIBARENA_DS_COMMON_H */
