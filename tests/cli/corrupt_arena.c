// SPDX-License-Identifier: GPL-2.0
/*
 * corrupt_arena - test helper for tests/cli/test_corrupt.sh: a second
 * process that maps a running driver's arena (pinned with
 * SKELETON_TEST_PIN) and corrupts its live structure, then measures how
 * long openat() takes while the driver's hooks run on the broken structure.
 *
 *   corrupt_arena PIN HEAD PAGES KIND MODE SECONDS
 *     KIND: list | hash | msqueue | stack;  MODE: cycle | wild | zero
 *   Corrupts again every 50 ms for the first half of SECONDS (workers may
 *   unlink the bad node), times openat() of /etc/hostname throughout, and
 *   prints "corrupted N times; openat: CALLS calls, max MS ms".
 * Exit 0, or 2 on bad arguments / when the arena cannot be mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "pinned_arena.h"
#include <libarena-ds/ds_list.h>
#include <libarena-ds/ds_hash.h>
#include <libarena-ds/ds_msqueue.h>
#include <libarena-ds/ds_stack.h>


static __u64 base_end;

/* A node address we may follow: inside the mapped arena, 8-byte aligned. */
static int node_ok(__u64 p)
{
	return p >= ARENA_BASE + ARENA_PAGE_SIZE && p + 32 <= base_end && !(p & 7);
}

/* A page in the arena no object is likely to live in (the top page). */
static __u64 wild_target(void)
{
	return base_end - ARENA_PAGE_SIZE + 64;
}

static int corrupt_chain(__u64 *first, const char *mode, unsigned int depth)
{
	__u64 cur = *first & ~1ULL, next;
	unsigned int i;

	if (!node_ok(cur))
		return 0;
	/* The node @depth along (or the last one before the end). */
	for (i = 0; i < depth; i++) {
		next = ((struct ds_list_node *)cur)->next & ~1ULL;
		if (!node_ok(next))
			break;
		cur = next;
	}
	if (!strcmp(mode, "cycle"))
		((struct ds_list_node *)cur)->next = *first & ~1ULL;	/* back to the start */
	else if (!strcmp(mode, "wild"))
		((struct ds_list_node *)cur)->next = wild_target();
	else
		memset((void *)(cur & ~(__u64)(ARENA_PAGE_SIZE - 1)), 0, ARENA_PAGE_SIZE);
	return 1;
}

static int corrupt(void *head, const char *kind, const char *mode)
{
	int n = 0;
	__u32 b;

	if (!strcmp(kind, "list"))
		return corrupt_chain(&((struct ds_list_head *)head)->first, mode, 20);
	/* Queue and stack nodes link at the list's offset. */
	if (!strcmp(kind, "msqueue"))
		return corrupt_chain(&((struct ds_msqueue_head *)head)->head, mode, 20);
	if (!strcmp(kind, "stack"))
		return corrupt_chain(&((struct ds_stack_head *)head)->top, mode, 20);
	/*
	 * hash: one split-ordered list; the element right after each of the
	 * first buckets' dummies gets it (zero: one page is enough).  A link
	 * tagged DS_HASH_DUMMY leads to the next dummy: an empty bucket.
	 */
	for (b = 0; b < DS_HASH_SEG; b++) {
		__u64 *first = &((struct ds_hash_head *)head)->seg0[b].next;

		if ((*first & DS_HASH_TAGS) || !node_ok(*first))
			continue;
		n += corrupt_chain(first, mode, 0);
		if (!strcmp(mode, "zero"))
			break;
	}
	return n;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	double t0, t, d, max = 0, secs, last = -1e9;
	unsigned long long calls = 0;
	int fd, f, times = 0;
	__u64 pages;
	void *head;

	if (argc != 7) {
		fprintf(stderr, "usage: corrupt_arena PIN HEAD PAGES list|hash|msqueue|stack cycle|wild|zero SECONDS\n");
		return 2;
	}
	head = (void *)strtoull(argv[2], NULL, 0);
	pages = strtoull(argv[3], NULL, 0);
	secs = atof(argv[6]);
	fd = pinned_arena_open("corrupt_arena", argv[1]);
	if (fd < 0 || pinned_arena_map("corrupt_arena", fd, pages))
		return 2;
	base_end = ARENA_BASE + pages * ARENA_PAGE_SIZE;
	t0 = now_ms();
	while ((t = now_ms()) - t0 < secs * 1e3) {
		if (t - t0 < secs * 500 && t - last >= 50) {
			times += corrupt(head, argv[4], argv[5]) > 0;
			last = t;
		}
		t = now_ms();
		f = open("/etc/hostname", O_RDONLY);
		d = now_ms() - t;
		if (f >= 0)
			close(f);
		calls++;
		if (d > max)
			max = d;
		usleep(500);
	}
	printf("corrupted %d times; openat: %llu calls, max %.3f ms\n", times, calls, max);
	return 0;
}
