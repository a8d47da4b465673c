/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/standalone.c - run libarena-ds in a plain process, with no kernel:
 * an anonymous mapping at ARENA_BASE stands in for the arena, so unit tests,
 * sanitizers and benchmarks exercise the very code BPF programs run.
 * Pages given back (arena_free_pages_hook) are emptied and made
 * inaccessible, as the kernel unmaps them: a stale access to a returned page
 * crashes the test instead of passing unnoticed.  Single pages given back
 * are handed out again before fresh ones.  Userspace only.
 */
#ifndef __BPF__
#include <pthread.h>
#include <sys/mman.h>
#include "alloc.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

struct arena_standalone {
	char *base;
	__u64 npages;
	__u64 next;		/* first page not yet handed out */
	pthread_mutex_t lock;	/* guards the returned-page stack */
	__u64 *freed;		/* pages given back, to hand out again */
	__u64 nfreed;
	__u64 returned;		/* pages given back in all */
	int shared;		/* MAP_SHARED: forked children share the arena */
};

static struct arena_standalone arena_sa;

static void *arena_standalone_pages(__u32 npages)
{
	__u64 first;

	if (npages == 1) {
		void *p = NULL;

		pthread_mutex_lock(&arena_sa.lock);
		if (arena_sa.nfreed)
			p = arena_sa.base + arena_sa.freed[--arena_sa.nfreed] * ARENA_PAGE_SIZE;
		pthread_mutex_unlock(&arena_sa.lock);
		if (p) {
			if (mprotect(p, ARENA_PAGE_SIZE, PROT_READ | PROT_WRITE))
				return NULL;
			arena_san_page_recycled(p);	/* ARENA_SANITIZE hook */
			return p;
		}
	}
	first = __atomic_fetch_add(&arena_sa.next, npages, __ATOMIC_RELAXED);

	if (first + npages > arena_sa.npages) {
		/* Give back what we over-claimed so later small requests fit. */
		__atomic_fetch_sub(&arena_sa.next, npages, __ATOMIC_RELAXED);
		return NULL;
	}
	return arena_sa.base + first * ARENA_PAGE_SIZE;
}

/* The way back: drop the contents, make the pages inaccessible, keep them
 * for reuse. */
static void arena_standalone_free_pages(void *p, __u32 npages)
{
	__u64 first = ((char *)p - arena_sa.base) / ARENA_PAGE_SIZE, i;

	/* A shared mapping keeps its pages in shmem: only MADV_REMOVE
	 * empties them. */
	madvise(p, (size_t)npages * ARENA_PAGE_SIZE,
		arena_sa.shared ? MADV_REMOVE : MADV_DONTNEED);
	mprotect(p, (size_t)npages * ARENA_PAGE_SIZE, PROT_NONE);
	pthread_mutex_lock(&arena_sa.lock);
	for (i = 0; i < npages; i++)
		arena_sa.freed[arena_sa.nfreed++] = first + i;
	arena_sa.returned += npages;
	pthread_mutex_unlock(&arena_sa.lock);
}

/*
 * Map @npages at ARENA_BASE (MAP_SHARED when @shared) and set the
 * allocator up on it.  Page 0 stays unused, as in the kernel driver, so no
 * object has arena offset 0.  Returns 0, or -1 when the address range is
 * taken or memory is short.
 */
static int arena_standalone_map(__u64 npages, int shared)
{
	void *p;

	p = mmap((void *)ARENA_BASE, npages * ARENA_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE |
		 MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	if (p != (void *)ARENA_BASE) {
		munmap(p, npages * ARENA_PAGE_SIZE);
		return -1;
	}
	arena_sa.base = p;
	arena_sa.shared = shared;
	arena_sa.npages = npages;
	arena_san_asan_begin();		/* ARENA_SANITIZE hook */
	arena_sa.next = 1;
	arena_sa.freed = mmap(NULL, npages * sizeof(__u64), PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena_sa.freed == MAP_FAILED) {
		munmap(p, npages * ARENA_PAGE_SIZE);
		arena_sa.base = NULL;
		return -1;
	}
	arena_sa.nfreed = 0;
	arena_sa.returned = 0;
	pthread_mutex_init(&arena_sa.lock, NULL);
	arena_alloc_st = NULL;
	arena_pages_hook = arena_standalone_pages;
	arena_free_pages_hook = arena_standalone_free_pages;
	return arena_setup(npages, 0);
}

int arena_standalone_init(__u64 npages)
{
	return arena_standalone_map(npages, 0);
}

int arena_standalone_init_shared(__u64 npages)
{
	return arena_standalone_map(npages, 1);
}

void arena_standalone_fini(void)
{
	if (arena_sa.base) {
		/* ARENA_SANITIZE hook: clean the shadow of what was used */
		arena_san_asan_end(arena_sa.base, arena_sa.next * ARENA_PAGE_SIZE);
		munmap(arena_sa.base, arena_sa.npages * ARENA_PAGE_SIZE);
		munmap(arena_sa.freed, arena_sa.npages * sizeof(__u64));
		pthread_mutex_destroy(&arena_sa.lock);
	}
	arena_sa.base = NULL;
	arena_sa.freed = NULL;
	arena_alloc_st = NULL;
	arena_pages_hook = NULL;
	arena_free_pages_hook = NULL;
}

void arena_standalone_span(char **base, __u64 *npages, __u64 *used)
{
	*base = arena_sa.base;
	*npages = arena_sa.npages;
	*used = __atomic_load_n(&arena_sa.next, __ATOMIC_RELAXED);
}

__u64 arena_standalone_returned(void)
{
	__u64 n;

	pthread_mutex_lock(&arena_sa.lock);
	n = arena_sa.returned;
	pthread_mutex_unlock(&arena_sa.lock);
	return n;
}
#endif /* !__BPF__ */
