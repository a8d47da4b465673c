// SPDX-License-Identifier: GPL-2.0
/*
 * channel.c - a kernel -> user -> kernel channel on libarena-ds queues,
 * and the same over the kernel's ring buffers, at a fixed offered rate.
 *
 * The main thread runs the kernel's producer (ch_produce) at --rate items
 * a second; worker threads take each item from the down queue and put it
 * on the up queue, then run the kernel's consumer (ch_drain_*), which
 * checks that every item comes back exactly once and records its round
 * trip.  The same loop carries the items over BPF_MAP_TYPE_RINGBUF (down)
 * and BPF_MAP_TYPE_USER_RINGBUF (up) with --ringbuf; --compare runs both
 * at the same rate and prints the ratios.  Both kinds are busy-polled by
 * the workers and the kernel consumer runs after each batch of replies:
 * only the data path differs.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libarena-ds/ds_mpmc.h>
#include <libarena-ds/ds_msqueue.h>
#include <libarena-ds/ds_spsc.h>
#include <libarena-ds/user.h>
#include "channel.h"
#include "channel.skel.h"

#define CH_BATCH	256		/* items a worker moves before running the consumer */
#define CH_MAX_WORKERS	16
#define CH_FLAT_OUT	(1ULL << 26)	/* items numbered in a --rate 0 run at most */
#define CH_SETTLE_S	3.0		/* wait this long for the last replies */

static struct env {
	int kind;		/* enum ch_queue */
	int compare;
	double rate;		/* items a second; 0: as fast as the window allows */
	double duration;
	int workers;
	long window;		/* items in flight at most */
} env = { .kind = CH_MPMC, .rate = 20000, .duration = 3, .workers = 1, .window = 4096 };

const char *argp_program_version = "channel 1.0";
static const char doc[] =
	"Send numbered items from the kernel to userspace workers and back into the\n"
	"kernel, at a fixed offered rate, through two libarena-ds queues in the arena\n"
	"(or, with --ringbuf, a BPF ringbuf down and a user ringbuf back).  Every\n"
	"item must come back exactly once; prints throughput and round-trip latency.\n"
	"\n"
	"USAGE: channel [-q mpmc|msqueue|spsc] [--ringbuf|--compare] [-r RATE]\n"
	"               [-d SECS] [-w WORKERS] [--window N]\n"
	"\n"
	"EXAMPLES:\n"
	"    channel                   # mpmc queues, 20000 items/s for 3 s\n"
	"    channel -q spsc -r 50k    # spsc rings at 50000 items/s\n"
	"    channel -q msqueue -w 2   # unbounded queues, two workers\n"
	"    channel --ringbuf         # the kernel's ring buffers instead\n"
	"    channel --compare -r 0    # both, as fast as they go\n";

enum { OPT_WINDOW = 256 };

static const struct argp_option opts[] = {
	{ "queue", 'q', "KIND", 0, "arena queues: mpmc (default), msqueue or spsc", 0 },
	{ "ringbuf", 'R', NULL, 0, "BPF ringbuf down, user ringbuf back (the comparison)", 0 },
	{ "compare", 'c', NULL, 0, "run the arena queues, then the ring buffers; ratios", 0 },
	{ "rate", 'r', "RATE", 0,
	  "items offered a second, e.g. 20000, 50k, 1M/s; 0: flat out (default 20000)", 0 },
	{ "duration", 'd', "SECS", 0, "seconds of sending (0.1..3600, default 3)", 0 },
	{ "workers", 'w', "N", 0, "worker threads (1..16, default 1; spsc and ringbuf: 1)", 0 },
	{ "window", OPT_WINDOW, "N", 0, "items in flight at most (1..1000000, default 4096)", 0 },
	{},
};

static double parse_rate(struct argp_state *state, const char *arg)
{
	char *end;
	double v;

	v = strtod(arg, &end);
	if (end != arg && (*end == 'k' || *end == 'K'))
		v *= 1e3, end++;
	else if (end != arg && (*end == 'm' || *end == 'M'))
		v *= 1e6, end++;
	if (!strcmp(end, "/s"))
		end += 2;
	if (end == arg || *end || !(v >= 0 && v <= 1e8))
		argp_error(state, "bad rate '%s' (items a second, 0..100M)", arg);
	return v;
}

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

