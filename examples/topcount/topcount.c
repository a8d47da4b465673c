// SPDX-License-Identifier: GPL-2.0
/*
 * topcount.c - a live "top" of the processes that open (or exec) the most,
 * counted in the kernel by topcount.bpf.c.
 *
 * The default keeps the counts in a libarena-ds hash in the BPF arena and
 * reads the whole table every refresh by walking it in the mmap'd arena:
 * no syscall, no copy through the kernel.  --map does the same with a
 * BPF_MAP_TYPE_HASH dumped by bpf_map_lookup_batch(), the usual way.
 * --bench measures both: the time of one full read at several table
 * sizes, and what one event costs the kernel with each hook.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libarena-ds/ds_hash.h>
#include <libarena-ds/user.h>
#include "topcount.h"
#include "topcount.skel.h"

#define TC_MAX_SIZES	8
#define TC_MAP_KEYS	65536		/* the map's size in the live view */
#define TC_BATCH	8192		/* entries per bpf_map_lookup_batch() */
#define TC_RESERVE	256		/* arena pages kept for the tracepoints */
#define TC_FILL_CHUNK	20000		/* keys per run of tc_fill */

static struct env {
	int execve;		/* count execve instead of openat */
	int top;
	double interval;	/* seconds between refreshes */
	double duration;	/* 0: until Ctrl-C */
	long pid;		/* show only this process (0: all) */
	int map;		/* the BPF hash map instead of the arena */
	int bench;
	long sizes[TC_MAX_SIZES];
	int nsizes;
	long calls;		/* syscalls per round of the per-event bench */
	int reads;		/* full reads per size in the bench */
	int shards;		/* arena hash tables the keys are spread over */
} env = {
	.top = 10, .interval = 1, .shards = 64, .sizes = { 10000, 100000, 1000000 }, .nsizes = 3,
	.calls = 200000, .reads = 5,
};

const char *argp_program_version = "topcount 1.0";
static const char doc[] =
	"Count openat (or execve) calls per process in the kernel and show a live,\n"
	"sorted top list.  The counts live in an arena hash that this program reads\n"
	"by walking it in memory; --map uses a BPF hash map and bpf_map_lookup_batch().\n"
	"\n"
	"USAGE: topcount [-e EVENT] [-n TOP] [-i SECS] [-d SECS] [-p PID] [--map]\n"
	"       topcount --bench [--sizes N,N,...] [--calls N] [--reads N] [-s N]\n"
	"\n"
	"EXAMPLES:\n"
	"    topcount                  # top 10 openat callers, refreshed every second\n"
	"    topcount -e execve -n 5   # who runs the most programs\n"
	"    topcount --map -d 10      # the same with a BPF hash map, for 10 seconds\n"
	"    topcount -p 1234 -d 3     # only process 1234, then stop\n"
	"    topcount --bench          # read time and per-event cost, arena vs map\n";

enum { OPT_SIZES = 256, OPT_CALLS, OPT_READS };

static const struct argp_option opts[] = {
	{ "event", 'e', "EVENT", 0, "openat (default) or execve", 0 },
	{ "top", 'n', "TOP", 0, "rows to show (1..1000, default 10)", 0 },
	{ "interval", 'i', "SECS", 0, "seconds between refreshes (0.1..3600, default 1)", 0 },
	{ "duration", 'd', "SECS", 0, "stop after SECS seconds (default: at Ctrl-C)", 0 },
	{ "pid", 'p', "PID", 0, "show only this process", 0 },
	{ "map", 'm', NULL, 0, "count in a BPF_MAP_TYPE_HASH, read with lookup_batch", 0 },
	{ "shards", 's', "N", 0,
	  "arena hash tables of 4096 buckets each the keys are spread over "
	  "(a power of two, 1..256, default 64)", 0 },
	{ "bench", 'b', NULL, 0, "measure arena vs map: full reads and per-event cost", 0 },
	{ "sizes", OPT_SIZES, "N,N,...", 0,
	  "table sizes of the bench (ascending, up to 8, default 10000,100000,1000000)", 0 },
	{ "calls", OPT_CALLS, "N", 0, "syscalls per round of the per-event bench (default 200000)", 0 },
	{ "reads", OPT_READS, "N", 0, "full reads per size in the bench (default 5)", 0 },
	{},
};

