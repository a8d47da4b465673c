// SPDX-License-Identifier: GPL-2.0
/*
 * hold_lock - test helper for tests/cli/test_dead_holder.sh: a second
 * process that maps a running driver's arena (pinned with
 * SKELETON_TEST_PIN), takes the lock of its structure (tree, btree or pq)
 * the way the library does, says "holding", and waits to be killed.
 *
 *   hold_lock PIN HEAD PAGES KIND
 * Exit 2 on bad arguments, when the arena cannot be mapped or the lock
 * cannot be taken within 10 s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "pinned_arena.h"
#include <libarena-ds/registry.h>
#include "lock.h"

int main(int argc, char **argv)
{
	struct arena_spinlock *l;
	void *head;
	__u64 pages;
	int fd, i;

	if (argc != 5) {
		fprintf(stderr, "usage: hold_lock PIN HEAD PAGES tree|btree|pq\n");
		return 2;
	}
	head = (void *)strtoull(argv[2], NULL, 0);
	pages = strtoull(argv[3], NULL, 0);
	if (!strcmp(argv[4], "tree")) {
		l = (void *)&((struct ds_tree_head *)head)->lock;
	} else if (!strcmp(argv[4], "btree")) {
		l = (void *)&((struct ds_btree_head *)head)->lock;
	} else if (!strcmp(argv[4], "pq")) {
		l = (void *)&((struct ds_pq_head *)head)->lock;
	} else {
		fprintf(stderr, "hold_lock: %s has no lock\n", argv[4]);
		return 2;
	}
	fd = pinned_arena_open("hold_lock", argv[1]);
	if (fd < 0 || pinned_arena_map("hold_lock", fd, pages))
		return 2;
	for (i = 0; i < 1000 && arena_spin_lock(l); i++)
		usleep(10000);
	if (i == 1000) {
		fprintf(stderr, "hold_lock: the lock stayed busy\n");
		return 2;
	}
	printf("holding\n");
	fflush(stdout);
	for (;;)
		pause();	/* killed holding it */
}
