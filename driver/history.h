/* SPDX-License-Identifier: GPL-2.0 */
/*
 * history.h - --history: record every operation of every context (threads
 * in private buffers, kernel workers and hooks in arena buffers of their
 * own), then save the history and check it for linearizability.
 */
#ifndef __HISTORY_H
#define __HISTORY_H

#include "runner.h"

/* Give every worker (and the hooks) a buffer.  Returns 0 or -ENOMEM. */
int history_prepare(struct kern *k, const struct run_cfg *cfg, struct worker *w);

/* Gather the records, save them to @path, and when @check is set run the
 * checker with the model the structure's caps imply.  Returns 0 when the
 * history is linearizable (or was not checked), 1 when it is not, 3 when
 * the checker could not decide, negative on I/O errors. */
int history_finish(struct kern *k, const struct run_cfg *cfg, struct worker *w,
		   const char *path, bool check, double *rec_cost_ns);

#endif /* __HISTORY_H */
