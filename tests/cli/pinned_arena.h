/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pinned_arena.h - for the test helpers that work on a running driver's
 * arena (pinned with SKELETON_TEST_PIN): open the pin and map the arena at
 * the address the driver's pointers use.
 */
#ifndef __PINNED_ARENA_H
#define __PINNED_ARENA_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <libarena-ds/common.h>

/* The arena map pinned at @pin: its fd, or -1 after one line naming @tool. */
static inline int pinned_arena_open(const char *tool, const char *pin)
{
	int fd = bpf_obj_get(pin);

	if (fd < 0)
		fprintf(stderr, "%s: %s: %s\n", tool, pin, strerror(errno));
	return fd;
}

/* Map @pages of arena @fd at ARENA_BASE (each process maps it itself: a
 * fork()ed child does not inherit the mapping).  0, or -1 after one line. */
static inline int pinned_arena_map(const char *tool, int fd, __u64 pages)
{
	void *m = mmap((void *)ARENA_BASE, pages * ARENA_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, fd, 0);

	if (m == MAP_FAILED) {
		fprintf(stderr, "%s: mmap: %s\n", tool, strerror(errno));
		return -1;
	}
	return 0;
}

#endif /* __PINNED_ARENA_H */
