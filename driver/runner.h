/* SPDX-License-Identifier: GPL-2.0 */
/*
 * runner.h - the workers of a run: userspace threads operating directly
 * on the arena, and kernel workers (threads that each drive the ds_batch
 * syscall program).  Both draw operations from workload.h.
 */
#ifndef __RUNNER_H
#define __RUNNER_H

#include <pthread.h>
#include <stdbool.h>
#include "driver_kern.h"

struct run_cfg {
	int kind;
	int threads;
	int kworkers;
	__u64 ops;		/* per worker */
	__u32 key_range;
	__u32 batch;		/* kernel ops per syscall-program run */
	__u64 seed;
	double duration;	/* seconds */
	double rate;		/* -w relay: items offered per second in all (0: at once) */
	__u32 pin;		/* thread operations per pinned EBR section (0: none) */
	struct skel_mix mix;
	__u32 caps;		/* the structure's DS_CAP_* (roles follow them) */
};

struct worker {
	pthread_t tid;
	int id;
	bool kernel;
	const struct run_cfg *cfg;
	void *head;
	struct kern *kern;
	__u64 done;			/* ops performed (read by progress) */
	double secs;
	int error;			/* syscall-level failure (kernel workers) */
	__u64 ops;			/* operations this worker runs */
	struct skel_mix mix;		/* its operation mix (its role) */
	const char *role;
	struct lin_op *hist;		/* history buffer (--history), or NULL */
	__u64 hist_cap;
	__u64 hist_len;
	struct skel_counts counts;
	/* Roles (spsc, deque) */
	bool producer;			/* counted in the producers still running */
	bool retry_full;		/* retry an insert that found the ring FULL */
	bool drain;			/* run until the producers are done and the
					 * structure answers empty, whatever ops says */
	__u64 full_retries;		/* FULL answers retried */
	__u64 full_gave_up;		/* retries that ran out (counted as misses) */
	__u64 empty_polls;		/* empty answers while producers still ran */
	/* Another workload's thread body (relay), or NULL for the mix. */
	void *(*fn)(void *);
	void *ctx;			/* for fn */
	int finished;			/* set when the thread is done */
	bool stuck;			/* had not returned by run_join's deadline */
} __attribute__((aligned(64)));

/* Consecutive FULL answers a producer retries before it counts one as a
 * miss and goes on: a bound, so a stuck consumer cannot hang the run. */
#define RUN_FULL_RETRY_MAX	100000

extern volatile int run_stop;
/* Test-only (SKELETON_TEST_HANG): thread 0 never returns. */
extern int run_test_hang;

/* Wait at the start gate (every thread body calls it first). */
void run_gate_wait(void);

/* Every worker's thread has returned (or was never started). */
bool run_finished(const struct run_cfg *cfg, const struct worker *w);

/*
 * Roles: a DS_CAP_SPSC structure gets exactly one producer (the first
 * worker) and one consumer (the second); a DS_CAP_OWNER structure one owner
 * (the first worker: push and pop) and thieves (everyone else: steal).
 * Workers without a role stay idle.  Userspace threads come first, then
 * kernel workers, so "-t 1 -K" puts the two roles in different contexts.
 * The producer (owner) retries FULL answers, bounded by RUN_FULL_RETRY_MAX;
 * the consumer (thieves) run until the producer is done and the structure
 * is empty, so both sides overlap for the whole run.
 */
void run_assign_roles(const struct run_cfg *cfg, struct worker *w);

/* Start every worker behind one start gate; returns 0 or -errno. */
int run_start(const struct run_cfg *cfg, struct kern *k, void *head, struct worker *w);

/*
 * Wait for the workers (run_stop ends them early) until @deadline (seconds
 * on the arena_now_ns clock).  Returns how many had not returned by then
 * (each marked stuck; they keep running, so the caller must not touch the
 * structure again and should end the process).
 */
int run_join(const struct run_cfg *cfg, struct worker *w, double deadline);

/* Operations all workers are to perform. */
static inline __u64 run_total_ops(const struct run_cfg *cfg, const struct worker *w)
{
	__u64 sum = 0;
	int i;

	for (i = 0; i < cfg->threads + cfg->kworkers; i++)
		sum += w[i].ops;
	return sum;
}

/* Operations performed so far by all workers. */
__u64 run_progress(const struct run_cfg *cfg, const struct worker *w);

#endif /* __RUNNER_H */
