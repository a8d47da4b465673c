// SPDX-License-Identifier: GPL-2.0
/*
 * alloc_bench - alloc+free pairs per second per context: the arena
 * allocator in the kernel (a SEC("syscall") loop, 1 and 2 kernel threads)
 * and in userspace (1 and 2 threads), with its per-context caches and with
 * the shared lists only, against glibc malloc/free in the same run.
 * Each figure is the median of --runs runs after one discarded warm-up.
 * Prints an aligned table and writes JSON (--json).  Root (BPF).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <libarena-ds/user.h>
#include "alloc.h"
#include "alloc_bench.h"
#include "bench_user.h"
#include "alloc_bench.skel.h"


enum ctx_kind { CTX_KERNEL, CTX_USER, CTX_GLIBC };
static const char *const ctx_names[] = { "kernel", "userspace", "glibc" };
static const char *const pat_names[] = { "pair", "burst64" };

static struct alloc_bench_bpf *skel;
static __u32 opt_pairs = 2000000, opt_runs = 5, opt_size = 64;
static const char *opt_json = "bench/alloc_results.json";

struct job {
	pthread_t tid;
	int idx;
	enum ctx_kind ctx;
	int pattern;
	pthread_barrier_t *barrier;
	double rate;		/* pairs per second */
	__u64 failed;
	int err;
};

static double now_s(void)
{
	return arena_now_ns() / 1e9;
}

static int run_prog(struct bpf_program *prog, void *ctx, size_t size)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = size);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		return -errno;
	return (int)opts.retval;
}

/* Userspace loops: the same shape as the BPF loop, one word written per
 * object so that no compiler can drop a malloc/free pair. */
static __u64 user_loop(enum ctx_kind ctx, int pattern, __u32 pairs, __u64 *failed)
{
	void *burst[ALLOC_BURST];
	__u64 done = 0;
	__u32 i, k, n;

	if (pattern == ALLOC_PAT_PAIR) {
		for (i = 0; i < pairs; i++) {
			void *p = ctx == CTX_GLIBC ? malloc(opt_size) : bpf_arena_alloc(opt_size);

			if (!p) {
				(*failed)++;
				continue;
			}
			*(volatile __u64 *)p = i;
			if (ctx == CTX_GLIBC)
				free(p);
			else
				bpf_arena_free(p);
			done++;
		}
		return done;
	}
	while (done < pairs) {
		for (n = 0, k = 0; k < ALLOC_BURST; k++) {
			void *p = ctx == CTX_GLIBC ? malloc(opt_size) : bpf_arena_alloc(opt_size);

			if (!p) {
				(*failed)++;
				continue;
			}
			*(volatile __u64 *)p = k;
			burst[n++] = p;
		}
		if (!n)
			break;
		for (k = 0; k < n; k++) {
			if (ctx == CTX_GLIBC)
				free(burst[k]);
			else
				bpf_arena_free(burst[k]);
		}
		done += n;
	}
	return done;
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	double t0;
	__u64 done;

	pin(j->idx);
	arena_set_thread_slot(j->idx);
	if (j->ctx == CTX_KERNEL) {
		struct alloc_loop_args a = { .pairs = opt_pairs, .size = opt_size,
					     .pattern = j->pattern };

		pthread_barrier_wait(j->barrier);
		j->err = run_prog(skel->progs.alloc_loop, &a, sizeof(a));
		j->rate = a.ns ? a.done / (a.ns / 1e9) : 0;
		j->failed = a.failed;
		return NULL;
	}
	pthread_barrier_wait(j->barrier);
	t0 = now_s();
	done = user_loop(j->ctx, j->pattern, opt_pairs, &j->failed);
	j->rate = done / (now_s() - t0);
	return NULL;
}

