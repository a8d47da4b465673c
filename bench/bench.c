// SPDX-License-Identifier: GPL-2.0
/*
 * bench.c - the measuring half of `make bench` (issue 7).
 *
 *   bench kern    kernel side (SEC("syscall") loops: arena structures vs
 *                 BPF hash/queue/stack maps) and userspace on the kernel
 *                 arena (direct access vs bpf_map_*_elem system calls)
 *   bench sa      the same ds_* code on a standalone arena (anonymous
 *                 memory at the same address: the "malloc'd memory" case)
 *   bench peers   Concurrency Kit and liburcu on the same key stream
 *   bench prof    the pieces of a kernel-side arena hash lookup, timed
 *                 one at a time (where the time goes)
 *   bench scale   lookups of each keyed structure at 1k, 64k and 1M keys,
 *                 next to BPF_MAP_TYPE_HASH (how cost grows with size)
 *   bench plan    what each registered structure is measured with and
 *                 against (plan.h), measuring nothing
 *
 * Every figure: one warm-up run, then three runs; the median is printed
 * as "R <section> <workload> <keys> <threads> <contender> <ops/s> <r1> <r2> <r3>".
 * A run lasts 250 ms of busy time per thread; each thread's rate is its
 * operations (push+pop: pairs whose pop got an element) over its own busy
 * time, and the figure is the sum over threads.  The last two fields are
 * the share of operations that succeeded and the share of wall time the
 * thread(s) had a CPU (last run; mean over threads).
 * BENCH_QUICK=1 in the environment shortens the runs; BENCH_ONLY=<name>
 * measures that structure alone (kern, sa, plan).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include <ck_hs.h>
#include <ck_ring.h>
#include <ck_fifo.h>
#include <ck_stack.h>
#include <ck_spinlock.h>
#include <urcu.h>
#include <urcu/rculfhash.h>
#include <urcu/wfcqueue.h>
#include <urcu/lfstack.h>

#include <libarena-ds/registry.h>
#include <libarena-ds/user.h>
#include "bench.h"
#include "bench_user.h"
#include "plan.h"
#include "bench.skel.h"
#include "graph.skel.h"


#define SMALL_KEYS	1024U		/* 32 KiB of nodes: fits L1/L2 */
#define LARGE_KEYS	262144U		/* 8-16 MiB: far beyond L2 (2 MiB) */
#define PQ_LARGE_KEYS	32768U		/* per thread: 2 threads fill ds_pq's 65536 */
#define BATCH		4096U
#define MAX_THREADS	2
#define MIX_READ	90
#define MIX_HALF	50
#define MIX_WRITE	0

static double run_sec = 0.25;
static int nthreads_max = MAX_THREADS;
static int fig_no;
static int only_kind = -1;	/* BENCH_ONLY=<name>: that structure alone */

/* ------------------------------------------------------------ contenders */

/*
 * A contender runs batches: batch() does a->n operations of a->op starting
 * from a->seed and fills ns/done/ok.  Kernel contenders time inside the
 * kernel; userspace ones time around their loop.
 */
struct cont {
	const char *name;
	void (*batch)(struct cont *c, int tid, struct bench_args *a);
	/* userspace keyed contenders: one operation */
	int (*op)(struct cont *c, __u32 op, __u64 key);
	/* userspace pair contenders: one push+pop pair, 1 when popped */
	int (*pair)(struct cont *c, int tid, __u64 i);
	void (*thread_init)(struct cont *c, int tid);
	void (*thread_fini)(struct cont *c, int tid);
	struct bpf_program *prog;
	int fd;
	void *priv;
	struct arena_ebr *ebr;	/* arena structures: pinned per PIN_EVERY ops */
};

/* Operations per pinned section of a userspace arena contender
 * (arena_ebr_pin(): the EBR enter/exit of each operation inside is two
 * plain writes of the thread's own record); BENCH_PIN=<n> sets it, 0 for
 * one section per operation. */
static __u32 pin_every = 64;

static __u64 now_ns(void)
{
	return arena_now_ns();
}

static void user_batch(struct cont *c, int tid, struct bench_args *a)
{
	struct arena_ebr_batch pin = { .ebr = c->ebr, .every = pin_every };
	__u64 s = a->seed, i, ok = 0, key, t0;
	__u32 op;

	t0 = now_ns();
	if (a->op == BENCH_PAIR) {
		for (i = 0; i < a->n; i++) {
			arena_ebr_batch_op(&pin);
			ok += c->pair(c, tid, i);
			arena_ebr_batch_done(&pin);
		}
	} else {
		for (i = 0; i < a->n; i++) {
			arena_ebr_batch_op(&pin);
			bench_pick(a, &s, i, &op, &key);
			ok += c->op(c, op, key) == 0;
			arena_ebr_batch_done(&pin);
		}
	}
	arena_ebr_batch_end(&pin);
	a->ns = now_ns() - t0;
	a->done = a->n;
	a->ok = ok;
	a->seed = s;
}

static void kern_batch(struct cont *c, int tid, struct bench_args *a)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = a, .ctx_size_in = sizeof(*a));

	(void)tid;
	if (bpf_prog_test_run_opts(bpf_program__fd(c->prog), &opts) || opts.retval) {
		fprintf(stderr, "\nbench: %s: test run failed: %s\n", c->name, strerror(errno));
		exit(1);
	}
}

/* Untimed single-thread fill/delete of perm(first .. first+n-1). */
static void seq_run(struct cont *c, __u32 op, __u32 range, __u32 first, __u32 n)
{
	struct bench_args a = { .op = op, .range = range, .first = first };
	__u32 done = 0;

	while (done < n) {
		a.n = n - done < BATCH ? n - done : BATCH;
		a.first = first + done;
		c->batch(c, 0, &a);
		if (!a.done) {
			fprintf(stderr, "\nbench: %s made no progress\n", c->name);
			exit(1);
		}
		done += a.done;
	}
}

