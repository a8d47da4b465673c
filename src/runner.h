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
	struct skel_mix mix;
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
	struct skel_counts counts;
} __attribute__((aligned(64)));

extern volatile int run_stop;

/* Start every worker behind one start gate; returns 0 or -errno. */
int run_start(const struct run_cfg *cfg, struct kern *k, void *head, struct worker *w);

/* Wait for the workers (run_stop ends them early). */
void run_join(const struct run_cfg *cfg, struct worker *w);

/* Operations performed so far by all workers. */
__u64 run_progress(const struct run_cfg *cfg, const struct worker *w);

#endif /* __RUNNER_H */