static long parse_long(struct argp_state *state, const char *arg, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi)
		argp_error(state, "bad value '%s' (want %ld..%ld)", arg, lo, hi);
	return v;
}

static double parse_secs(struct argp_state *state, const char *arg, double lo, double hi)
{
	char *end;
	double v;

	v = strtod(arg, &end);
	if (end == arg || *end || !(v >= lo && v <= hi))
		argp_error(state, "bad number of seconds '%s' (want %g..%g)", arg, lo, hi);
	return v;
}

static void parse_sizes(struct argp_state *state, char *arg)
{
	char *tok, *save = NULL;

	env.nsizes = 0;
	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (env.nsizes == TC_MAX_SIZES)
			argp_error(state, "more than %d sizes", TC_MAX_SIZES);
		env.sizes[env.nsizes] = parse_long(state, tok, 1, 4000000);
		if (env.nsizes && env.sizes[env.nsizes] <= env.sizes[env.nsizes - 1])
			argp_error(state, "sizes must ascend: '%s'", tok);
		env.nsizes++;
	}
	if (!env.nsizes)
		argp_error(state, "no size given");
}

/* Bad input: one line from argp (and its "Try --help" hint), exit 2. */
static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'e':
		if (!strcmp(arg, "openat"))
			env.execve = 0;
		else if (!strcmp(arg, "execve"))
			env.execve = 1;
		else
			argp_error(state, "unknown event '%s' (openat or execve)", arg);
		return 0;
	case 'n':
		env.top = parse_long(state, arg, 1, 1000);
		return 0;
	case 'i':
		env.interval = parse_secs(state, arg, 0.1, 3600);
		return 0;
	case 'd':
		env.duration = parse_secs(state, arg, 0.1, 86400);
		return 0;
	case 'p':
		env.pid = parse_long(state, arg, 1, 1 << 22);
		return 0;
	case 'm':
		env.map = 1;
		return 0;
	case 's':
		env.shards = parse_long(state, arg, 1, TC_MAX_SHARDS);
		if (env.shards & (env.shards - 1))
			argp_error(state, "bad value '%s' (want a power of two)", arg);
		return 0;
	case 'b':
		env.bench = 1;
		return 0;
	case OPT_SIZES:
		parse_sizes(state, arg);
		return 0;
	case OPT_CALLS:
		env.calls = parse_long(state, arg, 1000, 100000000);
		return 0;
	case OPT_READS:
		env.reads = parse_long(state, arg, 1, 1000);
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int run_prog(struct bpf_program *prog, void *ctx, size_t size)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = ctx, .ctx_size_in = size);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);

	return err ? -errno : (int)o.retval;
}

/* One row of a full read: what both versions produce. */
struct row {
	__u64 key;
	struct tc_rec rec;
};

struct rows {
	struct row *r;
	long n, cap;
	__u64 *keys;		/* bpf_map_lookup_batch() output */
	struct tc_rec *vals;
	long calls;		/* syscalls the last read made */
};

static int rows_reserve(struct rows *rs, long cap)
{
	void *r, *k, *v;

	if (cap <= rs->cap)
		return 0;
	r = realloc(rs->r, cap * sizeof(*rs->r));
	if (r)
		rs->r = r;
	k = realloc(rs->keys, cap * sizeof(*rs->keys));
	if (k)
		rs->keys = k;
	v = realloc(rs->vals, cap * sizeof(*rs->vals));
	if (v)
		rs->vals = v;
	if (!r || !k || !v)
		return -ENOMEM;
	rs->cap = cap;
	return 0;
}

/*
 * The arena version's full read: ds_hash_walk() over every table in the
 * mmap'd arena copies out each live element's key and record.  Runs while
 * the tracepoints insert and count: nodes and records are never freed
 * while the table lives (topcount deletes nothing), so every pointer
 * followed stays valid; a node inserted during the walk may or may not be
 * seen, as with any snapshot-free read.  Returns the rows or -ENOMEM.
 */
