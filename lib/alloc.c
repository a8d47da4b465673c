// SPDX-License-Identifier: GPL-2.0
/*
 * lib/alloc.c - the allocator's state and its application API
 * (<libarena-ds/alloc.h>, <libarena-ds/sanitize.h>), compiled once as BPF
 * and once as userspace C.  The implementation is lib/alloc.h.
 */
#ifdef __BPF__
#include <libarena-ds/common.h>
/* The only declarations of the arena kfuncs in the library (common.h). */
void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, __u32 page_cnt,
				    int node_id, __u64 flags) __ksym __weak;
void bpf_arena_free_pages(void *map, void __arena *ptr, __u32 page_cnt) __ksym __weak;
#define ARENA_KFUNCS
#endif
#define ARENA_ALLOC_INLINE	/* the bodies themselves, see alloc.h */
#include "alloc.h"

#ifdef __BPF__
/* Set by arena_setup(); userspace gets it from libarena_init's reply. */
struct arena_alloc_state __arena *arena_alloc_st __weak;

/*
 * arena_kern_alloc_pages - @npages fresh zeroed pages from the kernel.
 * Sleepable programs on kernels before 7.0 (any program on later ones).
 * Returns their address or 0.
 */
#undef arena_kern_alloc_pages
#undef arena_kern_free_pages
DS_API __u64 arena_kern_alloc_pages(__u32 npages)
{
	return (__u64)bpf_arena_alloc_pages(&arena, NULL, npages, NUMA_NO_NODE, 0);
}

/* Give @npages pages at @p back to the kernel.  Sleepable, as above. */
DS_API int arena_kern_free_pages(void __arena *p __arg_arena, __u32 npages)
{
	bpf_arena_free_pages(&arena, p, npages);
	return 0;
}
#else
struct arena_alloc_state *arena_alloc_st;
void *(*arena_pages_hook)(__u32 npages);
void (*arena_free_pages_hook)(void *p, __u32 npages);
__thread int arena_tls_slot = -1;
int arena_next_thread_slot;
__thread __u64 arena_loop_left;
__thread __u32 arena_api_depth;
__u64 arena_loop_user_budget = ARENA_LOOP_BUDGET_USER;

/* lib/ident.h: a thread's identity (layout there). */
__thread __u64 arena_ebr_me_cache;
static int arena_ebr_atfork_done;
static __u64 arena_ebr_gen_next;

/* A fork() child forgets the identity it inherited. */
static void arena_ebr_forget_me(void)
{
	arena_ebr_me_cache = 0;
	arena_ebr_gen_next = 0;
}

