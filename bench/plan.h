/* SPDX-License-Identifier: GPL-2.0 */
/*
 * plan.h - what `make bench` measures a registered structure with, and
 * against which peers, read from its capabilities (DS_CAP_*) alone: a
 * structure added to the registry is benchmarked with no edit here.
 *
 *   KEYED, not ORDERED   keyed suite (lookup, update, delete, mixes) at
 *                        1024 and 262144 keys: BPF_MAP_TYPE_HASH in the
 *                        kernel; bpf_map_*_elem syscalls, the same code on
 *                        malloc'd memory, ck_hs and liburcu's lfht from
 *                        userspace
 *   ORDERED and POP      insert n keys then pop-min them all: bpf_rbtree
 *   POP                  push+pop pairs: FIFO against BPF_MAP_TYPE_QUEUE
 *                        and bpf_list, LIFO against BPF_MAP_TYPE_STACK,
 *                        ordered against bpf_list, anything else against
 *                        BPF_MAP_TYPE_QUEUE; from userspace (not ordered)
 *                        against malloc'd memory, ck_ring (bounded FIFO),
 *                        ck_fifo_mpmc and urcu-wfcqueue (FIFO), ck_stack
 *                        and urcu-lfstack (LIFO)
 *   SPSC or OWNER        one thread only (a second would break the contract)
 *
 * The comparisons are printed as "P <section> <ours> <peer> <label>" lines,
 * which bench/run.py turns into the table.
 */
#ifndef __BENCH_PLAN_H
#define __BENCH_PLAN_H

#include <stdio.h>
#include <string.h>
#include <libarena-ds/registry.h>

#define PLAN_MAX_PEERS	5

struct plan {
	int kind;
	const char *name;		/* the registry's name */
	int keyed;			/* keyed suite */
	int ordered;			/* insert + pop-min suite */
	int pairs;			/* push+pop pairs in the kernel */
	int user_pairs;			/* ... and from userspace */
	int threads;			/* at most this many at once */
	const char *kpeers[PLAN_MAX_PEERS];	/* kernel contenders, NULL-ended */
	const char *upeers[PLAN_MAX_PEERS];	/* userspace ones ("malloc" = ours
						 * on malloc'd memory) */
};

/* What each peer is, for the table's last column. */
static inline const char *peer_label(const char *peer)
{
	static const struct { const char *prefix, *label; } l[] = {
		{ "bpf-hash", "BPF_MAP_TYPE_HASH" },
		{ "bpf-queue", "BPF_MAP_TYPE_QUEUE" },
		{ "bpf-stack", "BPF_MAP_TYPE_STACK" },
		{ "bpf-rbtree", "bpf_rbtree kfuncs" },
		{ "bpf-list", "bpf_list kfuncs" },
		{ "user-syscall", "syscalls" },
		{ "malloc", "same code, malloc'd" },
		{ "ck_", "Concurrency Kit" },
		{ "urcu-", "liburcu" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		if (!strncmp(peer, l[i].prefix, strlen(l[i].prefix)))
			return l[i].label;
	return "peer";
}

static inline void plan_add(const char **list, const char *peer)
{
	int i;

	for (i = 0; i < PLAN_MAX_PEERS - 1 && list[i]; i++)
		;
	list[i] = peer;
}

static inline void plan_of(int kind, int max_threads, struct plan *p)
{
	const struct ds_metadata *m = ds_metadata_of(kind);
	__u32 caps = m->caps;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->name = m->name;
	p->threads = caps & (DS_CAP_SPSC | DS_CAP_OWNER) ? 1 : max_threads;
	if ((caps & DS_CAP_KEYED) && !(caps & DS_CAP_ORDERED)) {
		p->keyed = 1;
		plan_add(p->kpeers, "bpf-hash");
		plan_add(p->upeers, "user-syscall-hash");
		plan_add(p->upeers, "malloc");
		plan_add(p->upeers, "ck_hs");
		plan_add(p->upeers, "urcu-lfht");
	}
	if (!(caps & DS_CAP_POP))
		return;
	p->pairs = 1;
	if (caps & DS_CAP_ORDERED) {
		p->ordered = 1;
		plan_add(p->kpeers, "bpf-rbtree");
		plan_add(p->kpeers, "bpf-list");
		return;
	}
	p->user_pairs = 1;
	plan_add(p->upeers, "malloc");
	if (caps & DS_CAP_FIFO) {
		plan_add(p->kpeers, "bpf-queue");
		plan_add(p->kpeers, "bpf-list");
		if (caps & DS_CAP_BOUNDED) {
			plan_add(p->upeers, "ck_ring");
		} else {
			plan_add(p->upeers, "ck_fifo_mpmc");
			plan_add(p->upeers, "urcu-wfcqueue");
		}
	} else if (caps & DS_CAP_LIFO) {
		plan_add(p->kpeers, "bpf-stack");
		plan_add(p->upeers, "ck_stack");
		plan_add(p->upeers, "urcu-lfstack");
	} else {
		plan_add(p->kpeers, "bpf-queue");
	}
}

/* "P" lines: the comparisons of @p for bench/run.py. */
static inline void plan_print(const struct plan *p)
{
	int i;

	for (i = 0; p->kpeers[i]; i++)
		printf("P kernel arena-%s %s %s\n", p->name, p->kpeers[i],
		       peer_label(p->kpeers[i]));
	for (i = 0; p->upeers[i]; i++) {
		if (!strcmp(p->upeers[i], "malloc"))
			printf("P user user-arena-%s malloc-%s %s\n", p->name, p->name,
			       peer_label("malloc"));
		else
			printf("P user user-arena-%s %s %s\n", p->name, p->upeers[i],
			       peer_label(p->upeers[i]));
	}
}

#endif /* __BENCH_PLAN_H */
