// SPDX-License-Identifier: GPL-2.0
/*
 * lib/libarena.bpf.c - the library's own SEC("syscall") programs, linked
 * into every application object with libarena-ds.bpf.o.  Userspace runs
 * them (lib/user.c) for what only a sleepable BPF program may do: take
 * pages from the kernel and give them back.
 */
#include "alloc.h"
#include "progs.h"

/* Create the allocator (once) and stock the reserve; reply with the state's
 * address for userspace. */
SEC("syscall")
int libarena_init(struct libarena_args *a)
{
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
	a->ret = (__u64)arena_alloc_pages(a->arg0);
	a->rc = a->ret ? 0 : -12;
	return 0;
}

/* Top the reserve up to @arg0 pages for programs that cannot sleep. */
SEC("syscall")
int libarena_refill(struct libarena_args *a)
{
	a->rc = arena_refill(a->arg0);
	return 0;
}

/* Give fully free pages back (@arg0: flush idle caches first). */
SEC("syscall")
int libarena_reclaim(struct libarena_args *a)
{
	a->rc = arena_return_pages(a->arg0);
	return 0;
}

char _libarena_license[] SEC("license") __weak = "GPL";