/* ---------------------------------------------------------- measurement */

struct thr {
	pthread_t th;
	struct cont *c;
	int tid;
	struct bench_args proto;
	double rate;
	double oncpu;		/* thread CPU time / wall time of its run */
	__u64 ops, ok;
};

static __u64 thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	struct bench_args a = t->proto;
	__u64 ns = 0, ops = 0, ok = 0, limit = (__u64)(run_sec * 1e9);

	__u64 w0, c0;

	pin(t->tid);
	if (t->c->thread_init)
		t->c->thread_init(t->c, t->tid);
	w0 = now_ns();
	c0 = thread_cpu_ns();
	while (ns < limit) {
		/* PQ: one batch = fill the structure with range keys, empty it */
		a.n = a.op == BENCH_PQ ? 2ULL * a.range : BATCH;
		t->c->batch(t->c, t->tid, &a);
		ns += a.ns;
		ops += a.done;
		ok += a.ok;
	}
	t->oncpu = (double)(thread_cpu_ns() - c0) / (now_ns() - w0 + 1);
	t->ops = ops;
	t->ok = ok;
	if (t->c->thread_fini)
		t->c->thread_fini(t->c, t->tid);
	/* Pairs: only those whose pop got an element count (an mpmc pop may
	 * find a slot claimed but not yet published and return empty). */
	if (t->proto.op == BENCH_PAIR || t->proto.op == BENCH_PQ)
		ops = ok;
	t->rate = ns ? ops * 1e9 / ns : 0;
	return NULL;
}

/* Share of successful operations in the last run (a sanity check: a
 * lookup that misses everything would be fast for the wrong reason). */
static double last_ok;
/* Share of its run's wall time each thread had a CPU (last run): well
 * below 1 means the machine, not the structure, set the pace. */
static double last_cpu[MAX_THREADS];

/* Run thread i on contender cs[i]; rates[i] gets its ops per busy second. */
static void run_set(struct cont **cs, __u32 op, __u32 range, __u32 pct, int nthr, __u64 seed,
		    double *rates)
{
	__u64 ops = 0, ok = 0;
	struct thr t[MAX_THREADS];
	int i;

	for (i = 0; i < nthr; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].c = cs[i];
		t[i].tid = i;
		t[i].proto.op = op;
		t[i].proto.range = range;
		t[i].proto.search_pct = pct;
		t[i].proto.seed = seed * 1000003ULL + i * 7919ULL + 1;
		/* PQ: each thread its own keys, [i*range, (i+1)*range);
		 * pairs: from i << 28 */
		t[i].proto.first = op == BENCH_PQ ? i * range : op == BENCH_PAIR ? (__u32)i << 28 : 0;
		pthread_create(&t[i].th, NULL, thr_main, &t[i]);
	}
	for (i = 0; i < nthr; i++) {
		pthread_join(t[i].th, NULL);
		rates[i] = t[i].rate;
		last_cpu[i] = t[i].oncpu;
		ops += t[i].ops;
		ok += t[i].ok;
	}
	last_ok = ops ? (double)ok / ops : 0;
}

static double run_threads(struct cont *c, __u32 op, __u32 range, __u32 pct, int nthr, __u64 seed)
{
	struct cont *cs[MAX_THREADS];
	double rates[MAX_THREADS], sum = 0;
	int i;

	for (i = 0; i < MAX_THREADS; i++)
		cs[i] = c;
	run_set(cs, op, range, pct, nthr, seed, rates);
	for (i = 0; i < nthr; i++)
		sum += rates[i];
	return sum;
}

/* Deletes: single thread, timed in chunks; the table is refilled
 * (untimed) whenever every key is gone.  Leaves the table full. */