/* Bad input: one line from argp (and its "Try --help" hint), exit 2. */
static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char *end;

	switch (key) {
	case 'q':
		if (!strcmp(arg, "mpmc"))
			env.kind = CH_MPMC;
		else if (!strcmp(arg, "msqueue"))
			env.kind = CH_MSQUEUE;
		else if (!strcmp(arg, "spsc"))
			env.kind = CH_SPSC;
		else
			argp_error(state, "unknown queue '%s' (mpmc, msqueue or spsc)", arg);
		return 0;
	case 'R':
		env.kind = CH_RINGBUF;
		return 0;
	case 'c':
		env.compare = 1;
		return 0;
	case 'r':
		env.rate = parse_rate(state, arg);
		return 0;
	case 'd':
		env.duration = strtod(arg, &end);
		if (end == arg || *end || !(env.duration >= 0.1 && env.duration <= 3600))
			argp_error(state, "bad number of seconds '%s' (want 0.1..3600)", arg);
		return 0;
	case 'w':
		env.workers = parse_long(state, arg, 1, CH_MAX_WORKERS);
		return 0;
	case OPT_WINDOW:
		env.window = parse_long(state, arg, 1, 1000000);
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return 0;
	case ARGP_KEY_END:
		if (env.compare && env.kind == CH_RINGBUF)
			argp_error(state, "--compare runs the ring buffers itself: drop --ringbuf");
		if (env.workers > 1 && (env.kind == CH_SPSC || env.kind == CH_RINGBUF ||
					env.compare))
			argp_error(state, "spsc and the ring buffers take one worker (-w 1)");
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

static const char *kind_name(int kind)
{
	static const char *const names[] = {
		"arena mpmc", "arena msqueue", "arena spsc", "ringbuf/user-ringbuf",
	};

	return names[kind];
}

/* The offered rate, for printing. */
static const char *rate_str(void)
{
	static char s[32];

	if (env.rate > 0)
		snprintf(s, sizeof(s), "%.0f/s", env.rate);
	else
		snprintf(s, sizeof(s), "flat out");
	return s;
}

/* One run: its object, its workers' shared state, its result. */
struct run {
	int kind;
	struct channel_bpf *skel;
	struct ring_buffer *rb;
	struct user_ring_buffer *urb;
	__u64 *seen;			/* the kernel's bitmap, mmap'd */
	size_t seen_bytes;
	__u64 limit;			/* items this run may number */
	volatile int done;		/* workers stop */
	__u64 pushed;			/* replies put on the up channel (atomic) */
	int failed;			/* a worker met an error it cannot retry */
	/* result */
	__u64 sent, back, dups, unknown, missing;
	double secs, p50, p99, p999, max;
	int ok;
};

/* Replies the kernel has taken so far (any outcome). */
static __u64 drained(struct run *r)
{
	struct channel_bpf__bss *b = r->skel->bss;

	return __atomic_load_n(&b->received, __ATOMIC_ACQUIRE) +
	       __atomic_load_n(&b->duplicates, __ATOMIC_ACQUIRE) +
	       __atomic_load_n(&b->unknown, __ATOMIC_ACQUIRE);
}

static int run_prog(struct bpf_program *prog, void *ctx, size_t size)
{
	/* a syscall program's context is copied back into ctx_in */
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = ctx, .ctx_size_in = size);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);

	return err ? -errno : (int)o.retval;
}

/* Run the kernel's consumer once.  Returns the replies it took. */
static __u32 drain(struct run *r)
{
	struct ch_drain_args a = { .max = 4096 };
	struct bpf_program *p = r->kind == CH_RINGBUF ? r->skel->progs.ch_drain_ringbuf :
							r->skel->progs.ch_drain_arena;

	if (run_prog(p, &a, sizeof(a)))
		return 0;
	return a.got;
}

/* The userspace ends of the arena queues. */
static int q_take(struct run *r, __u64 *seq, __u64 *t0)
{
	struct channel_bpf__bss *b = r->skel->bss;

	switch (r->kind) {
	case CH_MPMC:
		return ds_mpmc_pop(b->down_mpmc, seq, t0);
	case CH_MSQUEUE:
		return ds_msqueue_pop(b->down_ms, seq, t0);
	default:
		return ds_spsc_pop(b->down_spsc, seq, t0);
	}
}

static int q_reply(struct run *r, __u64 seq, __u64 t0)
{
	struct channel_bpf__bss *b = r->skel->bss;

	switch (r->kind) {
	case CH_MPMC:
		return ds_mpmc_insert(b->up_mpmc, seq, t0);
	case CH_MSQUEUE:
		return ds_msqueue_insert(b->up_ms, seq, t0);
	default:
		return ds_spsc_insert(b->up_spsc, seq, t0);
	}
}