/* ds_hash_walk()'s visitor: one row per element. */
static int read_one(__u64 key, __u64 value, void *ctx)
{
	struct rows *rs = ctx;
	struct tc_rec *rec = (struct tc_rec *)value;

	if (rs->n == rs->cap && rows_reserve(rs, rs->cap * 2 + 1024))
		return -1;
	rs->r[rs->n].key = key;
	rs->r[rs->n].rec.count = arena_atomic_load(&rec->count);
	memcpy(rs->r[rs->n].rec.comm, rec->comm, TC_COMM_LEN);
	rs->n++;
	return 0;
}

static long read_arena(struct topcount_bpf *skel, struct rows *rs)
{
	__u32 s;

	rs->n = 0;
	for (s = 0; s < skel->bss->nshards; s++)
		if (ds_hash_walk(skel->bss->shards[s], read_one, rs) < 0)
			return -ENOMEM;
	rs->calls = 0;
	return rs->n;
}

/*
 * The map version's full read: bpf_map_lookup_batch() in chunks of
 * TC_BATCH entries into rs->keys / rs->vals.  Returns the entries or a
 * negative errno.
 */
static long read_map(int fd, struct rows *rs)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u64 in = 0, out = 0;
	long n = 0, calls = 0;
	__u32 cnt;
	int err;

	for (;;) {
		if (rs->cap - n < TC_BATCH && rows_reserve(rs, rs->cap * 2 + TC_BATCH))
			return -ENOMEM;
		cnt = TC_BATCH;
		err = bpf_map_lookup_batch(fd, n ? &in : NULL, &out, rs->keys + n,
					   rs->vals + n, &cnt, &o);
		err = err ? -errno : 0;
		calls++;
		n += cnt;
		if (err == -ENOENT)
			break;
		if (err)
			return err;
		in = out;
	}
	rs->n = n;
	rs->calls = calls;
	return n;
}

/* The batch output as rows (not part of the timed read). */
static void map_rows(struct rows *rs)
{
	long i;

	for (i = 0; i < rs->n; i++) {
		rs->r[i].key = rs->keys[i];
		rs->r[i].rec = rs->vals[i];
	}
}

static int by_count(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->rec.count != y->rec.count)
		return x->rec.count < y->rec.count ? 1 : -1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static long full_read(struct topcount_bpf *skel, struct rows *rs)
{
	if (env.map)
		return read_map(bpf_map__fd(skel->maps.counts), rs);
	return read_arena(skel, rs);
}

/* One frame of the live view. */
static void show(struct topcount_bpf *skel, struct rows *rs, double read_ms, int final)
{
	char when[16];
	time_t t = time(NULL);
	__u64 total = 0;
	long i, shown = 0;

	if (env.map)
		map_rows(rs);
	for (i = 0; i < rs->n; i++)
		total += rs->r[i].rec.count;
	qsort(rs->r, rs->n, sizeof(*rs->r), by_count);
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	if (isatty(STDOUT_FILENO) && !final)
		printf("\033[H\033[2J");
	printf("%s %s  %s  %ld processes  %llu events  missed %llu  full read %.3f ms",
	       final ? "final" : when, env.map ? "map-hash" : "arena-hash",
	       env.execve ? "execve" : "openat", rs->n, (unsigned long long)total,
	       (unsigned long long)(env.map ? skel->bss->missed_map : skel->bss->missed_arena),
	       read_ms);
	if (env.map)
		printf(" (%ld lookup_batch calls)\n", rs->calls);
	else
		printf(" (walked in the arena, no syscall)\n");
	printf("%8s  %-16s %10s\n", "PID", "COMM", "COUNT");
	for (i = 0; i < rs->n && shown < env.top; i++) {
		if (env.pid && rs->r[i].key != (__u64)env.pid)
			continue;
		printf("%8llu  %-16.16s %10llu\n", (unsigned long long)rs->r[i].key,
		       rs->r[i].rec.comm, (unsigned long long)rs->r[i].rec.count);
		shown++;
	}
	if (env.pid && !shown)
		printf("%8ld  %-16s %10s\n", env.pid, "(no events)", "0");
	fflush(stdout);
}