static double run_deletes(struct cont *c, __u32 range, __u32 *cursor)
{
	struct bench_args a = { .op = BENCH_DELETE, .range = range };
	__u64 ns = 0, ops = 0, okn = 0, limit = (__u64)(run_sec * 1e9);
	__u64 w0 = now_ns(), c0 = thread_cpu_ns();

	while (ns < limit) {
		if (*cursor >= range) {
			seq_run(c, BENCH_FILL, range, 0, range);
			*cursor = 0;
		}
		a.first = *cursor;
		a.n = range - *cursor < BATCH ? range - *cursor : BATCH;
		c->batch(c, 0, &a);
		ns += a.ns;
		ops += a.done;
		okn += a.ok;
		*cursor += a.done;
	}
	if (*cursor)
		seq_run(c, BENCH_FILL, range, 0, *cursor);
	*cursor = 0;
	last_ok = ops ? (double)okn / ops : 0;
	last_cpu[0] = (double)(thread_cpu_ns() - c0) / (now_ns() - w0 + 1);
	return ns ? ops * 1e9 / ns : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static const char *op_name(__u32 op, __u32 pct)
{
	switch (op) {
	case BENCH_LOOKUP: return "lookup";
	case BENCH_UPDATE: return "update";
	case BENCH_DELETE: return "delete";
	case BENCH_PAIR: return "push+pop";
	case BENCH_PQ: return "insert+popmin";
	default:
		return pct == MIX_READ ? "read-mostly" : pct == MIX_HALF ? "balanced" : "write-only";
	}
}

/* One figure: warm-up + 3 runs, median printed and returned. */
static double figure(const char *section, struct cont *c, __u32 op, __u32 range, __u32 pct,
		     int nthr)
{
	double r[4], m[3];
	__u32 cursor = 0;
	int i;

	if (nthr > nthreads_max)
		return 0;
	fig_no++;
	fprintf(stderr, "\rbench: [%3d] %-6s %-22s %-11s keys=%-6u threads=%d   ", fig_no,
		section, c->name, op_name(op, pct), range, nthr);
	for (i = 0; i < 4; i++) {
		if (op == BENCH_DELETE)
			r[i] = run_deletes(c, range, &cursor);
		else
			r[i] = run_threads(c, op, range, pct, nthr, i + 1);
	}
	memcpy(m, r + 1, sizeof(m));
	qsort(m, 3, sizeof(double), cmp_double);
	printf("R %s %s %u %d %s %.0f %.0f %.0f %.0f %.3f %.2f\n", section, op_name(op, pct),
	       range, nthr, c->name, m[1], r[1], r[2], r[3], last_ok,
	       nthr > 1 ? (last_cpu[0] + last_cpu[1]) / 2 : last_cpu[0]);
	fflush(stdout);
	return m[1];
}

/* The keyed workloads, on a table filled with all @range keys.  Leaves
 * half the keys (the mixes' steady state).  @update: the contenders can
 * change the value of a key in place. */
static void keyed_suite(const char *section, struct cont **cs, int ncs, __u32 range, int update)
{
	static const __u32 mixes[] = { MIX_READ, MIX_HALF, MIX_WRITE };
	int i, m, t;

	for (i = 0; i < ncs; i++)
		figure(section, cs[i], BENCH_LOOKUP, range, 0, 1);
	/* Update (value of an existing key), then delete of every key. */
	for (i = 0; update && i < ncs; i++)
		figure(section, cs[i], BENCH_UPDATE, range, 0, 1);
	for (i = 0; i < ncs; i++)
		figure(section, cs[i], BENCH_DELETE, range, 0, 1);
	for (i = 0; i < ncs; i++)
		seq_run(cs[i], BENCH_DELETE, range, range / 2, range - range / 2);
	for (m = 0; m < 3; m++)
		for (t = 1; t <= MAX_THREADS; t++)
			for (i = 0; i < ncs; i++)
				figure(section, cs[i], BENCH_MIX, range, mixes[m], t);
}

/* push+pop pairs, 1 .. @threads threads. */
static void pair_suite(const char *section, struct cont **cs, int ncs, int threads)
{
	int i, t;

	for (t = 1; t <= threads && t <= MAX_THREADS; t++)
		for (i = 0; i < ncs; i++)
			figure(section, cs[i], BENCH_PAIR, 1024, 0, t);
}

/* Insert @range keys then pop-min them all, per thread, 1 .. @threads. */
static void pq_suite(const char *section, struct cont **cs, int ncs, __u32 range, int threads)
{
	int i, t;

	for (t = 1; t <= threads && t <= MAX_THREADS; t++)
		for (i = 0; i < ncs; i++)
			figure(section, cs[i], BENCH_PQ, range, 0, t);
}

/* The mixes from userspace alone, 1 and 2 threads. */
static void user_mixes(struct cont *c, __u32 range)
{
	static const __u32 mixes[] = { MIX_READ, MIX_HALF, MIX_WRITE };
	int m, t;

	for (m = 0; m < 3; m++)
		for (t = 1; t <= MAX_THREADS; t++)
			figure("user", c, BENCH_MIX, range, mixes[m], t);
}

/*
 * Mixed: thread 0 runs @user (userspace on the arena), thread 1 runs
 * @kern (the kernel loop) on the same structure at the same time.  Prints
 * the median of each side and of their sum (each median taken on its own).
 */
static void figure_mixed(struct cont *user, struct cont *kern, __u32 range, __u32 pct)
{
	static const char *const names[3] = { "mixed-user", "mixed-kernel", "mixed-total" };
	struct cont *cs[MAX_THREADS] = { user, kern };
	double r[3][4], m[3], rates[MAX_THREADS];
	int i, k;

	if (nthreads_max < 2)
		return;
	fig_no++;
	fprintf(stderr, "\rbench: [%3d] %-6s %-22s %-11s keys=%-6u threads=1+1 ", fig_no,
		"mixed", "user+kernel", op_name(BENCH_MIX, pct), range);
	for (i = 0; i < 4; i++) {
		run_set(cs, BENCH_MIX, range, pct, 2, i + 1, rates);
		r[0][i] = rates[0];
		r[1][i] = rates[1];
		r[2][i] = rates[0] + rates[1];
	}
	for (k = 0; k < 3; k++) {
		memcpy(m, r[k] + 1, sizeof(m));
		qsort(m, 3, sizeof(double), cmp_double);
		printf("R mixed %s %u 2 %s %.0f %.0f %.0f %.0f %.3f %.2f\n",
		       op_name(BENCH_MIX, pct), range, names[k], m[1], r[k][1], r[k][2],
		       r[k][3], last_ok, k < 2 ? last_cpu[k] : (last_cpu[0] + last_cpu[1]) / 2);
	}
	fflush(stdout);
}

/* Each side alone, measured next to the mixed run, then both together. */
static void mixed_suite(struct cont *user, struct cont *kern, __u32 range)
{
	static const __u32 mixes[] = { MIX_READ, MIX_HALF };
	const char *un = user->name, *kn = kern->name;
	unsigned int m;

	for (m = 0; m < sizeof(mixes) / sizeof(mixes[0]); m++) {
		user->name = "user-alone";
		kern->name = "kernel-alone";
		figure("mixed", user, BENCH_MIX, range, mixes[m], 1);
		figure("mixed", kern, BENCH_MIX, range, mixes[m], 1);
		user->name = un;
		kern->name = kn;
		figure_mixed(user, kern, range, mixes[m]);
	}
}

/* ------------------------------------------------- ds_* in userspace */

struct ds_ctx {
	int kind;
	void *head;
};

static int ds_user_op(struct cont *c, __u32 op, __u64 key)
{
	struct ds_ctx *d = c->priv;
	struct ds_req r = { .key = key, .value = key * 2 + 1 };

	switch (op) {
	case BENCH_LOOKUP:
		r.op = DS_OP_SEARCH;
		break;
	case BENCH_UPDATE:
		return ds_hash_update(d->head, key, key * 2 + 1);
	case BENCH_DELETE:
		r.op = DS_OP_DELETE;
		break;
	default:
		r.op = DS_OP_INSERT;
	}
	return ds_dispatch(d->kind, d->head, &r);
}

static int ds_user_pair(struct cont *c, int tid, __u64 i)
{
	struct ds_ctx *d = c->priv;
	/* Each thread its own keys: keyed structures refuse duplicates. */
	__u64 key = (__u64)tid << 28 | (i & ((1ULL << 28) - 1));
	struct ds_req r = { .op = DS_OP_INSERT, .key = key, .value = key };

	if (ds_dispatch(d->kind, d->head, &r) != DS_SUCCESS)
		return 0;
	r.op = DS_OP_POP;
	return ds_dispatch(d->kind, d->head, &r) == DS_SUCCESS;
}

static void ds_thread_init(struct cont *c, int tid)
{
	(void)c;
	arena_set_thread_slot(tid);
}

static struct cont *ds_user_cont(const char *name, int kind, void *head)
{
	struct cont *c = calloc(1, sizeof(*c));
	struct ds_ctx *d = calloc(1, sizeof(*d));

	d->kind = kind;
	d->head = head;
	c->name = name;
	c->priv = d;
	c->batch = user_batch;
	c->thread_init = ds_thread_init;
	c->op = ds_user_op;
	c->pair = ds_user_pair;
	c->ebr = ds_ebr_of(kind, head);
	return c;
}

/* ------------------------------------------------------- kernel side */

static struct bench_bpf *kern_load(int kind, __u32 hmap_entries)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct bench_init_args a = { .max_pages = ARENA_MAX_PAGES };
	struct bench_bpf *s;

	s = bench_bpf__open();
	if (!s) {
		fprintf(stderr, "bench: cannot open the BPF object\n");
		exit(1);
	}
	s->rodata->ds_kind = kind;
	bpf_map__set_max_entries(s->maps.hmap, hmap_entries);
	if (bench_bpf__load(s)) {
		fprintf(stderr, "bench: loading the BPF object (kind %d) failed\n", kind);
		exit(1);
	}
	opts.ctx_in = &a;
	opts.ctx_size_in = sizeof(a);
	if (bpf_prog_test_run_opts(bpf_program__fd(s->progs.ds_init), &opts) || a.rc) {
		fprintf(stderr, "bench: ds_init failed: %s rc %d\n", strerror(errno), a.rc);
		exit(1);
	}
	if (ds_user_attach(s->obj, 16))
		exit(1);
	return s;
}

