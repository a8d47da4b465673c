// SPDX-License-Identifier: GPL-2.0
/*
 * bench.bpf.c - kernel side of `make bench`: one SEC("syscall") loop per
 * contender, all drawing the same key stream (bench.h), timed inside the
 * kernel with bpf_ktime_get_ns() around the loop.
 *
 *   arena_run   the arena structure selected by ds_kind (hash, msqueue,
 *               mpmc, stack), every operation through bench_dispatch()
 *   hmap_run    BPF_MAP_TYPE_HASH  (key u64 -> value u64, preallocated)
 *   bq_run      BPF_MAP_TYPE_QUEUE (push+pop pairs)
 *   bs_run      BPF_MAP_TYPE_STACK (push+pop pairs)
 *   prof_run    the pieces of an arena hash lookup, one at a time
 *   ds_init     allocator and structure set-up
 * This object is linked with libarena-ds.bpf.o; prof_run also reaches
 * into the library's internals (lib/), to time the pieces of a lookup.
 */
#include <libarena-ds/registry.h>
#include "ds_internal.h"
#include "ds_hash_walk.h"
#include "bench.h"

const volatile int ds_kind = 0;

void __arena *ds_head;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);	/* set to the key range before load */
	__type(key, __u64);
	__type(value, __u64);
} hmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4096);
	__type(value, __u64);
} bq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 4096);
	__type(value, __u64);
} bs SEC(".maps");

#define BENCH_RESERVE 64
#define BENCH_OP_UPDATE 100	/* private op: ds_hash_update() */

/* Inline: with ds_kind fixed at load, one direct call of the structure's
 * function remains (the driver's skel_dispatch does the same). */
static __always_inline int bench_dispatch(void __arena *head, struct ds_req *r)
{
	if (!head || !r)
		return DS_ERROR_INVALID;
	if (r->op == BENCH_OP_UPDATE) {
		if (ds_kind == DS_KIND_hash)
			return ds_hash_update(head, r->key, r->value);
		return DS_ERROR_INVALID;
	}
	return ds_dispatch(ds_kind, head, r);
}

/* The arena hash resizes only where pages may be taken (sleepable, here):
 * to its creation capacity at init, and after each run to its load. */
__noinline int bench_hash_step(void __arena *head __arg_arena)
{
	arena_bind();
	if (!head || ds_kind != DS_KIND_hash)
		return DS_SUCCESS;
	return ds_hash_maintain(head);
}

static __always_inline void bench_hash_maintain(void __arena *head)
{
	int i;

	if (ds_kind != DS_KIND_hash)
		return;
	for (i = 0; i < 64 && can_loop; i++)
		if (bench_hash_step(head) != DS_ERROR_BUSY)
			break;
}

SEC("syscall")
int ds_init(struct bench_init_args *a)
{
	void __arena *head;

	if (arena_init(a->max_pages, 16)) {
		a->rc = DS_ERROR_NOMEM;
		return 0;
	}
	/* Pages first: some inits take objects (a dummy node). */
	arena_refill(BENCH_RESERVE);
	if (!ds_head) {
		head = ds_create(ds_kind);
		if (!head) {
			a->rc = DS_ERROR_NOMEM;
			return 0;
		}
		ds_head = head;
		bench_hash_maintain(head);
	}
	arena_refill(BENCH_RESERVE);
	a->rc = DS_SUCCESS;
	return 0;
}

/*
 * One operation; out of objects (sleepable: the reserve can be topped up
 * here), refill the page reserve and run the same operation once more.
 */
static __always_inline int bench_run_op(void __arena *head, struct ds_req *r)
{
	int rc = bench_dispatch(head, r);

	if (rc == DS_ERROR_NOMEM && arena_refill(BENCH_RESERVE) > 0)
		rc = bench_dispatch(head, r);
	return rc;
}

SEC("syscall")
int arena_run(struct bench_args *a)
{
	void __arena *head = ds_head;
	struct ds_req r = {};
	__u64 n = a->n, s = a->seed, i, ok = 0, key, t0, t1;
	__u32 op;
	int rc;

	if (!head)
		return -1;
	arena_refill(BENCH_RESERVE);
	t0 = bpf_ktime_get_ns();
	for (i = ARENA_ZERO; i < n && can_loop; i++) {
		if (a->op == BENCH_PAIR) {
			r.op = DS_OP_INSERT;
			r.key = a->first + i;	/* per thread (bench.c run_set) */
			r.value = i;
			rc = bench_run_op(head, &r);
			r.op = DS_OP_POP;
			if (rc == DS_SUCCESS && bench_dispatch(head, &r) == DS_SUCCESS)
				ok++;
			continue;
		}
		if (a->op == BENCH_PQ) {
			/* n inserts of distinct keys, then n pop-min */
			if (i < n / 2) {
				r.op = DS_OP_INSERT;
				r.key = a->first + bench_perm(i, a->range);
				r.value = r.key * 2 + 1;
			} else {
				r.op = DS_OP_POP;
			}
			rc = bench_run_op(head, &r);
			if (rc == DS_SUCCESS)
				ok++;
			continue;
		}
		bench_pick(a, &s, i, &op, &key);
		r.key = key;
		r.value = key * 2 + 1;
		r.op = op == BENCH_LOOKUP ? DS_OP_SEARCH :
		       op == BENCH_UPDATE ? BENCH_OP_UPDATE :
		       op == BENCH_DELETE ? DS_OP_DELETE : DS_OP_INSERT;
		rc = bench_run_op(head, &r);
		if (rc == DS_SUCCESS)
			ok++;
	}
	t1 = bpf_ktime_get_ns();
	a->ns = t1 - t0;
	a->done = i;
	a->ok = ok;
	a->seed = s;
	bench_hash_maintain(head);	/* untimed */
	return 0;
}