static struct bpf_program *hook(struct topcount_bpf *skel, int map)
{
	if (env.execve)
		return map ? skel->progs.tc_execve_map : skel->progs.tc_execve_arena;
	return map ? skel->progs.tc_openat_map : skel->progs.tc_openat_arena;
}

static int live(struct topcount_bpf *skel)
{
	struct rows rs = {};
	struct bpf_link *link;
	double start, next_show, t0, ms = 0;
	long n;
	int err = 0;

	if (rows_reserve(&rs, TC_MAP_KEYS))
		return -ENOMEM;
	link = bpf_program__attach(hook(skel, env.map));
	if (!link) {
		fprintf(stderr, "topcount: attaching the tracepoint failed: %s\n", strerror(errno));
		err = -1;
		goto out;
	}
	printf("topcount: counting %s per process in ", env.execve ? "execve" : "openat");
	if (env.map)
		printf("a BPF hash map (read: bpf_map_lookup_batch)");
	else
		printf("%d arena hash tables (read: a walk in memory)", env.shards);
	printf("; top %d every %g s%s\n", env.top, env.interval,
	       env.duration ? "" : " (Ctrl-C to stop)");
	fflush(stdout);
	start = now_s();
	next_show = start + env.interval;
	while (!stop) {
		/* The tracepoints cannot take pages from the kernel: keep their
		 * reserve stocked from here. */
		if (!env.map)
			ds_user_refill(TC_RESERVE);
		usleep(100000);
		if (env.duration && now_s() - start >= env.duration)
			break;
		if (now_s() < next_show)
			continue;
		next_show += env.interval;
		t0 = now_s();
		n = full_read(skel, &rs);
		ms = (now_s() - t0) * 1e3;
		if (n < 0) {
			fprintf(stderr, "topcount: reading the table failed: %s\n", strerror(-n));
			err = -1;
			goto out;
		}
		show(skel, &rs, ms, 0);
	}
	/* Detach first: the last frame is the final count. */
	bpf_link__destroy(link);
	link = NULL;
	t0 = now_s();
	n = full_read(skel, &rs);
	ms = (now_s() - t0) * 1e3;
	if (n < 0) {
		fprintf(stderr, "topcount: reading the table failed: %s\n", strerror(-n));
		err = -1;
		goto out;
	}
	show(skel, &rs, ms, 1);
out:
	bpf_link__destroy(link);
	free(rs.r);
	free(rs.keys);
	free(rs.vals);
	return err;
}

/* ------------------------------------------------------------ the bench */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Keys first .. end - 1 into one version, in chunks. */
static int fill(struct topcount_bpf *skel, int map, long first, long end)
{
	struct tc_fill_args a = {};
	int err;

	while (first < end) {
		a.first = first;
		a.n = end - first < TC_FILL_CHUNK ? end - first : TC_FILL_CHUNK;
		a.map = map;
		err = run_prog(skel->progs.tc_fill, &a, sizeof(a));
		if (err || a.rc) {
			fprintf(stderr, "topcount: filling the %s failed at key %ld: %s\n",
				map ? "map" : "arena table", first,
				err ? strerror(-err) : ds_strerror(a.rc));
			return -1;
		}
		first += a.n;
	}
	return 0;
}

/* A read saw exactly the filled keys 0 .. size - 1 with count = index
 * (the fill's values): the measured reads are complete and right. */
static int check_rows(struct rows *rs, long size)
{
	__u64 sum = 0, want = (__u64)size * (size - 1) / 2;
	long i, n = 0, bad = 0;

	for (i = 0; i < rs->n; i++) {
		if (rs->r[i].key - TC_FILL_BASE != rs->r[i].rec.count ||
		    strcmp(rs->r[i].rec.comm, "fill"))
			bad++;
		sum += rs->r[i].rec.count;
		n++;
	}
	return n == size && !bad && sum == want ? 0 : -1;
}

struct prog_stats {
	__u64 ns, cnt;
};