static void kern_unload(struct bench_bpf *s)
{
	ds_user_detach();
	bench_bpf__destroy(s);
}

static struct cont *kern_cont(const char *name, struct bpf_program *prog)
{
	struct cont *c = calloc(1, sizeof(*c));

	c->name = name;
	c->prog = prog;
	c->batch = kern_batch;
	return c;
}

/* bpf_map_*_elem system calls on the BPF hash map. */
static int sys_op(struct cont *c, __u32 op, __u64 key)
{
	__u64 v = key * 2 + 1;

	switch (op) {
	case BENCH_LOOKUP:
		return bpf_map_lookup_elem(c->fd, &key, &v);
	case BENCH_UPDATE:
		return bpf_map_update_elem(c->fd, &key, &v, BPF_EXIST);
	case BENCH_DELETE:
		return bpf_map_delete_elem(c->fd, &key);
	default:
		return bpf_map_update_elem(c->fd, &key, &v, BPF_NOEXIST);
	}
}

/* The kfunc peers' object: no arena of its own (see graph.bpf.c). */
static struct graph_bpf *graph_load(void)
{
	struct graph_bpf *g = graph_bpf__open();

	if (!g) {
		fprintf(stderr, "bench: cannot open the graph BPF object\n");
		exit(1);
	}
	bpf_map__set_autocreate(g->maps.arena, false);
	if (graph_bpf__load(g)) {
		fprintf(stderr, "bench: loading bpf_rbtree/bpf_list programs failed "
			"(BENCH_VERBOSE=1 shows the verifier log)\n");
		exit(1);
	}
	return g;
}

/*
 * Contenders and peers by plan (plan.h): every registered structure, from
 * its capabilities.  A peer is measured once per mode, next to the first
 * structure that names it.
 */
static int measured_before(const char *peer, __u32 range)
{
	static struct { const char *name; __u32 range; } seen[32];
	static int n;
	int i;

	for (i = 0; i < n; i++)
		if (seen[i].range == range && !strcmp(seen[i].name, peer))
			return 1;
	if (n < 32) {
		seen[n].name = peer;
		seen[n++].range = range;
	}
	return 0;
}

/* "<prefix><name>", kept for the process's life (contender names). */
static const char *cname(const char *prefix, const char *name)
{
	char *s;

	if (asprintf(&s, "%s%s", prefix, name) < 0)
		exit(1);
	return s;
}

static int large_only(void)
{
	/* BENCH_LARGE_HASH_ONLY: the run of the build whose hash is created
	 * with as many buckets as the large key range (see bench.mk). */
	return getenv("BENCH_LARGE_HASH_ONLY") != NULL;
}

/* The registered structures' plans in turn (BENCH_ONLY: that one alone):
 * for (k = -1; next_plan(&k, &p);) */
static int next_plan(int *k, struct plan *p)
{
	while (++*k < DS_KIND_MAX) {
		if (only_kind >= 0 && *k != only_kind)
			continue;
		plan_of(*k, nthreads_max, p);
		return 1;
	}
	return 0;
}

/* bpf_map_lookup_elem & co. system calls on @s's BPF hash map. */
static struct cont *syscall_cont(struct bench_bpf *s)
{
	struct cont *c = calloc(1, sizeof(*c));

	c->name = "user-syscall-hash";
	c->batch = user_batch;
	c->op = sys_op;
	c->fd = bpf_map__fd(s->maps.hmap);
	return c;
}

