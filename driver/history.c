// SPDX-License-Identifier: GPL-2.0
/*
 * history.c - record, save and check operation histories (--history).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "skeleton.skel.h"
#include "history.h"

static int hook_slots;

/* Arena memory for kernel-written records: contiguous fresh pages. */
static struct lin_op *arena_records(__u64 n)
{
	return n ? arena_malloc_pages(n * sizeof(struct lin_op)) : NULL;
}

int history_prepare(struct kern *k, const struct run_cfg *cfg, struct worker *w)
{
	int n = cfg->threads + cfg->kworkers, i, ncpu;
	__u64 *lens;

	for (i = 0; i < n; i++) {
		w[i].hist_cap = w[i].ops;
		if (!w[i].ops)
			continue;
		w[i].hist = w[i].kernel ? arena_records(w[i].ops) :
			    calloc(w[i].ops, sizeof(struct lin_op));
		if (!w[i].hist)
			return -ENOMEM;
	}
	if (k->hooks == HOOKS_OFF)
		return 0;
	ncpu = libbpf_num_possible_cpus();
	hook_slots = ncpu > 0 && ncpu <= ARENA_NR_CPU_SLOTS ? ncpu : 0;
	if (!hook_slots)
		return 0;	/* hooks run unrecorded on very large machines */
	lens = (__u64 *)arena_records((ARENA_NR_CPU_SLOTS * sizeof(__u64) +
				       sizeof(struct lin_op) - 1) / sizeof(struct lin_op));
	k->skel->bss->hook_hist = (void *)arena_records((__u64)hook_slots * SKEL_HOOK_HIST_CAP);
	if (!lens || !k->skel->bss->hook_hist)
		return -ENOMEM;
	k->skel->bss->hook_hist_len = lens;
	k->skel->bss->hook_hist_slots = hook_slots;
	return 0;
}

/* The model a structure's caps imply, or LIN_MODEL_NONE. */
static int model_of(__u32 caps)
{
	if (caps & DS_CAP_KEYED)
		return LIN_MODEL_SET;
	if (caps & DS_CAP_FIFO)
		return LIN_MODEL_QUEUE;
	if (caps & DS_CAP_LIFO)
		return LIN_MODEL_STACK;
	return LIN_MODEL_NONE;
}

/* What two clock reads add to each recorded operation. */
static double clock_cost_ns(void)
{
	__u64 t0 = arena_now_ns(), x = 0;
	int i;

	for (i = 0; i < 100000; i++)
		x += arena_now_ns();
	return (arena_now_ns() - t0 + (x & 1)) / 100000.0 * 2;
}

int history_finish(struct kern *k, const struct run_cfg *cfg, struct worker *w,
		   const char *path, bool check, double *rec_cost_ns)
{
	int n = cfg->threads + cfg->kworkers, i, s, ret = 0, model;
	struct lin_history h;
	struct lin_options o;
	struct lin_report r;
	__u64 j, len, dropped = 0;

	lincheck_history_init(&h);
	for (i = 0; i < n; i++)
		for (j = 0; j < w[i].hist_len && j < w[i].hist_cap; j++)
			if (lincheck_history_add(&h, &w[i].hist[j]))
				goto nomem;
	if (k->skel->bss->hook_hist) {
		struct lin_op *base = (void *)k->skel->bss->hook_hist;
		__u64 *lens = (void *)k->skel->bss->hook_hist_len;

		for (s = 0; s < hook_slots; s++) {
			len = lens[s];
			if (len > SKEL_HOOK_HIST_CAP) {
				dropped += len - SKEL_HOOK_HIST_CAP;
				len = SKEL_HOOK_HIST_CAP;
			}
			for (j = 0; j < len; j++)
				if (lincheck_history_add(&h, &base[s * SKEL_HOOK_HIST_CAP + j]))
					goto nomem;
		}
	}
	model = model_of(cfg->caps);
	h.model = model;
	*rec_cost_ns = clock_cost_ns();
	if (lincheck_save(path, &h)) {
		fprintf(stderr, "skeleton: writing the history to %s failed: %s\n", path,
			strerror(errno));
		lincheck_history_free(&h);
		return -EIO;
	}
	printf("History: %zu operations recorded to %s (two clock reads each, ~%.0f ns)%s\n",
	       h.n, path, *rec_cost_ns, dropped ? "; some hook records dropped" : "");
	if (dropped) {
		/* A history with holes cannot be judged. */
		printf("History: %llu hook operations were not recorded (buffers full): not checked\n",
		       (unsigned long long)dropped);
		check = false;
	}
	if (check && model == LIN_MODEL_NONE) {
		printf("History: no sequential model for this structure: not checked\n");
		check = false;
	}
	if (check) {
		lincheck_options_init(&o, model);
		if (!(cfg->caps & DS_CAP_ORDERED))
			o.search = LIN_SEARCH_SCAN;
		o.timeout_s = 60;
		memset(&r, 0, sizeof(r));
		lincheck_check(&h, &o, &r);
		printf("Linearizability (%s model): ", lincheck_model_str(model));
		lincheck_report_print(stdout, &h, &r, 40);
		ret = r.result == LIN_OK ? 0 : r.result == LIN_FAIL ? 1 : 3;
		lincheck_report_free(&r);
	}
	lincheck_history_free(&h);
	return ret;
nomem:
	lincheck_history_free(&h);
	fprintf(stderr, "skeleton: out of memory gathering the history\n");
	return -ENOMEM;
}