static void prog_stats(struct bpf_program *prog, struct prog_stats *s)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	memset(s, 0, sizeof(*s));
	if (!bpf_prog_get_info_by_fd(bpf_program__fd(prog), &info, &len)) {
		s->ns = info.run_time_ns;
		s->cnt = info.run_cnt;
	}
}

/*
 * One round of the per-event bench: env.calls openat() calls that fail
 * at once (a path that does not exist), with hook @which attached (0: none,
 * 1: arena, 2: map).  Returns the loop's ns per call; *prog_ns gets the
 * hook program's own ns per run from the kernel's BPF statistics.
 */
static double event_round(struct topcount_bpf *skel, int which, double *prog_ns)
{
	struct bpf_program *prog = which ? hook(skel, which == 2) : NULL;
	struct bpf_link *link = NULL;
	struct prog_stats s0 = {}, s1 = {};
	double t0, t;
	long i;

	*prog_ns = 0;
	if (prog) {
		link = bpf_program__attach(prog);
		if (!link)
			return -1;
		prog_stats(prog, &s0);
	}
	t0 = now_s();
	for (i = 0; i < env.calls; i++)
		syscall(SYS_openat, AT_FDCWD, "/nonexistent/topcount-bench", O_RDONLY);
	t = (now_s() - t0) * 1e9 / env.calls;
	if (prog) {
		prog_stats(prog, &s1);
		bpf_link__destroy(link);
		if (s1.cnt > s0.cnt)
			*prog_ns = (double)(s1.ns - s0.ns) / (s1.cnt - s0.cnt);
	}
	return t;
}

#define TC_ROUNDS 5

static struct topcount_bpf *tc_open(long map_keys);
static void tc_close(struct topcount_bpf *skel);

/*
 * One size of the bench, on an object of its own so that the map is sized
 * for that many keys (a hash map's buckets are its max_entries rounded up
 * to a power of two, and a batch read visits every bucket), the way an
 * application would size it.  The arena hash has its fixed bucket count.
 */
static int bench_size(long size, struct rows *arows, struct rows *mrows)
{
	double ta[1000], tm[1000], loop[3][TC_ROUNDS], pns[3][TC_ROUNDS], t0, fa, fm;
	struct topcount_bpf *skel;
	int r, w, err = -1;

	skel = tc_open(size + size / 16 + 1024);
	if (!skel)
		return -1;
	t0 = now_s();
	if (fill(skel, 0, 0, size))
		goto out;
	fa = (now_s() - t0) * 1e9 / size;
	t0 = now_s();
	if (fill(skel, 1, 0, size))
		goto out;
	fm = (now_s() - t0) * 1e9 / size;
	if (rows_reserve(arows, size + 1024) || rows_reserve(mrows, size + TC_BATCH))
		goto out;
	/* Alternate the two reads so that both see the same machine. */
	for (r = 0; r < env.reads; r++) {
		t0 = now_s();
		if (read_arena(skel, arows) < 0)
			goto out;
		ta[r] = (now_s() - t0) * 1e3;
		t0 = now_s();
		if (read_map(bpf_map__fd(skel->maps.counts), mrows) < 0)
			goto out;
		tm[r] = (now_s() - t0) * 1e3;
	}
	map_rows(mrows);
	if (check_rows(arows, size) || check_rows(mrows, size)) {
		fprintf(stderr, "topcount: a full read is wrong at %ld keys "
			"(arena %ld rows, map %ld rows)\n", size, arows->n, mrows->n);
		goto out;
	}
	/*
	 * Off, arena, map, off, arena, map, ...: the same noise for all.  Each
	 * event counts on a random filled key, as if it came from one of
	 * @size processes; the counts change, so the reads were checked first.
	 */
	skel->bss->bench_keys = size;
	for (r = 0; r < TC_ROUNDS; r++)
		for (w = 0; w < 3; w++) {
			loop[w][r] = event_round(skel, w, &pns[w][r]);
			if (loop[w][r] < 0)
				goto out;
		}
	printf("%9ld %10.0f %10.0f %12.3f %8.3f %6.1fx %9ld | %10.0f %10.0f %10.0f %10.0f %10.0f\n",
	       size, fa, fm, median(ta, env.reads), median(tm, env.reads),
	       median(tm, env.reads) / median(ta, env.reads), mrows->calls,
	       median(loop[0], TC_ROUNDS), median(loop[1], TC_ROUNDS) - median(loop[0], TC_ROUNDS),
	       median(loop[2], TC_ROUNDS) - median(loop[0], TC_ROUNDS),
	       median(pns[1], TC_ROUNDS), median(pns[2], TC_ROUNDS));
	fflush(stdout);
	err = 0;
out:
	tc_close(skel);
	return err;
}