/*
 * A keyed structure at @range keys, next to BPF_MAP_TYPE_HASH in the same
 * object: kernel loops, userspace on the same arena and map, then both
 * sides at once on the same table.
 */
static void kern_keyed(const struct plan *p, __u32 range)
{
	int update = p->kind == DS_KIND_hash;	/* ds_hash_update() */
	struct cont *cs[2], *us[2];
	struct bench_bpf *s;
	int npeer;

	s = kern_load(p->kind, range);
	cs[0] = kern_cont(cname("arena-", p->name), s->progs.arena_run);
	cs[1] = kern_cont("bpf-hash", s->progs.hmap_run);
	npeer = !measured_before("bpf-hash", range);
	seq_run(cs[0], BENCH_FILL, range, 0, range);
	if (npeer)
		seq_run(cs[1], BENCH_FILL, range, 0, range);
	/* userspace on the same arena and map, while they are full */
	us[0] = ds_user_cont(cname("user-arena-", p->name), p->kind, s->bss->ds_head);
	us[1] = syscall_cont(s);
	figure("user", us[0], BENCH_LOOKUP, range, 0, 1);
	if (npeer)
		figure("user", us[1], BENCH_LOOKUP, range, 0, 1);
	if (update)
		figure("user", us[0], BENCH_UPDATE, range, 0, 1);
	if (update && npeer)
		figure("user", us[1], BENCH_UPDATE, range, 0, 1);
	figure("user", us[0], BENCH_DELETE, range, 0, 1);
	if (npeer)
		figure("user", us[1], BENCH_DELETE, range, 0, 1);
	keyed_suite("kernel", cs, 1 + npeer, range, update);
	/* the user-side mixes on the now half-full arena table */
	user_mixes(us[0], range);
	/* both at once on the same (half-full) table */
	mixed_suite(us[0], cs[0], range);
	kern_unload(s);
}

/* push+pop pairs of a structure with pop, in the kernel and (if the plan
 * says so) from userspace on the same arena; the BPF queue and stack maps
 * of the same object the first time. */
static void kern_pairs(const struct plan *p)
{
	struct bench_bpf *s = kern_load(p->kind, 1024);
	struct cont *c, *maps[2];
	int n = 0;

	c = kern_cont(cname("arena-", p->name), s->progs.arena_run);
	pair_suite("kernel", &c, 1, p->threads);
	if (p->user_pairs) {
		c = ds_user_cont(cname("user-arena-", p->name), p->kind, s->bss->ds_head);
		pair_suite("user", &c, 1, p->threads);
	}
	if (!measured_before("bpf-queue", 0))
		maps[n++] = kern_cont("bpf-queue", s->progs.bq_run);
	if (!measured_before("bpf-stack", 0))
		maps[n++] = kern_cont("bpf-stack", s->progs.bs_run);
	pair_suite("kernel", maps, n, MAX_THREADS);
	kern_unload(s);
}

/*
 * Insert n keys then pop-min them all, at 1024 keys and at PQ_LARGE_KEYS
 * per thread.  The large run is skipped when the small one says a batch
 * would take over two seconds even at the small rate divided by the key
 * ratio (an O(n) structure such as the sorted list).
 */
static void ordered_suite(struct cont *c, int threads)
{
	double r = figure("kernel", c, BENCH_PQ, SMALL_KEYS, 0, 1), batch_s;
	double scale = (double)PQ_LARGE_KEYS / SMALL_KEYS;

	pq_suite("kernel", &c, 1, SMALL_KEYS, threads);
	batch_s = r > 0 ? 2.0 * PQ_LARGE_KEYS * scale / r : 1e9;
	if (batch_s > 2.0) {
		fprintf(stderr, "\nbench: %s: insert+popmin at %u keys skipped (a batch would take "
			"about %.0f s)\n", c->name, PQ_LARGE_KEYS, batch_s);
		return;
	}
	pq_suite("kernel", &c, 1, PQ_LARGE_KEYS, threads);
}

/*
 * Ordered structures against bpf_rbtree under bpf_spin_lock (fill, then
 * pop-min everything) and against bpf_list in push+pop pairs.
 */
static void kern_ordered(const struct plan *p)
{
	static struct graph_bpf *g;
	struct bench_bpf *s;
	struct cont *c;

	if (!g)
		g = graph_load();	/* kept: the peers run once */
	if (!measured_before("bpf-rbtree", 0)) {
		c = kern_cont("bpf-rbtree", g->progs.rbt_run);
		pq_suite("kernel", &c, 1, SMALL_KEYS, MAX_THREADS);
		pq_suite("kernel", &c, 1, PQ_LARGE_KEYS, MAX_THREADS);
	}
	if (!measured_before("bpf-list", 0)) {
		c = kern_cont("bpf-list", g->progs.lst_run);
		pair_suite("kernel", &c, 1, MAX_THREADS);
	}
	s = kern_load(p->kind, 1024);
	c = kern_cont(cname("arena-", p->name), s->progs.arena_run);
	ordered_suite(c, p->threads);
	pair_suite("kernel", &c, 1, p->threads);
	kern_unload(s);
}

static void mode_kern(void)
{
	static const __u32 ranges[] = { SMALL_KEYS, LARGE_KEYS };
	struct plan p;
	unsigned int i;
	int k;

	for (k = -1; next_plan(&k, &p);) {
		plan_print(&p);
		for (i = large_only() ? 1 : 0; p.keyed && i < 2; i++)
			kern_keyed(&p, ranges[i]);
		if (large_only())
			continue;
		if (p.ordered)
			kern_ordered(&p);
		else if (p.pairs)
			kern_pairs(&p);
	}
}

/* ---------------------------------------------------------- profile */

static const char *const prof_names[PROF_MAX] = {
	"prof-loop", "prof-ebr", "prof-count", "prof-walk", "prof-walk+ebr",
	"prof-inline", "prof-dispatch", "prof-plain-stats", "prof-batch-ebr",
};