/*
 * An arena worker: move up to CH_BATCH items from the down queue to the up
 * queue, then let the kernel take the replies.  A full up queue is drained
 * on the spot.  Idle: drain what is still waiting, yield the CPU.
 */
static void *worker_arena(void *arg)
{
	struct run *r = arg;
	__u64 seq, t0;
	int n, rc;

	while (!r->done) {
		for (n = 0; n < CH_BATCH && !r->failed; n++) {
			if (q_take(r, &seq, &t0))
				break;
			while ((rc = q_reply(r, seq, t0)) != DS_SUCCESS) {
				if (rc != DS_ERROR_FULL && rc != DS_ERROR_BUSY) {
					fprintf(stderr, "channel: reply %llu lost: %s\n",
						(unsigned long long)seq, ds_strerror(rc));
					r->failed = 1;
					break;
				}
				drain(r);
			}
		}
		if (n) {
			__atomic_add_fetch(&r->pushed, n, __ATOMIC_RELEASE);
			drain(r);
			continue;
		}
		if (__atomic_load_n(&r->pushed, __ATOMIC_ACQUIRE) > drained(r))
			drain(r);
		sched_yield();
	}
	return NULL;
}

/* A ring buffer sample: send it back through the user ring buffer. */
static int on_sample(void *ctx, void *data, size_t len)
{
	struct run *r = ctx;
	struct ch_item *out;

	if (len != sizeof(*out))
		return -EINVAL;
	while (!(out = user_ring_buffer__reserve(r->urb, sizeof(*out)))) {
		if (errno != ENOSPC || r->done) {
			r->failed = 1;
			return -errno;
		}
		drain(r);	/* the reply ring is full: let the kernel take some */
	}
	memcpy(out, data, sizeof(*out));
	user_ring_buffer__submit(r->urb, out);
	__atomic_add_fetch(&r->pushed, 1, __ATOMIC_RELEASE);
	return 0;
}

/* The ring buffer worker: the same loop over the kernel's channels. */
static void *worker_ringbuf(void *arg)
{
	struct run *r = arg;
	int n;

	while (!r->done) {
		n = ring_buffer__consume(r->rb);
		if (n > 0) {
			drain(r);
			continue;
		}
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "channel: reading the ring buffer failed: %s\n",
				strerror(-n));
			r->failed = 1;
			break;
		}
		if (__atomic_load_n(&r->pushed, __ATOMIC_ACQUIRE) > drained(r))
			drain(r);
		sched_yield();
	}
	return NULL;
}

/* p-quantile (0..1) of a histogram holding @n values, in ns. */
static double quantile(const __u64 *h, __u64 n, double p)
{
	__u64 want = (__u64)ceil(p * n), acc = 0;
	__u32 b;

	if (!n)
		return 0;
	for (b = 0; b < CH_NBUCKETS; b++) {
		acc += h[b];
		if (acc >= want && h[b])
			return ch_bucket_ns(b);
	}
	return ch_bucket_ns(CH_NBUCKETS - 1);
}

/* Open, size and load the object; create the queues or ring buffers. */
static int run_open(struct run *r)
{
	struct channel_bpf *skel;
	__u64 words = (r->limit + 63) / 64;
	int err;

	skel = r->skel = channel_bpf__open();
	if (!skel) {
		fprintf(stderr, "channel: opening the BPF object failed\n");
		return -1;
	}
	bpf_map__set_max_entries(skel->maps.arena, 1U << 16);
	bpf_map__set_max_entries(skel->maps.seen, words);
	skel->bss->queue_kind = r->kind;
	skel->bss->limit = r->limit;
	err = channel_bpf__load(skel);
	if (err) {
		fprintf(stderr, "channel: loading failed (root? a kernel with BPF arenas?)\n");
		return -1;
	}
	r->seen_bytes = (words * 8 + 4095) & ~4095ULL;
	r->seen = mmap(NULL, r->seen_bytes, PROT_READ, MAP_SHARED,
		       bpf_map__fd(skel->maps.seen), 0);
	if (r->seen == MAP_FAILED) {
		r->seen = NULL;
		fprintf(stderr, "channel: mapping the bitmap failed: %s\n", strerror(errno));
		return -1;
	}
	if (r->kind == CH_RINGBUF) {
		r->rb = ring_buffer__new(bpf_map__fd(skel->maps.down_rb), on_sample, r, NULL);
		r->urb = user_ring_buffer__new(bpf_map__fd(skel->maps.up_urb), NULL);
		if (!r->rb || !r->urb) {
			fprintf(stderr, "channel: creating the ring buffers failed\n");
			return -1;
		}
		return 0;
	}
	err = ds_user_attach(skel->obj, 0);
	if (!err)
		err = run_prog(skel->progs.ch_setup, NULL, 0);
	if (err) {
		fprintf(stderr, "channel: creating the queues failed\n");
		return -1;
	}
	return 0;
}