static __u64 arena_ebr_make_id(__u64 tgid, __u64 tid)
{
	__u64 g = __atomic_load_n(&arena_ebr_gen_next, __ATOMIC_RELAXED);

	if (!g) {
		/* First identity of this process: start at a clock value, so
		 * a reused pid starts elsewhere too. */
		__u64 seed = (arena_now_ns() * 0x9e3779b97f4a7c15ULL) >> 40 | 1;

		__atomic_compare_exchange_n(&arena_ebr_gen_next, &g, seed, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
	g = __atomic_fetch_add(&arena_ebr_gen_next, 1, __ATOMIC_RELAXED);
	return (g & ARENA_EBR_GEN_MASK) << ARENA_EBR_GEN_SHIFT |
	       (tgid & ARENA_EBR_ID_MASK) << ARENA_EBR_ID_BITS | (tid & ARENA_EBR_ID_MASK);
}

__attribute__((noinline, cold)) __u64 arena_ebr_me_first(void)
{
	if (!__atomic_exchange_n(&arena_ebr_atfork_done, 1, __ATOMIC_RELAXED))
		pthread_atfork(NULL, NULL, arena_ebr_forget_me);
	arena_ebr_me_cache = arena_ebr_make_id(getpid(), syscall(SYS_gettid));
	return arena_ebr_me_cache;
}
#endif

#ifndef __BPF__
/* The userspace copies of bpf_arena_alloc()/bpf_arena_free() (alloc.h). */
void __arena *arena_alloc_user(__u32 size)
{
	return bpf_arena_alloc(size);
}

void arena_free_user(void __arena *p)
{
	bpf_arena_free(p);
}
#endif

/* Contract: <libarena-ds/alloc.h>. */
DS_API __u64 arena_malloc_u64(__u32 size)
{
	arena_bind();
	return (__u64)bpf_arena_alloc(size);
}

DS_API int arena_free(void __arena *p __arg_arena)
{
	arena_bind();
	if (p && arena_page_of(p)->magic != ARENA_PAGE_MAGIC)
		return -22;
	bpf_arena_free(p);
	return 0;
}

DS_API __u64 arena_malloc_pages_u64(__u64 size)
{
	arena_bind();
	return (__u64)arena_alloc_large(size);
}

DS_API int arena_init(__u64 max_pages, __u64 low_water)
{
	arena_bind();
	return arena_setup(max_pages, low_water);
}

DS_API int arena_refill(__u32 target)
{
	arena_bind();
	return arena_reserve_topup(target);
}

DS_API __u64 arena_reserve_pages(void)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;

	arena_bind();
	return st ? arena_atomic_load(&st->reserve_count) : 0;
}

DS_API __u64 arena_last_returned_page(void)
{
	struct arena_alloc_state __arena *st = arena_alloc_st;

	arena_bind();
	return st ? arena_atomic_load(&st->last_returned) : 0;
}

DS_API int arena_return_pages(int flush)
{
	arena_bind();
	return arena_reclaim(flush);
}

DS_API int arena_stats_read(struct arena_stats *out)
{
	arena_bind();
	arena_get_stats(out);
	return arena_alloc_st ? 0 : -2;
}

DS_API int arena_caches_off(int off)
{
	arena_bind();
	arena_set_caches_off(off);
	return 0;
}

DS_API int arena_san_stats_read(struct arena_san_stats *out)
{
	arena_bind();
	arena_san_get_stats(out);
	return 0;
}

DS_API int arena_san_check_all(void)
{
	arena_bind();
	return arena_san_check();
}

#ifndef __BPF__
int arena_reap_dead_guards(void)
{
	return arena_guards_reap();
}
#endif

#ifdef __BPF__
/*
 * The library's own SEC("syscall") programs, linked into every application
 * object with libarena-ds.bpf.o.  Userspace runs them (lib/user.c) for what
 * only a sleepable BPF program may do: take pages from the kernel and give
 * them back.  Here, in the one object that may call the kfuncs directly.
 */
#include "progs.h"

/* Create the allocator (once) and stock the reserve; reply with the state's
 * address for userspace. */
SEC("syscall")
int libarena_init(struct libarena_args *a)
{
	arena_loop_arm(0);	/* no step budget: may_goto bounds these */
	a->rc = arena_init(a->arg0, a->arg1);
	if (!a->rc)
		arena_refill(2 * a->arg1);
	a->ret = (__u64)arena_alloc_st;
	return 0;
}

/* @arg0 fresh contiguous pages for a userspace allocation. */
SEC("syscall")
int libarena_pages(struct libarena_args *a)
{
	arena_loop_arm(0);	/* no step budget: may_goto bounds these */
	/* Raw pages: userspace's arena_alloc_pages() counts them itself (in
	 * pages_total and the page map); counting here too would count twice. */
	a->ret = arena_kern_alloc_pages(a->arg0);
	a->rc = a->ret ? 0 : -12;
	return 0;
}

/* Top the reserve up to @arg0 pages for programs that cannot sleep. */
SEC("syscall")
int libarena_refill(struct libarena_args *a)
{
	arena_loop_arm(0);	/* no step budget: may_goto bounds these */
	a->rc = arena_refill(a->arg0);
	return 0;
}

/* Give fully free pages back (@arg0: flush idle caches first). */
SEC("syscall")
int libarena_reclaim(struct libarena_args *a)
{
	arena_loop_arm(0);	/* no step budget: may_goto bounds these */
	a->rc = arena_reclaim(a->arg0);
	return 0;
}

char _libarena_license[] SEC("license") __weak = "GPL";
#endif /* __BPF__ */