static void prof_batch(struct cont *c, int tid, struct bench_args *a)
{
	a->variant = (__u32)(uintptr_t)c->priv;
	kern_batch(c, tid, a);
}

/* The pieces of a kernel-side arena hash lookup (1024 keys, table full),
 * next to BPF_MAP_TYPE_HASH lookups in the same process. */
static void mode_prof(void)
{
	struct bench_bpf *s = kern_load(DS_KIND_hash, SMALL_KEYS);
	struct cont *c;
	__u32 v;

	c = kern_cont("arena-hash", s->progs.arena_run);
	seq_run(c, BENCH_FILL, SMALL_KEYS, 0, SMALL_KEYS);
	c = kern_cont("bpf-hash", s->progs.hmap_run);
	seq_run(c, BENCH_FILL, SMALL_KEYS, 0, SMALL_KEYS);
	figure("profile", c, BENCH_LOOKUP, SMALL_KEYS, 0, 1);
	for (v = 0; v < PROF_MAX; v++) {
		c = kern_cont(prof_names[v], s->progs.prof_run);
		c->batch = prof_batch;
		c->priv = (void *)(uintptr_t)v;
		figure("profile", c, BENCH_LOOKUP, SMALL_KEYS, 0, 1);
	}
	kern_unload(s);
}

/* What the kfunc peers' node allocation costs alone: bpf_obj_new +
 * bpf_obj_drop with no list or tree (graph.bpf.c obj_run). */
static void mode_prof_graph(void)
{
	struct graph_bpf *g = graph_load();
	struct cont *c = kern_cont("bpf-obj-new+drop", g->progs.obj_run);

	figure("profile", c, BENCH_PAIR, SMALL_KEYS, 0, 1);
	graph_bpf__destroy(g);
}

/* ------------------------------------------------- standalone arena */

static void mode_sa(void)
{
	static const __u32 ranges[] = { SMALL_KEYS, LARGE_KEYS };
	struct plan p;
	struct cont *c;
	unsigned int i;
	int k;

	for (k = -1; next_plan(&k, &p);) {
		for (i = large_only() ? 1 : 0; p.keyed && i < 2; i++) {
			if (arena_standalone_init(1U << 18)) {
				fprintf(stderr, "bench: cannot map the standalone arena\n");
				exit(1);
			}
			c = ds_user_cont(cname("malloc-", p.name), p.kind, ds_create(p.kind));
			seq_run(c, BENCH_FILL, ranges[i], 0, ranges[i]);
			figure("user", c, BENCH_LOOKUP, ranges[i], 0, 1);
			if (p.kind == DS_KIND_hash)
				figure("user", c, BENCH_UPDATE, ranges[i], 0, 1);
			figure("user", c, BENCH_DELETE, ranges[i], 0, 1);
			seq_run(c, BENCH_DELETE, ranges[i], ranges[i] / 2, ranges[i] - ranges[i] / 2);
			user_mixes(c, ranges[i]);
			arena_standalone_fini();
		}
		if (large_only() || !p.user_pairs)
			continue;
		if (arena_standalone_init(1U << 16)) {
			fprintf(stderr, "bench: cannot map the standalone arena\n");
			exit(1);
		}
		c = ds_user_cont(cname("malloc-", p.name), p.kind, ds_create(p.kind));
		pair_suite("user", &c, 1, p.threads);
		arena_standalone_fini();
	}
}

/* ---------------------------------------------------------------- peers */

/* ck_hs: single writer, many readers (SPMC); writers take a spinlock.
 * Direct mode: the set stores key+1 itself (no value object). */
static ck_spinlock_t hs_lock = CK_SPINLOCK_INITIALIZER;

static unsigned long hs_hash(const void *obj, unsigned long seed)
{
	return (unsigned long)ds_hash_mix((uintptr_t)obj ^ seed);
}

static bool hs_cmp(const void *a, const void *b)
{
	return a == b;
}

static void *hs_malloc(size_t n)
{
	return malloc(n);
}

static void hs_free(void *p, size_t n, bool defer)
{
	(void)n;
	(void)defer;
	/* Readers may still scan a replaced table: keep it (bounded
	 * growth during a run); real users defer this through ck_epoch. */
	(void)p;
}

static struct ck_malloc hs_alloc = { .malloc = hs_malloc, .free = hs_free };

static int hs_op(struct cont *c, __u32 op, __u64 key)
{
	ck_hs_t *hs = c->priv;
	void *k = (void *)(uintptr_t)(key + 1);
	unsigned long h = CK_HS_HASH(hs, hs_hash, k);
	bool ok;

	void *prev = NULL;

	if (op == BENCH_LOOKUP)
		return ck_hs_get(hs, h, k) ? 0 : -1;
	ck_spinlock_lock(&hs_lock);
	if (op == BENCH_DELETE)
		ok = ck_hs_remove(hs, h, k) != NULL;
	else if (op == BENCH_UPDATE)
		/* replace the stored object of an existing key (direct
		 * mode: the object is the key; there is no value to store) */
		ok = ck_hs_set(hs, h, k, &prev) && prev;
	else
		ok = ck_hs_put(hs, h, k);
	ck_spinlock_unlock(&hs_lock);
	return ok ? 0 : -1;
}

/* liburcu rculfhash: key -> value nodes, freed through call_rcu. */
struct lf_node {
	__u64 key, value;
	struct cds_lfht_node node;
	struct rcu_head rcu;
};

static int lf_match(struct cds_lfht_node *n, const void *key)
{
	return caa_container_of(n, struct lf_node, node)->key == *(const __u64 *)key;
}

static void lf_free(struct rcu_head *h)
{
	free(caa_container_of(h, struct lf_node, rcu));
}