static void run_close(struct run *r)
{
	if (r->seen)
		munmap(r->seen, r->seen_bytes);
	user_ring_buffer__free(r->urb);
	ring_buffer__free(r->rb);
	if (r->kind != CH_RINGBUF)
		ds_user_detach();
	channel_bpf__destroy(r->skel);
}

/* Every item 0 .. sent - 1 came back exactly once, and nothing else did. */
static void run_check(struct run *r)
{
	struct channel_bpf__bss *b = r->skel->bss;
	__u64 i, once = 0, words = (r->limit + 63) / 64, beyond = 0;

	for (i = 0; i < words; i++) {
		if (i * 64 + 64 <= r->sent) {
			once += __builtin_popcountll(r->seen[i]);
		} else if (i * 64 < r->sent) {
			once += __builtin_popcountll(r->seen[i] & ((1ULL << (r->sent - i * 64)) - 1));
			beyond += __builtin_popcountll(r->seen[i] >> (r->sent - i * 64));
		} else {
			beyond += __builtin_popcountll(r->seen[i]);
		}
	}
	r->back = b->received;
	r->dups = b->duplicates;
	r->unknown = b->unknown + beyond;
	r->missing = r->sent - once;
	r->ok = !r->failed && r->back == r->sent && once == r->sent && !r->dups && !r->unknown;
}

static void progress(struct run *r, double t, __u64 *last_hist, __u64 *last_back)
{
	__u64 h[CH_NBUCKETS], n = 0, back = r->skel->bss->received;
	__u32 i;

	for (i = 0; i < CH_NBUCKETS; i++) {
		h[i] = r->skel->bss->hist[i] - last_hist[i];
		last_hist[i] += h[i];
		n += h[i];
	}
	printf("%6.1f s  sent %9llu  back %9llu  in flight %5llu  back/s %8llu  "
	       "p50 %7.1f us  p99 %7.1f us\n", t, (unsigned long long)r->sent,
	       (unsigned long long)back, (unsigned long long)(r->sent - back),
	       (unsigned long long)(back - *last_back),
	       quantile(h, n, 0.5) / 1e3, quantile(h, n, 0.99) / 1e3);
	fflush(stdout);
	*last_back = back;
}

/*
 * One run of @kind: the main thread offers items at env.rate (a window of
 * env.window in flight at most) for env.duration, waits for the last
 * replies, stops the workers, checks.  Returns 0 when it ran (r->ok says
 * whether the check passed), -1 when it could not.
 */
