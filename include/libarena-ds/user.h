/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/user.h - userspace side of an application: attach the
 * library to the arena of a loaded BPF object, then call every DS_API
 * function directly on the mmap'd arena, concurrently with the object's
 * BPF programs.  Link with libarena-ds.a (pkg-config libarena-ds).
 */
#ifndef __LIBARENA_DS_USER_H
#define __LIBARENA_DS_USER_H

#ifdef __BPF__
#error "libarena-ds/user.h is for userspace"
#endif

#include "api.h"

struct bpf_object;

/* Reserve pages kept for programs that cannot sleep, unless told. */
#define DS_USER_RESERVE_LOW	64

/*
 * ds_user_attach - use the arena of @obj (loaded, e.g. skel->obj, linked
 * with libarena-ds.bpf.o) from this process: checks the arena map (mapped
 * at ARENA_BASE), creates the allocator if no one has (its size is the
 * map's max_entries, its reserve low water @reserve_low pages, 0 for
 * DS_USER_RESERVE_LOW) and routes userspace page requests through the
 * library's SEC("syscall") programs.  One object at a time per process.
 * Returns 0, or a negative errno with one line on stderr.
 */
int ds_user_attach(struct bpf_object *obj, __u32 reserve_low);

/* Forget the attached object (before destroying it). */
void ds_user_detach(void);

/* Top the page reserve up to @target pages (sleepable programs cannot run
 * in every context: call this from a housekeeping loop).  Returns the
 * pages added or a negative errno. */
int ds_user_refill(__u32 target);

/* Give fully free pages back to the kernel (@flush: empty idle caches
 * first), after taking back allocator guard words that dead threads hold
 * (arena_reap_dead_guards).  Returns the pages returned or a negative
 * errno. */
int ds_user_reclaim(int flush);

#endif /* __LIBARENA_DS_USER_H */
