// SPDX-License-Identifier: GPL-2.0
/*
 * runner.c - userspace threads and kernel workers of a skeleton run.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "skeleton.skel.h"
#include "runner.h"
#include "workload.h"

volatile int run_stop;
int run_test_hang;

/* The start gate: every worker waits here until all exist, then all go. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void gate_wait(void)
{
	pthread_mutex_lock(&gate_lock);
	while (!gate_open)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

static void gate_set(int open)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = open;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

void run_gate_wait(void)
{
	gate_wait();
}

static double now_s(void)
{
	return arena_now_ns() / 1e9;
}

/* Producers (role structures) still running: consumers drain after. */
static int producers_left;

static bool producers_done(void)
{
	return __atomic_load_n(&producers_left, __ATOMIC_ACQUIRE) == 0;
}

/* The end of a worker's thread: release what it produced to the drainers. */
static void worker_done(struct worker *w)
{
	if (w->producer)
		__atomic_sub_fetch(&producers_left, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
}

static void *user_worker(void *arg)
{
	struct worker *w = arg;
	const struct run_cfg *c = w->cfg;
	__u64 rng = c->seed * 0x9e3779b97f4a7c15ULL + (__u64)w->id + 1;
	struct ds_req r;
	double t0, deadline;
	__u64 i, in_row = 0;
	bool retry = false, pdone;
	/* --pin: sections of c->pin operations, closed before any wait so a
	 * thread that yields holds no epoch back. */
	struct arena_ebr_batch pin = { .ebr = ds_ebr_of(c->kind, w->head), .every = c->pin };
	int rc;

	/* A private slot: per-slot counters and EBR records never shared. */
	arena_set_thread_slot(w->id);
	/* Each operation gets the run's loop budget (re-armed after it). */
	arena_loop_arm(__atomic_load_n(&arena_loop_user_budget, __ATOMIC_RELAXED));
	gate_wait();
	if (run_test_hang && w->id == 0)
		for (;;)	/* test-only: a worker that never returns */
			pause();
	t0 = now_s();
	deadline = t0 + c->duration;
	for (i = 0; (i < w->ops || w->drain) && !run_stop;) {
		__u64 call = 0;

		/* Seen before the operation: an empty answer after it means
		 * nothing is left to come. */
		pdone = w->drain && producers_done();
		if (!retry) {
			memset(&r, 0, sizeof(r));
			wl_pick(&rng, c->key_range, &w->mix, &r);
		}
		retry = false;
		arena_ebr_batch_op(&pin);
		if (w->hist)
			call = arena_now_ns();
		rc = ds_dispatch(c->kind, w->head, &r);
		arena_ebr_batch_done(&pin);
		if (rc == DS_ERROR_FULL && w->retry_full) {
			if (in_row < RUN_FULL_RETRY_MAX) {
				/* The same insert again once the consumer ran. */
				w->full_retries++;
				in_row++;
				retry = true;
				arena_ebr_batch_end(&pin);
				sched_yield();
				continue;
			}
			w->full_gave_up++;
		}
		in_row = 0;
		if (rc == DS_ERROR_NOT_FOUND && w->drain &&
		    (r.op == DS_OP_POP || r.op == DS_OP_DELETE)) {
			if (pdone)
				break;
			w->empty_polls++;
			arena_ebr_batch_end(&pin);
			sched_yield();
			continue;
		}
		skel_count(&w->counts, r.op, rc);
		if (w->hist && w->hist_len < w->hist_cap) {
			struct lin_op *h = &w->hist[w->hist_len++];

			h->ret_ns = arena_now_ns();
			h->call_ns = call;
			h->ctx = LIN_CTX_USER(w->id);
			h->op = r.op;
			h->key = r.key;
			h->value = r.value;
			h->rc = rc;
			h->out_key = r.out_key;
			h->out_value = r.out_value;
		}
		i++;
		if ((i & 1023) == 0) {
			__atomic_store_n(&w->done, i, __ATOMIC_RELAXED);
			/* Drainers stop on empty, not on time (run_stop is
			 * their hard bound). */
			if (!w->drain && now_s() >= deadline)
				break;
		}
	}
	arena_ebr_batch_end(&pin);
	__atomic_store_n(&w->done, i, __ATOMIC_RELAXED);
	w->secs = now_s() - t0;
	worker_done(w);
	return NULL;
}

static void *kernel_worker(void *arg)
{
	struct worker *w = arg;
	const struct run_cfg *c = w->cfg;
	struct skel_batch_args a;
	double t0, deadline;
	__u64 left = w->ops, done = 0, in_row = 0;
	__u32 flags = (w->retry_full ? SKEL_BATCH_RETRY_FULL : 0) |
		      (w->drain ? SKEL_BATCH_END_EMPTY : 0);
	bool pdone;
	int err;

	memset(&a, 0, sizeof(a));
	a.rng = c->seed * 0x9e3779b97f4a7c15ULL + 0x10000ULL + (__u64)w->id;
	a.key_range = c->key_range;
	a.mix = w->mix;
	a.hist = (__u64)(unsigned long)w->hist;
	a.hist_cap = w->hist_cap;
	a.ctx_id = LIN_CTX_KERNEL(w->id);
	gate_wait();
	t0 = now_s();
	deadline = t0 + c->duration;
	while ((left || w->drain) && !run_stop && (w->drain || now_s() < deadline)) {
		pdone = w->drain && producers_done();
		a.nops = !w->drain && left < c->batch ? left : c->batch;
		a.done = 0;
		a.stop = 0;
		a.flags = flags;
		if (in_row >= RUN_FULL_RETRY_MAX) {
			/* Retries ran out: this batch counts FULL as a miss. */
			a.flags &= ~SKEL_BATCH_RETRY_FULL;
			w->full_gave_up++;
			in_row = 0;
		}
		err = kern_run(w->kern->skel->progs.ds_batch, &a, sizeof(a));
		if (err < 0) {
			w->error = err;
			break;
		}
		done += a.done;
		left -= a.done < left ? a.done : left;
		__atomic_store_n(&w->done, done, __ATOMIC_RELAXED);
		if (a.stop == DS_ERROR_FULL) {
			w->full_retries++;
			in_row++;
			sched_yield();
			continue;
		}
		in_row = 0;
		if (a.stop == DS_ERROR_NOT_FOUND) {
			if (pdone)
				break;
			w->empty_polls++;
			sched_yield();
			continue;
		}
		if (a.done < a.nops)	/* cut short (budget, BUSY): let others run */
			sched_yield();
	}
	memcpy(&w->counts, &a.counts, sizeof(w->counts));
	w->hist_len = a.hist_len;
	w->secs = now_s() - t0;
	worker_done(w);
	return NULL;
}

void run_assign_roles(const struct run_cfg *cfg, struct worker *w)
{
	int n = cfg->threads + cfg->kworkers, i;
	/* The SPSC consumer sits in the other world when there is one. */
	int consumer = cfg->threads >= 1 && cfg->kworkers >= 1 ? cfg->threads : 1;

	for (i = 0; i < n; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i < cfg->threads ? i : i - cfg->threads;
		w[i].kernel = i >= cfg->threads;
		w[i].ops = cfg->ops;
		w[i].mix = cfg->mix;
		w[i].role = "any";
		if (cfg->caps & DS_CAP_SPSC) {
			memset(&w[i].mix, 0, sizeof(w[i].mix));
			if (i == 0) {
				w[i].mix.insert = 100;
				w[i].role = "producer";
				w[i].producer = w[i].retry_full = true;
			} else if (i == consumer) {
				w[i].mix.pop = 100;
				w[i].role = "consumer";
				w[i].drain = true;
			} else {
				w[i].ops = 0;
				w[i].role = "idle";
			}
		} else if (cfg->caps & DS_CAP_OWNER) {
			memset(&w[i].mix, 0, sizeof(w[i].mix));
			if (i == 0) {
				w[i].mix.insert = 60;
				w[i].mix.pop = 40;
				w[i].role = "owner";
				w[i].producer = w[i].retry_full = true;
			} else {
				w[i].mix.delete = 100;
				w[i].role = "thief";
				w[i].drain = true;
			}
		}
	}
}

int run_start(const struct run_cfg *cfg, struct kern *k, void *head, struct worker *w)
{
	int n = cfg->threads + cfg->kworkers, i, err;

	/* run_stop is left as it is: a signal that came while the programs
	 * loaded ends this run at once. */
	gate_set(0);
	producers_left = 0;
	for (i = 0; i < n; i++)
		producers_left += w[i].producer;
	for (i = 0; i < n; i++) {
		w[i].cfg = cfg;
		w[i].head = head;
		w[i].kern = k;
		w[i].finished = 0;
		err = pthread_create(&w[i].tid, NULL, w[i].fn ? w[i].fn :
				     w[i].kernel ? kernel_worker : user_worker, &w[i]);
		if (err) {
			/* Let the ones already waiting go and stop at once. */
			run_stop = 1;
			for (; i < n; i++) {
				w[i].tid = 0;
				w[i].finished = 1;
			}
			gate_set(1);
			return -err;
		}
	}
	gate_set(1);
	return 0;
}

int run_join(const struct run_cfg *cfg, struct worker *w, double deadline)
{
	int n = cfg->threads + cfg->kworkers, i, stuck = 0;

	for (i = 0; i < n; i++) {
		if (!w[i].tid)
			continue;
		/* pthread_timedjoin_np reads CLOCK_REALTIME: wait in small
		 * steps on the monotonic clock instead. */
		while (!__atomic_load_n(&w[i].finished, __ATOMIC_ACQUIRE) &&
		       now_s() < deadline)
			usleep(2000);
		if (!__atomic_load_n(&w[i].finished, __ATOMIC_ACQUIRE)) {
			w[i].stuck = true;
			stuck++;
			continue;
		}
		pthread_join(w[i].tid, NULL);
		w[i].tid = 0;
	}
	return stuck;
}

__u64 run_progress(const struct run_cfg *cfg, const struct worker *w)
{
	int n = cfg->threads + cfg->kworkers, i;
	__u64 sum = 0;

	for (i = 0; i < n; i++)
		sum += __atomic_load_n(&w[i].done, __ATOMIC_RELAXED);
	return sum;
}

bool run_finished(const struct run_cfg *cfg, const struct worker *w)
{
	int n = cfg->threads + cfg->kworkers, i;

	for (i = 0; i < n; i++)
		if (!__atomic_load_n(&w[i].finished, __ATOMIC_ACQUIRE))
			return false;
	return true;
}
