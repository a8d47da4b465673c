/* SPDX-License-Identifier: GPL-2.0 */
/* report.h - the run's results as the guide's tables and as JSON. */
#ifndef __REPORT_H
#define __REPORT_H

#include <stdio.h>
#include "runner.h"

struct relay_result;

struct run_result {
	const struct run_cfg *cfg;
	const char *ds_name;
	const char *workload;
	const char *hooks;		/* mode in force */
	const char *page_path;		/* kern_page_path() */
	__u64 hook_direct_pages;	/* pages the hooks took themselves */
	struct worker *w;		/* cfg->threads users, then kworkers */
	struct skel_counts hooks_c[SKEL_HOOK_MAX];
	struct skel_counts prefill;
	struct arena_stats mem;
	struct arena_san_stats san;	/* sanitizer mode (ARENA_SANITIZE) only */
	struct ds_stats ds;
	struct arena_ebr_stats ebr;	/* valid when has_ebr */
	int has_ebr;
	__s64 expected;			/* elements by the drivers' counts */
	int has_expected;		/* expected was computed (verify ran) */
	double secs;
	int verified;			/* -1 not run, 0 FAIL, 1 PASS */
	char verify_msg[256];
	const struct relay_result *relay;	/* -w relay, or NULL */
	const char *ds_note;		/* a structure's own line (hash: its size), or NULL */
	int kernel_verify_partial;	/* kernel walk longer than one program run */
};

/* Elements a set of counts added (inserts - deletes - pops). */
static inline __s64 counts_net(const struct skel_counts *c)
{
	return (__s64)c->ok[DS_OP_INSERT] - (__s64)c->ok[DS_OP_DELETE] - (__s64)c->ok[DS_OP_POP];
}

static inline __u64 counts_total(const struct skel_counts *c)
{
	__u64 s = 0;
	int i;

	for (i = 0; i < 8; i++)
		s += c->calls[i];
	return s;
}

static inline __u64 counts_errors(const struct skel_counts *c)
{
	__u64 s = 0;
	int i;

	for (i = 0; i < 8; i++)
		s += c->err[i];
	return s;
}

void counts_add(struct skel_counts *dst, const struct skel_counts *src);
void report_print(FILE *f, const struct run_result *r);
int report_json(const char *path, const struct run_result *r);

#endif /* __REPORT_H */