/* One run: @nthreads contexts at once; the mean rate per context. */
static double one_run(enum ctx_kind ctx, int pattern, int nthreads, __u64 *failed)
{
	struct job jobs[2];
	pthread_barrier_t barrier;
	double sum = 0;
	int i;

	memset(jobs, 0, sizeof(jobs));
	pthread_barrier_init(&barrier, NULL, nthreads);
	for (i = 0; i < nthreads; i++) {
		jobs[i].idx = i;
		jobs[i].ctx = ctx;
		jobs[i].pattern = pattern;
		jobs[i].barrier = &barrier;
		pthread_create(&jobs[i].tid, NULL, job_main, &jobs[i]);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(jobs[i].tid, NULL);
		sum += jobs[i].rate;
		*failed += jobs[i].failed;
		if (jobs[i].err < 0)
			fprintf(stderr, "alloc_bench: alloc_loop: %s\n", strerror(-jobs[i].err));
	}
	pthread_barrier_destroy(&barrier);
	/* Top the reserve up between runs (the loops only use it). */
	run_prog(skel->progs.alloc_refill, NULL, 0);
	return sum / nthreads;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct row {
	enum ctx_kind ctx;
	int threads, pattern, caches;	/* caches: 1 on, 0 off, -1 n/a */
	double median, min, max;
	__u64 failed;
};

static void measure(struct row *r)
{
	double v[64];
	__u32 i;

	if (r->caches >= 0)
		arena_set_caches_off(!r->caches);
	one_run(r->ctx, r->pattern, r->threads, &r->failed);	/* warm-up */
	r->failed = 0;
	for (i = 0; i < opt_runs; i++)
		v[i] = one_run(r->ctx, r->pattern, r->threads, &r->failed);
	qsort(v, opt_runs, sizeof(v[0]), cmp_double);
	r->median = v[opt_runs / 2];
	r->min = v[0];
	r->max = v[opt_runs - 1];
	arena_set_caches_off(0);
}

static void usage(void)
{
	fprintf(stderr, "usage: alloc_bench [--pairs N] [--runs N (>= 3)] [--size BYTES] "
		"[--json FILE]\n");
}

int main(int argc, char **argv)
{
	struct row rows[32];
	int nrows = 0, i, t, pat, c;
	struct alloc_init_args ia = { .max_pages = ARENA_MAX_PAGES };
	FILE *f;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pairs") && i + 1 < argc)
			opt_pairs = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			opt_runs = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			opt_size = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			opt_json = argv[++i];
		else {
			usage();
			return 2;
		}
	}
	if (opt_runs < 3 || opt_runs > 64 || !opt_pairs || !opt_size || opt_size > ARENA_MAX_SMALL) {
		usage();
		return 2;
	}
	skel = alloc_bench_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "alloc_bench: loading the BPF programs failed (root? arena support?)\n");
		return 1;
	}
	if (run_prog(skel->progs.alloc_init, &ia, sizeof(ia)) < 0 || ia.rc) {
		fprintf(stderr, "alloc_bench: allocator set-up failed\n");
		return 1;
	}
	if (ds_user_attach(skel->obj, 16))
		return 1;

	for (pat = 0; pat < 2; pat++)
		for (t = 1; t <= 2; t++)
			for (c = CTX_KERNEL; c <= CTX_GLIBC; c++) {
				int caches;

				for (caches = 1; caches >= (c == CTX_GLIBC ? 1 : 0); caches--) {
					struct row *r = &rows[nrows++];

					memset(r, 0, sizeof(*r));
					r->ctx = c;
					r->threads = t;
					r->pattern = pat;
					r->caches = c == CTX_GLIBC ? -1 : caches;
					measure(r);
				}
			}

	printf("Allocator benchmark: alloc+free pairs per second per context, %u-byte objects,\n"
	       "%u pairs per context per run, median of %u runs (one warm-up discarded)\n\n",
	       opt_size, opt_pairs, opt_runs);
	printf("%-10s %-8s %-8s %-7s %14s %14s %14s %9s\n", "context", "threads", "pattern",
	       "caches", "pairs/s/ctx", "min", "max", "vs glibc");
	printf("%.*s\n", 92, "----------------------------------------------------------------"
	       "------------------------------------------------");
	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		double glibc = 0;
		int k;

		for (k = 0; k < nrows; k++)
			if (rows[k].ctx == CTX_GLIBC && rows[k].threads == r->threads &&
			    rows[k].pattern == r->pattern)
				glibc = rows[k].median;
		printf("%-10s %-8d %-8s %-7s %14.0f %14.0f %14.0f %8.2fx\n", ctx_names[r->ctx],
		       r->threads, pat_names[r->pattern],
		       r->caches < 0 ? "-" : r->caches ? "on" : "off", r->median, r->min, r->max,
		       glibc > 0 ? r->median / glibc : 0);
	}
	f = fopen(opt_json, "w");
	if (!f) {
		fprintf(stderr, "alloc_bench: cannot write %s: %s\n", opt_json, strerror(errno));
		alloc_bench_bpf__destroy(skel);
		return 1;
	}
	fprintf(f, "{\n  \"benchmark\": \"alloc+free pairs per second per context\",\n"
		"  \"object_size\": %u,\n  \"pairs_per_run\": %u,\n  \"runs\": %u,\n"
		"  \"statistic\": \"median\",\n  \"cpus\": %ld,\n  \"results\": [\n",
		opt_size, opt_pairs, opt_runs, sysconf(_SC_NPROCESSORS_ONLN));
	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		fprintf(f, "    {\"context\": \"%s\", \"threads\": %d, \"pattern\": \"%s\", "
			"\"caches\": %s, \"pairs_per_sec_per_ctx\": %.0f, \"min\": %.0f, "
			"\"max\": %.0f, \"failed\": %llu}%s\n", ctx_names[r->ctx], r->threads,
			pat_names[r->pattern],
			r->caches < 0 ? "null" : r->caches ? "true" : "false", r->median, r->min,
			r->max, (unsigned long long)r->failed, i + 1 < nrows ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	fclose(f);
	printf("\nwrote %s\n", opt_json);
	ds_user_detach();
	alloc_bench_bpf__destroy(skel);
	return 0;
}