static int run_one(struct run *r, int kind)
{
	static __u64 last_hist[CH_NBUCKETS];
	struct ch_produce_args a;
	pthread_t tid[CH_MAX_WORKERS];
	__u64 due, want, total, last_back = 0, back;
	double start, t, next_report, end_send;
	int i, nw = 0, err = -1;
	struct timespec ts;

	memset(r, 0, sizeof(*r));
	memset(last_hist, 0, sizeof(last_hist));
	r->kind = kind;
	total = env.rate > 0 ? (__u64)ceil(env.rate * env.duration) : CH_FLAT_OUT;
	r->limit = total;
	if (run_open(r))
		goto out;
	printf("channel: kernel -> %d worker%s -> kernel over %s; offered %s for %g s "
	       "(window %ld)\n", env.workers, env.workers > 1 ? "s" : "", kind_name(kind),
	       rate_str(), env.duration, env.window);
	fflush(stdout);
	for (nw = 0; nw < env.workers; nw++) {
		if (pthread_create(&tid[nw], NULL,
				   kind == CH_RINGBUF ? worker_ringbuf : worker_arena, r)) {
			fprintf(stderr, "channel: starting a worker failed\n");
			goto stop;
		}
	}
	start = now_s();
	next_report = start + 1;
	end_send = start + env.duration;
	while (!stop && !r->failed && r->sent < total) {
		t = now_s();
		if (t >= next_report) {
			progress(r, t - start, last_hist, &last_back);
			next_report += 1;
		}
		if (t >= end_send && env.rate == 0)
			break;
		due = env.rate > 0 ? (__u64)((t - start) * env.rate) + 1 : total;
		if (due > total)
			due = total;
		back = drained(r);
		want = due > r->sent ? due - r->sent : 0;
		if (r->sent - back + want > (__u64)env.window)
			want = (__u64)env.window > r->sent - back ? env.window - (r->sent - back) : 0;
		if (want > CH_BATCH)
			want = CH_BATCH;
		if (want) {
			a.first = r->sent;
			a.n = want;
			a.sent = 0;
			if (run_prog(r->skel->progs.ch_produce, &a, sizeof(a))) {
				fprintf(stderr, "channel: running the producer failed\n");
				goto stop;
			}
			r->sent += a.sent;
			if (a.sent == want)
				continue;
			sched_yield();	/* the down channel is full */
		} else if (env.rate > 0 && due <= r->sent) {
			/* sleep until the next item is due */
			t = r->sent / env.rate - (now_s() - start);
			if (t > 0) {
				ts.tv_sec = (time_t)t;
				ts.tv_nsec = (long)((t - ts.tv_sec) * 1e9);
				nanosleep(&ts, NULL);
			}
		} else {
			sched_yield();	/* the window is full */
		}
	}
	/* Let the last replies come home. */
	t = now_s();
	while (drained(r) < r->sent && !r->failed && now_s() - t < CH_SETTLE_S)
		usleep(1000);
	r->secs = now_s() - start;
	err = 0;
stop:
	r->done = 1;
	for (i = 0; i < nw; i++)
		pthread_join(tid[i], NULL);
	if (!err) {
		__u64 *h = r->skel->bss->hist, n = r->skel->bss->received;

		while (drain(r))
			;	/* nothing may be left waiting */
		run_check(r);
		r->p50 = quantile(h, n, 0.5) / 1e3;
		r->p99 = quantile(h, n, 0.99) / 1e3;
		r->p999 = quantile(h, n, 0.999) / 1e3;
		r->max = quantile(h, n, 1.0) / 1e3;
		printf("check: %llu sent, %llu came back exactly once (%llu duplicates, "
		       "%llu missing, %llu unknown): %s\n",
		       (unsigned long long)r->sent, (unsigned long long)r->back,
		       (unsigned long long)r->dups, (unsigned long long)r->missing,
		       (unsigned long long)r->unknown, r->ok ? "OK" : "FAIL");
		printf("%s: %.0f items/s over %.2f s; round trip p50 %.1f us, p99 %.1f us, "
		       "p99.9 %.1f us, max %.1f us\n", kind_name(kind), r->back / r->secs,
		       r->secs, r->p50, r->p99, r->p999, r->max);
		fflush(stdout);
	}
out:
	run_close(r);
	return err;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { opts, parse_arg, NULL, doc, NULL, NULL, NULL };
	static struct run runs[2];
	int i, err;

	argp_err_exit_status = 2;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = run_one(&runs[0], env.kind);
	if (err || !env.compare)
		return err || !runs[0].ok ? 1 : 0;
	err = run_one(&runs[1], CH_RINGBUF);
	if (err)
		return 1;
	printf("\ncompare: offered %s for %g s, 1 worker\n", rate_str(), env.duration);
	printf("  %-22s %10s %9s %9s %9s  %s\n", "channel", "items/s", "p50 us", "p99 us",
	       "p99.9 us", "check");
	for (i = 0; i < 2; i++)
		printf("  %-22s %10.0f %9.1f %9.1f %9.1f  %s\n", kind_name(runs[i].kind),
		       runs[i].back / runs[i].secs, runs[i].p50, runs[i].p99, runs[i].p999,
		       runs[i].ok ? "OK" : "FAIL");
	printf("  %-22s %9.2fx %8.2fx %8.2fx %8.2fx\n", "ringbuf / arena",
	       (runs[1].back / runs[1].secs) / (runs[0].back / runs[0].secs),
	       runs[1].p50 / runs[0].p50, runs[1].p99 / runs[0].p99, runs[1].p999 / runs[0].p999);
	return runs[0].ok && runs[1].ok ? 0 : 1;
}
