// SPDX-License-Identifier: GPL-2.0
/*
 * lib/user.c - attach the library to a loaded BPF object's arena
 * (<libarena-ds/user.h>).  Userspace only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <libarena-ds/user.h>
#include "alloc.h"
#include "progs.h"

static struct {
	int init_fd, pages_fd, refill_fd, reclaim_fd;
	__u32 reserve_low;
	bool attached;
} lu = { -1, -1, -1, -1, 0, false };

static int run_prog(int fd, struct libarena_args *a)
{
	/* A syscall program's context is copied back into ctx_in. */
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = a, .ctx_size_in = sizeof(*a));

	if (fd < 0)
		return -ENOENT;
	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	return 0;
}

/* arena_pages_hook: fresh pages from the kernel; when the arena has none,
 * give free pages back once and try again. */
static void *user_pages(__u32 npages)
{
	struct libarena_args a = { .arg0 = npages };

	if (run_prog(lu.pages_fd, &a))
		return NULL;
	if (!a.ret && ds_user_reclaim(0) > 0) {
		a.arg0 = npages;
		if (run_prog(lu.pages_fd, &a))
			return NULL;
	}
	return (void *)a.ret;
}

static int prog_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	return p ? bpf_program__fd(p) : -1;
}

int ds_user_attach(struct bpf_object *obj, __u32 reserve_low)
{
	struct libarena_args a = {};
	struct bpf_map *m;
	int err;

	m = obj ? bpf_object__find_map_by_name(obj, "arena") : NULL;
	if (!m || bpf_map__type(m) != BPF_MAP_TYPE_ARENA) {
		fprintf(stderr, "libarena-ds: the object has no arena map named 'arena'\n");
		return -EINVAL;
	}
	if (bpf_map__map_extra(m) != ARENA_BASE) {
		fprintf(stderr, "libarena-ds: the arena must be mapped at 0x%llx (map_extra), not 0x%llx\n",
			(unsigned long long)ARENA_BASE, (unsigned long long)bpf_map__map_extra(m));
		return -EINVAL;
	}
	lu.init_fd = prog_fd(obj, "libarena_init");
	lu.pages_fd = prog_fd(obj, "libarena_pages");
	lu.refill_fd = prog_fd(obj, "libarena_refill");
	lu.reclaim_fd = prog_fd(obj, "libarena_reclaim");
	if (lu.init_fd < 0 || lu.pages_fd < 0 || lu.refill_fd < 0 || lu.reclaim_fd < 0) {
		fprintf(stderr, "libarena-ds: the object is not linked with libarena-ds.bpf.o "
			"(or is not loaded): libarena_* programs missing\n");
		return -ENOENT;
	}
	lu.reserve_low = reserve_low ? reserve_low : DS_USER_RESERVE_LOW;
	a.arg0 = bpf_map__max_entries(m);
	a.arg1 = lu.reserve_low;
	err = run_prog(lu.init_fd, &a);
	if (!err)
		err = a.rc;
	if (err || !a.ret) {
		fprintf(stderr, "libarena-ds: creating the allocator failed: %s\n",
			strerror(err ? -err : ENOMEM));
		return err ? err : -ENOMEM;
	}
	arena_alloc_st = (struct arena_alloc_state *)a.ret;
	arena_pages_hook = user_pages;
	lu.attached = true;
	return 0;
}

void ds_user_detach(void)
{
	if (!lu.attached)
		return;
	arena_pages_hook = NULL;
	arena_alloc_st = NULL;
	lu.init_fd = lu.pages_fd = lu.refill_fd = lu.reclaim_fd = -1;
	lu.attached = false;
}

int ds_user_refill(__u32 target)
{
	struct libarena_args a = { .arg0 = target };
	int err = run_prog(lu.refill_fd, &a);

	return err ? err : (int)a.rc;
}

int ds_user_reclaim(int flush)
{
	struct libarena_args a = { .arg0 = flush };
	int err;

	/* The BPF reclaimer cannot ask whether a thread still exists: take
	 * back the guard words of dead ones here, or their quarantined pages
	 * would wait for ever. */
	arena_reap_dead_guards();
	err = run_prog(lu.reclaim_fd, &a);

	return err ? err : (int)a.rc;
}