static int lf_op(struct cont *c, __u32 op, __u64 key)
{
	struct cds_lfht *ht = c->priv;
	unsigned long h = (unsigned long)ds_hash_mix(key);
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;
	struct lf_node *ln;
	int rc = -1;

	rcu_read_lock();
	switch (op) {
	case BENCH_LOOKUP:
		cds_lfht_lookup(ht, h, lf_match, &key, &it);
		n = cds_lfht_iter_get_node(&it);
		if (n && caa_container_of(n, struct lf_node, node)->value == key * 2 + 1)
			rc = 0;
		break;
	case BENCH_UPDATE:
		/* rculfhash nodes are immutable to readers: a new node
		 * replaces the old one, which is freed after a grace period */
		cds_lfht_lookup(ht, h, lf_match, &key, &it);
		n = cds_lfht_iter_get_node(&it);
		if (!n)
			break;
		ln = malloc(sizeof(*ln));
		ln->key = key;
		ln->value = key * 2 + 1;
		cds_lfht_node_init(&ln->node);
		if (cds_lfht_replace(ht, &it, h, lf_match, &key, &ln->node)) {
			free(ln);
			break;
		}
		call_rcu(&caa_container_of(n, struct lf_node, node)->rcu, lf_free);
		rc = 0;
		break;
	case BENCH_DELETE:
		cds_lfht_lookup(ht, h, lf_match, &key, &it);
		n = cds_lfht_iter_get_node(&it);
		if (n && !cds_lfht_del(ht, n)) {
			call_rcu(&caa_container_of(n, struct lf_node, node)->rcu, lf_free);
			rc = 0;
		}
		break;
	default:
		ln = malloc(sizeof(*ln));
		ln->key = key;
		ln->value = key * 2 + 1;
		cds_lfht_node_init(&ln->node);
		n = cds_lfht_add_unique(ht, h, lf_match, &key, &ln->node);
		if (n != &ln->node)
			free(ln);
		else
			rc = 0;
	}
	rcu_read_unlock();
	return rc;
}

static void rcu_thr_init(struct cont *c, int tid)
{
	(void)c;
	(void)tid;
	rcu_register_thread();
}

static void rcu_thr_fini(struct cont *c, int tid)
{
	(void)c;
	(void)tid;
	rcu_unregister_thread();
}

/* Pair peers.  Nodes of the ck structures come from a per-thread pool
 * (the cheapest allocator they could have); urcu ones use malloc/free
 * as its documentation does. */
struct pnode {
	union {
		ck_stack_entry_t se;
		struct cds_wfcq_node wn;
		struct cds_lfs_node ln;
		struct ck_fifo_mpmc_entry fe;
	};
	struct pnode *pool_next;
	__u64 v;
};

static __thread struct pnode *pool;

static struct pnode *pnode_get(void)
{
	struct pnode *p = pool;

	if (p) {
		pool = p->pool_next;
		return p;
	}
	return calloc(1, sizeof(*p));
}

static void pnode_put(struct pnode *p)
{
	p->pool_next = pool;
	pool = p;
}

static ck_ring_t ring;
static ck_ring_buffer_t ring_buf[4096];

static int ring_pair(struct cont *c, int tid, __u64 i)
{
	void *v = (void *)(uintptr_t)(i + 1);

	(void)c;
	(void)tid;
	if (!ck_ring_enqueue_mpmc(&ring, ring_buf, v))
		return 0;
	return ck_ring_dequeue_mpmc(&ring, ring_buf, &v);
}

static struct ck_fifo_mpmc fifo;

static int fifo_pair(struct cont *c, int tid, __u64 i)
{
	struct ck_fifo_mpmc_entry *e = (void *)pnode_get(), *garbage;
	void *v;

	(void)c;
	(void)tid;
	ck_fifo_mpmc_enqueue(&fifo, e, (void *)(uintptr_t)(i + 1));
	if (!ck_fifo_mpmc_dequeue(&fifo, &v, &garbage))
		return 0;
	pnode_put((void *)garbage);
	return 1;
}

static struct cds_wfcq_head wq_head;
static struct cds_wfcq_tail wq_tail;

static int wfcq_pair(struct cont *c, int tid, __u64 i)
{
	struct pnode *p = malloc(sizeof(*p));
	struct cds_wfcq_node *n;

	(void)c;
	(void)tid;
	cds_wfcq_node_init(&p->wn);
	p->v = i;
	cds_wfcq_enqueue(&wq_head, &wq_tail, &p->wn);
	n = cds_wfcq_dequeue_blocking(&wq_head, &wq_tail);
	if (!n)
		return 0;
	free(caa_container_of(n, struct pnode, wn));
	return 1;
}

static ck_stack_t ckstack = CK_STACK_INITIALIZER;

static int ckstack_pair(struct cont *c, int tid, __u64 i)
{
	struct pnode *p = pnode_get();
	ck_stack_entry_t *e;

	(void)c;
	(void)tid;
	p->v = i;
	ck_stack_push_mpmc(&ckstack, &p->se);
	e = ck_stack_pop_mpmc(&ckstack);
	if (!e)
		return 0;
	pnode_put((struct pnode *)e);
	return 1;
}

static struct cds_lfs_stack lfs;

static int lfs_pair(struct cont *c, int tid, __u64 i)
{
	struct pnode *p = malloc(sizeof(*p));
	struct cds_lfs_node *n;

	(void)c;
	(void)tid;
	cds_lfs_node_init(&p->ln);
	p->v = i;
	cds_lfs_push(&lfs, &p->ln);
	n = cds_lfs_pop_blocking(&lfs);
	if (!n)
		return 0;
	free(caa_container_of(n, struct pnode, ln));
	return 1;
}

static struct cont *user_cont(const char *name, void *priv,
			      int (*op)(struct cont *, __u32, __u64),
			      int (*pair)(struct cont *, int, __u64))
{
	struct cont *c = calloc(1, sizeof(*c));

	c->name = name;
	c->priv = priv;
	c->batch = user_batch;
	c->op = op;
	c->pair = pair;
	return c;
}

