// SPDX-License-Identifier: GPL-2.0
/*
 * alloc_bench.bpf.c - kernel side of `make bench-alloc`: the allocator's
 * alloc+free loop in a SEC("syscall") program, timed inside the kernel.
 *   alloc_init   allocator set-up
 *   alloc_loop   @pairs alloc+free pairs of @size bytes, pair or burst
 *   alloc_refill top the reserve up between runs
 * Linked with libarena-ds.bpf.o; the loops call the allocator's inline
 * fast path (lib/alloc.h), which is what the library's own structures use.
 */
#include "alloc.h"
#include "alloc_bench.h"

#define BENCH_RESERVE 256

SEC("syscall")
int alloc_init(struct alloc_init_args *a)
{
	a->rc = arena_setup(a->max_pages, 16);
	arena_reserve_topup(BENCH_RESERVE);
	return 0;
}

/* One burst: allocate up to ALLOC_BURST objects linked through their first
 * word, then free them all.  Returns the objects allocated.  A global
 * function: the verifier checks it once, not once per loop state. */
__noinline int bench_burst(__u32 size)
{
	__u64 __arena *head = NULL, *p;
	int i, n = 0;

	arena_bind();
	for (i = ARENA_ZERO; i < ALLOC_BURST && can_loop; i++) {
		p = bpf_arena_alloc(size);
		if (!p)
			break;
		*p = (__u64)head;
		head = p;
		n++;
	}
	while (head && can_loop) {
		p = head;
		head = (__u64 __arena *)*p;
		bpf_arena_free(p);
	}
	return n;
}

SEC("syscall")
int alloc_loop(struct alloc_loop_args *a)
{
	__u32 pairs = a->pairs, size = a->size, i, done = 0;
	__u64 failed = 0, t0;
	void __arena *p;

	arena_reserve_topup(BENCH_RESERVE);
	t0 = bpf_ktime_get_ns();
	if (a->pattern == ALLOC_PAT_BURST) {
		for (i = ARENA_ZERO; done < pairs && i < pairs && can_loop; i++) {
			int n = bench_burst(size);

			if (n < ALLOC_BURST)
				failed++;
			if (n <= 0)
				break;
			done += n;
		}
	} else {
		for (i = ARENA_ZERO; i < pairs && can_loop; i++) {
			p = bpf_arena_alloc(size);
			if (!p) {
				failed++;
				continue;
			}
			*(__u64 __arena *)p = i;
			bpf_arena_free(p);
			done++;
		}
	}
	a->ns = bpf_ktime_get_ns() - t0;
	a->done = done;
	a->failed = failed;
	return 0;
}

SEC("syscall")
int alloc_refill(void *ctx)
{
	return arena_reserve_topup(BENCH_RESERVE);
}

char LICENSE[] SEC("license") = "GPL";
