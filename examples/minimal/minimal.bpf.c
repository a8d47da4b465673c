// SPDX-License-Identifier: GPL-2.0
/*
 * minimal.bpf.c - the smallest program built on libarena-ds, out of tree:
 * it keeps a hash table and a FIFO queue in the arena, fills both from the
 * kernel, and leaves them to userspace (minimal.c), which reads them
 * directly.  Linked with libarena-ds.bpf.o (and count.bpf.c, a second
 * object using the library) by `bpftool gen object`.
 */
#include <libarena-ds/ds_hash.h>
#include <libarena-ds/ds_msqueue.h>
#include "minimal.h"

/* The heads: created by setup, found by userspace through the skeleton. */
struct ds_hash_head __arena *table;
struct ds_msqueue_head __arena *queue;

/* Create both structures (sleepable: a head takes pages of its own). */
SEC("syscall")
int setup(void *ctx)
{
	if (!table)
		table = ds_hash_new();
	if (!queue)
		queue = ds_msqueue_new();
	return table && queue ? 0 : -12;
}

/* key -> key * 10 into the table, and key into the queue, in order. */
SEC("syscall")
int fill(struct fill_args *a)
{
	__u64 k, end = a->first + a->n;
	int rc;

	a->rc = 0;
	if (!table || !queue) {
		a->rc = -22;
		return 0;
	}
	for (k = a->first; k < end && can_loop; k++) {
		rc = ds_hash_insert(table, k, k * 10);
		if (!rc)
			rc = ds_msqueue_insert(queue, k, k);
		if (rc) {
			a->rc = rc;
			break;
		}
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
