// SPDX-License-Identifier: GPL-2.0
/*
 * topcount.bpf.c - count events per process in the kernel, two ways:
 *   - arena hashes (libarena-ds): tgid -> address of a struct tc_rec in
 *     the arena, which userspace reads by walking the tables directly;
 *   - a BPF_MAP_TYPE_HASH: tgid -> struct tc_rec, read by userspace with
 *     bpf_map_lookup_batch().
 * Tracepoints on openat and execve entry; userspace attaches the pair it
 * wants.  Linked with libarena-ds.bpf.o by `bpftool gen object`.
 */
#include <libarena-ds/ds_hash.h>
#include "topcount.h"

/* The arena tables, made by tc_setup; found by userspace via the skeleton. */
struct ds_hash_head __arena *shards[TC_MAX_SHARDS];
__u32 nshards;		/* set by userspace before tc_setup */

/* Events that could not be counted (a full arena or map), per version. */
__u64 missed_arena;
__u64 missed_map;

/*
 * Set by the bench only: count each event on a random one of the keys the
 * fill made (a process among bench_keys), not on the caller's tgid, whose
 * key sorts before every filled key in its bucket.  0 in normal use.
 */
__u64 bench_keys;

/* The map version.  Userspace sizes it before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct tc_rec);
} counts SEC(".maps");

/* Create the tables (sleepable: a head takes pages of its own). */
SEC("syscall")
int tc_setup(void *ctx)
{
	__u32 i, s;

	for (i = ARENA_ZERO; i < nshards && i < TC_MAX_SHARDS && can_loop; i++) {
		/* An index the verifier sees bounded (the asm keeps clang from
		 * turning it back into a pointer walked past the array). */
		s = i;
		asm volatile("" : "+r"(s));
		s &= TC_MAX_SHARDS - 1;
		if (!shards[s])
			shards[s] = ds_hash_new();
		if (!shards[s])
			return -12;
	}
	return 0;
}

/* The table that holds @key, or NULL before tc_setup. */
static __always_inline struct ds_hash_head __arena *tc_table(__u64 key)
{
	return shards[tc_shard_of(key, nshards)];
}

/* A record for a key seen for the first time. */
static __always_inline struct tc_rec __arena *tc_rec_new(__u64 count, const char *comm)
{
	struct tc_rec __arena *r = arena_malloc(sizeof(*r));

	if (!r)
		return NULL;
	r->count = count;
	/* comm is on the BPF stack: copy it word by word into the arena */
	*(__u64 __arena *)&r->comm[0] = *(const __u64 *)&comm[0];
	*(__u64 __arena *)&r->comm[8] = *(const __u64 *)&comm[8];
	return r;
}

/*
 * One event of process @key in the arena table.  A known key costs one
 * search and one atomic add on its record; a new one inserts a record.
 * Two CPUs may race to insert the same key: the loser frees its record
 * and counts on the winner's.  Records are never freed while the table
 * lives, so userspace may read them at any time.
 */
static __noinline int tc_count_arena(__u64 key)
{
	struct ds_hash_head __arena *table = tc_table(key);
	struct tc_rec __arena *r;
	struct tc_rec tmp = {};		/* its comm, 8-byte aligned on the stack */
	__u64 v = 0;
	int rc;

	if (!table)
		return 0;
	if (ds_hash_search(table, key, &v) == DS_SUCCESS)
		goto add;
	bpf_get_current_comm(tmp.comm, sizeof(tmp.comm));
	r = tc_rec_new(1, tmp.comm);
	if (!r)
		goto miss;
	rc = ds_hash_insert(table, key, (__u64)r);
	if (rc == DS_SUCCESS)
		return 0;
	arena_free(r);
	if (rc != DS_ERROR_EXISTS || ds_hash_search(table, key, &v) != DS_SUCCESS)
		goto miss;
add:
	r = (struct tc_rec __arena *)v;
	arena_atomic_add(&r->count, 1);
	return 0;
miss:
	__sync_fetch_and_add(&missed_arena, 1);
	return 0;
}

/* The same event in the BPF hash map. */
static __noinline int tc_count_map(__u64 key)
{
	struct tc_rec *r, fresh = { .count = 1 };
	int rc;

	r = bpf_map_lookup_elem(&counts, &key);
	if (r)
		goto add;
	bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
	rc = bpf_map_update_elem(&counts, &key, &fresh, BPF_NOEXIST);
	if (!rc)
		return 0;
	r = bpf_map_lookup_elem(&counts, &key);
	if (rc != -17 || !r)
		goto miss;
add:
	__sync_fetch_and_add(&r->count, 1);
	return 0;
miss:
	__sync_fetch_and_add(&missed_map, 1);
	return 0;
}

/* The key of this event: the process (the bench: a random filled key). */
static __always_inline __u64 tc_key(void)
{
	__u64 n = bench_keys;

	if (n)
		return TC_FILL_BASE + bpf_get_prandom_u32() % n;
	return bpf_get_current_pid_tgid() >> 32;
}

SEC("tp/syscalls/sys_enter_openat")
int tc_openat_arena(void *ctx)
{
	return tc_count_arena(tc_key());
}

SEC("tp/syscalls/sys_enter_openat")
int tc_openat_map(void *ctx)
{
	return tc_count_map(tc_key());
}

SEC("tp/syscalls/sys_enter_execve")
int tc_execve_arena(void *ctx)
{
	return tc_count_arena(tc_key());
}

SEC("tp/syscalls/sys_enter_execve")
int tc_execve_map(void *ctx)
{
	return tc_count_map(tc_key());
}

/*
 * The bench's table filler: n keys above every tgid, each with a record
 * (count = its index, comm "fill"), in the arena table or the map.  It
 * tops the allocator's page reserve up first: a program takes pages from
 * the kernel only through arena_refill().
 */
SEC("syscall")
int tc_fill(struct tc_fill_args *a)
{
	struct tc_rec fresh = { .comm = "fill" };
	struct tc_rec __arena *r;
	__u64 k, key, end = a->first + a->n;
	int rc = 0;

	/* two 32-byte objects a key (node and record), plus slack */
	if (!a->map)
		arena_refill(a->n / 50 + 64);
	for (k = a->first; k < end && can_loop; k++) {
		key = TC_FILL_BASE + k;
		fresh.count = k;
		if (a->map) {
			rc = bpf_map_update_elem(&counts, &key, &fresh, BPF_NOEXIST);
		} else if (!tc_table(key)) {
			rc = DS_ERROR_INVALID;
		} else {
			r = tc_rec_new(k, fresh.comm);
			rc = r ? ds_hash_insert(tc_table(key), key, (__u64)r) : DS_ERROR_NOMEM;
			if (rc && r)
				arena_free(r);
		}
		if (rc)
			break;
	}
	a->rc = rc;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