static void mode_peers(void)
{
	static const __u32 ranges[] = { SMALL_KEYS, LARGE_KEYS };
	struct cont *cs[5];
	unsigned int i;

	rcu_register_thread();
	for (i = 0; i < 2; i++) {
		ck_hs_t *hs = calloc(1, sizeof(*hs));

		if (!ck_hs_init(hs, CK_HS_MODE_SPMC | CK_HS_MODE_DIRECT, hs_hash, hs_cmp,
				&hs_alloc, ranges[i], 42)) {
			fprintf(stderr, "bench: ck_hs_init failed\n");
			exit(1);
		}
		cs[0] = user_cont("ck_hs", hs, hs_op, NULL);
		cs[1] = user_cont("urcu-lfht", cds_lfht_new(ranges[i], ranges[i], 0,
							    CDS_LFHT_AUTO_RESIZE, NULL),
				  lf_op, NULL);
		cs[1]->thread_init = rcu_thr_init;
		cs[1]->thread_fini = rcu_thr_fini;
		seq_run(cs[0], BENCH_FILL, ranges[i], 0, ranges[i]);
		seq_run(cs[1], BENCH_FILL, ranges[i], 0, ranges[i]);
		keyed_suite("user", cs, 2, ranges[i], 1);
	}
	ck_ring_init(&ring, 4096);
	ck_fifo_mpmc_init(&fifo, calloc(1, sizeof(struct pnode)));
	cds_wfcq_init(&wq_head, &wq_tail);
	cds_lfs_init(&lfs);
	cs[0] = user_cont("ck_ring", NULL, NULL, ring_pair);
	cs[1] = user_cont("ck_fifo_mpmc", NULL, NULL, fifo_pair);
	cs[2] = user_cont("urcu-wfcqueue", NULL, NULL, wfcq_pair);
	cs[3] = user_cont("ck_stack", NULL, NULL, ckstack_pair);
	cs[4] = user_cont("urcu-lfstack", NULL, NULL, lfs_pair);
	pair_suite("user", cs, 5, MAX_THREADS);
	rcu_unregister_thread();
}

/*
 * How lookup cost grows with the table: each keyed structure at 1k, 64k and
 * 1M keys (created at its default size: it grows while filled), next to
 * BPF_MAP_TYPE_HASH of max_entries = keys, kernel loops on 1 and 2 threads,
 * userspace direct reads and bpf_map_lookup_elem syscalls on 1.
 */
static void mode_scale(void)
{
	static const __u32 ranges[] = { 1024, 65536, 1048576 };
	struct cont *k[2], *u[2];
	struct bench_bpf *s;
	struct plan p;
	unsigned int i;
	int kind, t;

	for (kind = -1; next_plan(&kind, &p);) {
		if (!p.keyed)
			continue;
		for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
			s = kern_load(kind, ranges[i]);
			k[0] = kern_cont(cname("arena-", p.name), s->progs.arena_run);
			k[1] = kern_cont("bpf-hash", s->progs.hmap_run);
			seq_run(k[0], BENCH_FILL, ranges[i], 0, ranges[i]);
			seq_run(k[1], BENCH_FILL, ranges[i], 0, ranges[i]);
			u[0] = ds_user_cont(cname("user-arena-", p.name), kind, s->bss->ds_head);
			u[1] = syscall_cont(s);
			for (t = 1; t <= MAX_THREADS; t++) {
				figure("scale", k[0], BENCH_LOOKUP, ranges[i], 0, t);
				figure("scale", k[1], BENCH_LOOKUP, ranges[i], 0, t);
			}
			figure("scale", u[0], BENCH_LOOKUP, ranges[i], 0, 1);
			figure("scale", u[1], BENCH_LOOKUP, ranges[i], 0, 1);
			kern_unload(s);
		}
	}
}

/* The plan of every registered structure, measuring nothing: its P lines,
 * and one "S <name> <suites> <threads>" line. */
static void mode_plan(void)
{
	struct plan p;
	int k;

	for (k = -1; next_plan(&k, &p);) {
		printf("S %s %s%s%s%s %d\n", p.name, p.keyed ? "keyed," : "",
		       p.ordered ? "ordered," : "", p.pairs ? "pairs," : "",
		       p.user_pairs ? "user-pairs," : "", p.threads);
		plan_print(&p);
	}
}

int main(int argc, char **argv)
{
	const char *q = getenv("BENCH_QUICK"), *only = getenv("BENCH_ONLY");
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (argc < 2) {
		fprintf(stderr, "usage: %s kern|sa|peers|prof|scale|plan\n", argv[0]);
		return 2;
	}
	if (only && *only) {
		only_kind = ds_kind_by_name(only);
		if (only_kind < 0) {
			fprintf(stderr, "bench: BENCH_ONLY: unknown structure '%s' "
				"(skeleton -D help lists them)\n", only);
			return 2;
		}
	}
	if (getenv("BENCH_PIN"))
		pin_every = strtoul(getenv("BENCH_PIN"), NULL, 10);
	if (q && *q && strcmp(q, "0"))
		run_sec = 0.03;
	if (n < MAX_THREADS)
		nthreads_max = n > 0 ? n : 1;
	if (!getenv("BENCH_VERBOSE"))
		libbpf_set_print(NULL);
	if (!strcmp(argv[1], "kern")) {
		mode_kern();
	} else if (!strcmp(argv[1], "sa")) {
		mode_sa();
	} else if (!strcmp(argv[1], "peers")) {
		mode_peers();
	} else if (!strcmp(argv[1], "prof")) {
		mode_prof();
		mode_prof_graph();
	} else if (!strcmp(argv[1], "scale")) {
		mode_scale();
	} else if (!strcmp(argv[1], "plan")) {
		mode_plan();
		return 0;
	} else {
		fprintf(stderr, "bench: unknown mode '%s' (kern|sa|peers|prof|scale|plan)\n", argv[1]);
		return 2;
	}
	fprintf(stderr, "\n");
	return 0;
}