static int bench(void)
{
	struct rows arows = {}, mrows = {};
	int i, stats_fd, err = 0;

	env.execve = 0;		/* the per-event bench runs openat() */
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		fprintf(stderr, "topcount: BPF run-time statistics unavailable (%s)\n",
			strerror(errno));
	printf("topcount bench: one full read of the table (median of %d reads), and what one\n"
	       "openat event costs the kernel (%ld calls a round, median of %d rounds)\n",
	       env.reads, env.calls, TC_ROUNDS);
	printf("%9s %10s %10s %12s %8s %7s %9s | %10s %10s %10s %10s %10s\n",
	       "keys", "fill-arena", "fill-map", "read-arena", "read-map", "map/ar",
	       "batch-sys", "loop-off", "+arena", "+map", "prog-arena", "prog-map");
	printf("%9s %10s %10s %12s %8s %7s %9s | %10s %10s %10s %10s %10s\n",
	       "", "ns/key", "ns/key", "ms", "ms", "ratio", "calls",
	       "ns/call", "ns/call", "ns/call", "ns/run", "ns/run");
	for (i = 0; i < env.nsizes && !stop && !err; i++)
		err = bench_size(env.sizes[i], &arows, &mrows);
	if (!err && !stop)
		printf("check: every full read returned exactly the keys filled, with their counts\n");
	if (stats_fd >= 0)
		close(stats_fd);
	free(arows.r);
	free(arows.keys);
	free(arows.vals);
	free(mrows.r);
	free(mrows.keys);
	free(mrows.vals);
	return err;
}

/*
 * Open, size and load the object, attach the library to its arena, create
 * the table and stock the page reserve.  Sizes are set before load: the
 * arena's in pages (address space; pages are taken as needed), the map's
 * in entries (preallocated, as BPF hash maps are by default).  NULL (with
 * one line on stderr) on failure.
 */
static struct topcount_bpf *tc_open(long map_keys)
{
	struct topcount_bpf *skel;
	int err;

	skel = topcount_bpf__open();
	if (!skel) {
		fprintf(stderr, "topcount: opening the BPF object failed\n");
		return NULL;
	}
	bpf_map__set_max_entries(skel->maps.arena, 1U << 18);
	bpf_map__set_max_entries(skel->maps.counts, map_keys);
	err = topcount_bpf__load(skel);
	if (err) {
		fprintf(stderr, "topcount: loading failed (root? a kernel with BPF arenas?)\n");
		goto fail;
	}
	err = ds_user_attach(skel->obj, TC_RESERVE / 2);
	if (err)
		goto fail;
	skel->bss->nshards = env.shards;
	if (run_prog(skel->progs.tc_setup, NULL, 0)) {
		fprintf(stderr, "topcount: creating the arena tables failed\n");
		goto fail;
	}
	ds_user_refill(TC_RESERVE);
	return skel;
fail:
	tc_close(skel);
	return NULL;
}

static void tc_close(struct topcount_bpf *skel)
{
	ds_user_detach();
	topcount_bpf__destroy(skel);
}

int main(int argc, char **argv)
{
	static const struct argp argp = { opts, parse_arg, NULL, doc, NULL, NULL, NULL };
	struct topcount_bpf *skel;
	int err;

	argp_err_exit_status = 2;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (env.bench)
		return bench() ? 1 : 0;
	skel = tc_open(TC_MAP_KEYS);
	if (!skel)
		return 1;
	err = live(skel);
	tc_close(skel);
	return err ? 1 : 0;
}
