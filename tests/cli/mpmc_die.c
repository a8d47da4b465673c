// SPDX-License-Identifier: GPL-2.0
/*
 * mpmc_die - test helper for tests/cli/test_mpmc_dead.sh: a second process
 * that maps a running driver's arena (pinned with SKELETON_TEST_PIN) and
 * forks a child that claims a position of the live ds_mpmc ring, then is
 * killed (SIGKILL) before it publishes (tail) or frees (head) the slot.
 *
 *   mpmc_die PIN HEAD PAGES tail|head SECONDS
 *   Prints "claimed P" once the child died holding position P, then, after
 *   SECONDS, "head H tail T abandoned A lost L" read from the live ring.
 * Exit 0, 1 if the child could not claim within a second, 2 on bad
 * arguments / when the arena cannot be mapped.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "pinned_arena.h"
#include <libarena-ds/ds_mpmc.h>

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)

/* Claim a position the way the ring's code does, then die. */
static void claim_and_die(struct ds_mpmc_head *h, int at_tail, int fd)
{
	__u64 pos, want, *ix = at_tail ? &h->tail : &h->head;
	time_t t0 = time(NULL);

	while (time(NULL) - t0 < 2) {
		pos = LOAD(ix);
		want = at_tail ? pos : pos + 1;
		if (LOAD(&h->slots[pos & DS_MPMC_MASK].seq) == want &&
		    __atomic_compare_exchange_n(ix, &pos, pos + 1, 0, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			if (write(fd, &pos, sizeof(pos)) != sizeof(pos))
				_exit(1);
			raise(SIGKILL);	/* dies holding position pos */
		}
	}
	_exit(1);
}

int main(int argc, char **argv)
{
	struct ds_mpmc_head *h;
	int fd, p[2], st;
	__u64 pages, pos;
	pid_t pid;

	if (argc != 6 || (strcmp(argv[4], "tail") && strcmp(argv[4], "head"))) {
		fprintf(stderr, "usage: mpmc_die PIN HEAD PAGES tail|head SECONDS\n");
		return 2;
	}
	h = (void *)strtoull(argv[2], NULL, 0);
	pages = strtoull(argv[3], NULL, 0);
	fd = pinned_arena_open("mpmc_die", argv[1]);
	if (fd < 0)
		return 2;
	if (pipe(p))
		return 2;
	/* Each process maps the arena itself: the mapping is not inherited. */
	pid = fork();
	if (pid < 0)
		return 2;
	if (pinned_arena_map("mpmc_die", fd, pages)) {
		if (!pid)
			_exit(2);
		return 2;
	}
	if (!pid)
		claim_and_die(h, !strcmp(argv[4], "tail"), p[1]);
	close(p[1]);
	if (waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st) ||
	    read(p[0], &pos, sizeof(pos)) != sizeof(pos)) {
		printf("no claim\n");
		return 1;
	}
	printf("claimed %llu\n", (unsigned long long)pos);
	fflush(stdout);
	usleep(atof(argv[5]) * 1e6);
	printf("head %llu tail %llu abandoned %llu lost %lld\n",
	       (unsigned long long)LOAD(&h->head), (unsigned long long)LOAD(&h->tail),
	       (unsigned long long)LOAD(&h->abandoned), (long long)LOAD(&h->lost));
	return 0;
}