/* The bucket walk of ds_hash_search() alone (profiling copy: no EBR, no
 * statistics; safe here only because nothing is freed during prof_run). */
static __always_inline int prof_walk(struct ds_hash_head __arena *h, __u64 key, __u64 *value)
{
	struct ds_hash_node __arena *found;

	return ds_hash_lookup(h, ds_hash_mix(key), value, &found);
}

/* ds_count() with plain adds: what counting would cost without locked
 * RMWs (a BPF program's slot is its CPU). */
static __always_inline void prof_count_plain(struct ds_hash_head __arena *h, int rc)
{
	struct ds_slot_counters __arena *c = &h->stats.slot[arena_slot()];

	c->calls[DS_OP_SEARCH] += 1;
	if (rc == DS_SUCCESS)
		c->ok[DS_OP_SEARCH] += 1;
}

/* Lookups of random keys on the filled arena hash, a->variant selecting
 * which pieces run (enum bench_prof).  ok counts found keys (or, for the
 * variants that do not look, successful enters). */
SEC("syscall")
int prof_run(struct bench_args *a)
{
	struct ds_hash_head __arena *h = ds_head;
	struct ds_req r = {};
	__u64 n = a->n, s = a->seed, i, ok = 0, key, v = 0, t0, t1;
	__u32 var = a->variant, op;
	int idx, rc, bidx = -1;

	if (!h || ds_kind != DS_KIND_hash)
		return -1;
	t0 = bpf_ktime_get_ns();
	if (var == PROF_BATCH) {
		bidx = arena_ebr_enter(&h->ebr);
		if (bidx < 0)
			return -1;
	}
	for (i = ARENA_ZERO; i < n && can_loop; i++) {
		bench_pick(a, &s, i, &op, &key);
		switch (var) {
		case PROF_LOOP:
			v += key;
			rc = DS_SUCCESS;
			break;
		case PROF_EBR:
			idx = arena_ebr_enter(&h->ebr);
			arena_ebr_exit(&h->ebr, idx);
			rc = idx < 0 ? DS_ERROR_BUSY : DS_SUCCESS;
			break;
		case PROF_COUNT:
			rc = DS_SUCCESS;
			ds_count(&h->stats, DS_OP_SEARCH, rc);
			break;
		case PROF_WALK:
			rc = prof_walk(h, key, &v);
			break;
		case PROF_WALK_EBR:
			idx = arena_ebr_enter(&h->ebr);
			rc = idx < 0 ? DS_ERROR_BUSY : prof_walk(h, key, &v);
			arena_ebr_exit(&h->ebr, idx);
			break;
		case PROF_INLINE:
			rc = ds_hash_search(h, key, &v);
			break;
		case PROF_PLAIN:
			idx = arena_ebr_enter(&h->ebr);
			rc = idx < 0 ? DS_ERROR_BUSY : prof_walk(h, key, &v);
			arena_ebr_exit(&h->ebr, idx);
			prof_count_plain(h, rc);
			break;
		case PROF_BATCH:
			rc = prof_walk(h, key, &v);
			prof_count_plain(h, rc);
			break;
		default:
			r.op = DS_OP_SEARCH;
			r.key = key;
			rc = bench_dispatch(h, &r);
		}
		if (rc == DS_SUCCESS)
			ok++;
	}
	arena_ebr_exit(&h->ebr, bidx);
	t1 = bpf_ktime_get_ns();
	a->ns = t1 - t0;
	a->done = i;
	a->ok = ok;
	a->seed = s;
	a->pad = (__u32)v;	/* keeps the value reads */
	return 0;
}

SEC("syscall")
int hmap_run(struct bench_args *a)
{
	__u64 n = a->n, s = a->seed, i, ok = 0, key, val, t0, t1, *v;
	__u32 op;

	t0 = bpf_ktime_get_ns();
	for (i = ARENA_ZERO; i < n && can_loop; i++) {
		bench_pick(a, &s, i, &op, &key);
		val = key * 2 + 1;
		switch (op) {
		case BENCH_LOOKUP:
			v = bpf_map_lookup_elem(&hmap, &key);
			if (v) {
				val = *v;
				ok++;
			}
			break;
		case BENCH_UPDATE:
			/* The arena update changes an existing key's value. */
			if (!bpf_map_update_elem(&hmap, &key, &val, BPF_EXIST))
				ok++;
			break;
		case BENCH_DELETE:
			if (!bpf_map_delete_elem(&hmap, &key))
				ok++;
			break;
		default:	/* insert: the arena insert never replaces */
			if (!bpf_map_update_elem(&hmap, &key, &val, BPF_NOEXIST))
				ok++;
		}
	}
	t1 = bpf_ktime_get_ns();
	a->ns = t1 - t0;
	a->done = i;
	a->ok = ok;
	a->seed = s;
	return 0;
}

static __always_inline int pair_run(struct bench_args *a, void *map)
{
	__u64 n = a->n, i, ok = 0, val, t0, t1;

	t0 = bpf_ktime_get_ns();
	for (i = ARENA_ZERO; i < n && can_loop; i++) {
		val = i;
		if (bpf_map_push_elem(map, &val, 0))
			continue;
		if (!bpf_map_pop_elem(map, &val))
			ok++;
	}
	t1 = bpf_ktime_get_ns();
	a->ns = t1 - t0;
	a->done = i;
	a->ok = ok;
	return 0;
}

SEC("syscall")
int bq_run(struct bench_args *a)
{
	return pair_run(a, &bq);
}

SEC("syscall")
int bs_run(struct bench_args *a)
{
	return pair_run(a, &bs);
}

char LICENSE[] SEC("license") = "GPL";
