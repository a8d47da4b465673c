// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - print a run's statistics in the guide's layout and write them
 * as JSON.
 */
#include <errno.h>
#include <string.h>
#include "report.h"
#include "relay.h"

void counts_add(struct skel_counts *dst, const struct skel_counts *src)
{
	int i;

	for (i = 0; i < 8; i++) {
		dst->calls[i] += src->calls[i];
		dst->ok[i] += src->ok[i];
		dst->err[i] += src->err[i];
	}
	dst->miss += src->miss;
}

static void row(FILE *f, const char *name, const struct skel_counts *c, double secs)
{
	__u64 ops = counts_total(c);

	fprintf(f, "%-8s %10llu %10llu %10llu %10llu %9llu %9llu %11.0f\n", name,
		(unsigned long long)ops,
		(unsigned long long)c->calls[DS_OP_INSERT],
		(unsigned long long)(c->calls[DS_OP_DELETE] + c->calls[DS_OP_POP]),
		(unsigned long long)(c->calls[DS_OP_SEARCH] + c->calls[DS_OP_RANGE]),
		(unsigned long long)c->miss, (unsigned long long)counts_errors(c),
		secs > 0 ? ops / secs : 0.0);
}

static void table(FILE *f, const char *title, struct worker *w, int n, bool kernel)
{
	struct skel_counts total = {};
	double secs = 0;
	char name[16];
	int i;

	fprintf(f, "\n%s:\n", title);
	fprintf(f, "%-8s %10s %10s %10s %10s %9s %9s %11s\n", kernel ? "Worker" : "Thread",
		"Operations", "Inserts", "Deletes", "Searches", "Misses", "Errors", "Ops/sec");
	fprintf(f, "%.*s\n", 84, "------------------------------------------------------------"
		"------------------------------------------------------------");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%d", w[i].id);
		row(f, name, &w[i].counts, w[i].secs);
		counts_add(&total, &w[i].counts);
		if (w[i].secs > secs)
			secs = w[i].secs;
	}
	fprintf(f, "%.*s\n", 84, "------------------------------------------------------------"
		"------------------------------------------------------------");
	row(f, "TOTAL", &total, secs);
}

static void errors_line(FILE *f, const struct skel_counts *c)
{
	int e;

	for (e = 1; e < DS_NR_ERRORS; e++)
		if (c->err[e])
			fprintf(f, " %s=%llu", ds_strerror(ds_err_of_index(e)), (unsigned long long)c->err[e]);
}

/* Role structures: how often the producer met FULL and the consumers
 * found nothing yet (neither is an operation). */
static void roles_line(FILE *f, const struct run_result *r)
{
	__u64 retries = 0, gave_up = 0, polls = 0;
	bool roles = false;
	int i;

	for (i = 0; i < r->cfg->threads + r->cfg->kworkers; i++) {
		roles |= r->w[i].producer || r->w[i].drain;
		retries += r->w[i].full_retries;
		gave_up += r->w[i].full_gave_up;
		polls += r->w[i].empty_polls;
	}
	if (!roles)
		return;
	fprintf(f, "\nRoles: producer FULL retries %llu (%llu ran out after %d in a row), "
		"consumer empty polls %llu\n", (unsigned long long)retries,
		(unsigned long long)gave_up, RUN_FULL_RETRY_MAX, (unsigned long long)polls);
}

static const char *const san_names[ARENA_SAN_NR_KINDS] = ARENA_SAN_KIND_NAMES;

/* Sanitizer mode: "N violations (overflow=.. ...), M freed objects checked". */
static void san_line(FILE *f, const struct arena_san_stats *s)
{
	int k;

	fprintf(f, "  Sanitizer:        %llu violations (", (unsigned long long)s->total);
	for (k = 0; k < ARENA_SAN_NR_KINDS; k++)
		fprintf(f, "%s%s=%llu", k ? " " : "", san_names[k],
			(unsigned long long)s->count[k]);
	fprintf(f, "), %llu freed objects checked\n", (unsigned long long)s->walked);
}

void report_print(FILE *f, const struct run_result *r)
{
	const struct run_cfg *c = r->cfg;
	static const char *const src_names[SKEL_HOOK_MAX] = { "create", "open", "exit" };
	struct skel_counts kw = {}, hk = {}, all = {};
	int i;

	fprintf(f, "\n============================================================\n");
	fprintf(f, "                    TEST STATISTICS\n");
	fprintf(f, "============================================================\n");
	fprintf(f, "Structure: %s   Workload: %s   Key range: %u   Hooks: %s\n",
		r->ds_name, r->workload, c->key_range, r->hooks);
	if (c->threads)
		table(f, "Per-Thread Results", r->w, c->threads, false);
	if (c->kworkers)
		table(f, "Kernel Workers (SEC(\"syscall\") batches)", r->w + c->threads,
		      c->kworkers, true);
	for (i = 0; i < c->kworkers; i++)
		counts_add(&kw, &r->w[c->threads + i].counts);
	for (i = 0; i < SKEL_HOOK_MAX; i++)
		counts_add(&hk, &r->hooks_c[i]);
	for (i = 0; i < c->threads + c->kworkers; i++)
		counts_add(&all, &r->w[i].counts);
	counts_add(&all, &hk);
	counts_add(&all, &r->prefill);

	fprintf(f, "\nKernel-Side Operations:\n");
	fprintf(f, "  Total operations: %llu\n", (unsigned long long)(counts_total(&kw) +
									 counts_total(&hk)));
	fprintf(f, "  Total failures:   %llu\n",
		(unsigned long long)(kw.miss + counts_errors(&kw) + hk.miss + counts_errors(&hk)));
	fprintf(f, "    workers: %llu ops, %llu misses, %llu errors\n",
		(unsigned long long)counts_total(&kw), (unsigned long long)kw.miss,
		(unsigned long long)counts_errors(&kw));
	fprintf(f, "    hooks:   %llu ops, %llu misses, %llu errors (",
		(unsigned long long)counts_total(&hk), (unsigned long long)hk.miss,
		(unsigned long long)counts_errors(&hk));
	for (i = 0; i < SKEL_HOOK_MAX; i++)
		fprintf(f, "%s%s=%llu", i ? " " : "", src_names[i],
			(unsigned long long)counts_total(&r->hooks_c[i]));
	fprintf(f, ")\n");
	if (r->page_path)
		fprintf(f, "    page alloc: %s, %llu pages taken directly by hooks\n", r->page_path,
			(unsigned long long)r->hook_direct_pages);

	roles_line(f, r);

	fprintf(f, "\nFailures: %llu expected misses (not found / exists / full), %llu errors",
		(unsigned long long)all.miss, (unsigned long long)counts_errors(&all));
	errors_line(f, &all);
	fprintf(f, "\n");

	if (r->relay)
		relay_print(f, r->relay);

	fprintf(f, "\nArena Memory Statistics:\n");
	fprintf(f, "  Allocations:      %llu\n", (unsigned long long)r->mem.allocs);
	fprintf(f, "  Frees:            %llu\n", (unsigned long long)r->mem.frees);
	/* Signed: a count that went below zero is a fault to show as such. */
	fprintf(f, "  Current allocs:   %lld\n", (long long)r->mem.current);
	fprintf(f, "  Failed allocs:    %llu\n", (unsigned long long)r->mem.failed);
	fprintf(f, "  Pages from kernel: %llu (reserve %llu, userspace refills %llu)\n",
		(unsigned long long)r->mem.pages_total, (unsigned long long)r->mem.reserve_pages,
		(unsigned long long)r->mem.refills);
	fprintf(f, "  Pages held:       %llu (returned to kernel %llu, quarantined %llu, "
		"recycled %llu)\n",
		(unsigned long long)r->mem.pages_held, (unsigned long long)r->mem.pages_returned,
		(unsigned long long)r->mem.pages_quarantined,
		(unsigned long long)r->mem.pages_recycled);
	fprintf(f, "  Caches:           %llu objects cached, %llu steals, %llu fallbacks\n",
		(unsigned long long)r->mem.cached, (unsigned long long)r->mem.steals,
		(unsigned long long)r->mem.fallbacks);
	if (r->mem.reaped_guards || r->mem.abandoned)
		fprintf(f, "  Dead holders:     %llu guard words taken back, %llu cached objects "
			"abandoned with them\n", (unsigned long long)r->mem.reaped_guards,
			(unsigned long long)r->mem.abandoned);
	fprintf(f, "  %-8s %12s %12s %10s\n", "Class", "Allocs", "Frees", "Current");
	for (i = 0; i < ARENA_NR_CLASSES; i++) {
		if (!r->mem.class_allocs[i] && !r->mem.class_frees[i])
			continue;
		fprintf(f, "  %-8u %12llu %12llu %10lld\n", arena_class_size(i),
			(unsigned long long)r->mem.class_allocs[i],
			(unsigned long long)r->mem.class_frees[i],
			(long long)r->mem.class_current[i]);
	}
	if (ARENA_SAN_ENABLED)
		san_line(f, &r->san);

	fprintf(f, "\nData Structure State:\n");
	fprintf(f, "  Elements in %s: %lld\n", r->ds_name, (long long)r->ds.current_elements);
	if (r->has_expected && r->verified == 0)
		fprintf(f, "  Expected vs found: %lld elements by the contexts' counts, %lld by the "
			"structure's counters, %lld allocator objects\n", (long long)r->expected,
			(long long)r->ds.current_elements, (long long)r->mem.current);
	if (r->ds_note)
		fprintf(f, "  %s\n", r->ds_note);
	if (r->ds.takeovers)
		fprintf(f, "  Taken over from contexts that died holding them: %llu\n",
			(unsigned long long)r->ds.takeovers);
	if (r->has_ebr)
		fprintf(f, "  Reclamation (EBR): epoch %llu, %llu advances, %llu refused, "
			"%llu stalls, %llu dead threads reaped\n",
			(unsigned long long)r->ebr.epoch, (unsigned long long)r->ebr.advances,
			(unsigned long long)r->ebr.blocked, (unsigned long long)r->ebr.stalls,
			(unsigned long long)r->ebr.reaped);

	fprintf(f, "\nTest Duration: %.2f seconds\n", r->secs);
	if (r->verified >= 0)
		fprintf(f, "Verification: %s%s%s\n", r->verified ? "PASS" : "FAIL",
			r->verify_msg[0] ? " - " : "", r->verify_msg);
	fprintf(f, "============================================================\n");
}

static void json_counts(FILE *f, const struct skel_counts *c, double secs)
{
	fprintf(f, "{\"ops\": %llu, \"inserts\": %llu, \"inserts_ok\": %llu, "
		"\"deletes\": %llu, \"deletes_ok\": %llu, \"searches\": %llu, "
		"\"pops\": %llu, \"pops_ok\": %llu, \"ranges\": %llu, \"misses\": %llu, "
		"\"errors\": %llu, \"seconds\": %.6f, \"ops_per_sec\": %.0f}",
		(unsigned long long)counts_total(c),
		(unsigned long long)c->calls[DS_OP_INSERT], (unsigned long long)c->ok[DS_OP_INSERT],
		(unsigned long long)c->calls[DS_OP_DELETE], (unsigned long long)c->ok[DS_OP_DELETE],
		(unsigned long long)c->calls[DS_OP_SEARCH],
		(unsigned long long)c->calls[DS_OP_POP], (unsigned long long)c->ok[DS_OP_POP],
		(unsigned long long)c->calls[DS_OP_RANGE], (unsigned long long)c->miss,
		(unsigned long long)counts_errors(c), secs,
		secs > 0 ? counts_total(c) / secs : 0.0);
}

int report_json(const char *path, const struct run_result *r)
{
	const struct run_cfg *c = r->cfg;
	FILE *f = fopen(path, "w");
	int i;

	if (!f)
		return -errno;
	fprintf(f, "{\n  \"structure\": \"%s\",\n  \"workload\": \"%s\",\n  \"hooks\": \"%s\",\n",
		r->ds_name, r->workload, r->hooks);
	fprintf(f, "  \"page_alloc\": \"%s\",\n  \"hook_direct_pages\": %llu,\n",
		r->page_path ? r->page_path : "", (unsigned long long)r->hook_direct_pages);
	fprintf(f, "  \"threads\": %d,\n  \"kernel_workers\": %d,\n  \"ops_per_worker\": %llu,\n"
		"  \"key_range\": %u,\n  \"seed\": %llu,\n  \"duration_s\": %.6f,\n",
		c->threads, c->kworkers, (unsigned long long)c->ops, c->key_range,
		(unsigned long long)c->seed, r->secs);
	fprintf(f, "  \"workers\": [\n");
	for (i = 0; i < c->threads + c->kworkers; i++) {
		fprintf(f, "    {\"context\": \"%s\", \"id\": %d, \"counts\": ",
			r->w[i].kernel ? "kernel" : "user", r->w[i].id);
		json_counts(f, &r->w[i].counts, r->w[i].secs);
		fprintf(f, "}%s\n", i + 1 < c->threads + c->kworkers ? "," : "");
	}
	fprintf(f, "  ],\n  \"hooks_counts\": [");
	for (i = 0; i < SKEL_HOOK_MAX; i++) {
		json_counts(f, &r->hooks_c[i], r->secs);
		fprintf(f, "%s", i + 1 < SKEL_HOOK_MAX ? ", " : "");
	}
	fprintf(f, "],\n  \"memory\": {\"allocations\": %llu, \"frees\": %llu, \"current\": %llu, "
		"\"failed\": %llu, \"pages_total\": %llu, \"pages_held\": %llu, "
		"\"pages_returned\": %llu, \"pages_quarantined\": %llu, \"pages_recycled\": %llu, "
		"\"reserve_pages\": %llu, \"cached\": %llu, \"steals\": %llu, \"fallbacks\": %llu,\n"
		"    \"classes\": [",
		(unsigned long long)r->mem.allocs, (unsigned long long)r->mem.frees,
		(unsigned long long)r->mem.current, (unsigned long long)r->mem.failed,
		(unsigned long long)r->mem.pages_total, (unsigned long long)r->mem.pages_held,
		(unsigned long long)r->mem.pages_returned,
		(unsigned long long)r->mem.pages_quarantined,
		(unsigned long long)r->mem.pages_recycled,
		(unsigned long long)r->mem.reserve_pages, (unsigned long long)r->mem.cached,
		(unsigned long long)r->mem.steals, (unsigned long long)r->mem.fallbacks);
	for (i = 0; i < ARENA_NR_CLASSES; i++)
		fprintf(f, "%s{\"size\": %u, \"allocs\": %llu, \"frees\": %llu, \"current\": %llu}",
			i ? ", " : "", arena_class_size(i),
			(unsigned long long)r->mem.class_allocs[i],
			(unsigned long long)r->mem.class_frees[i],
			(unsigned long long)r->mem.class_current[i]);
	fprintf(f, "]");
	if (ARENA_SAN_ENABLED) {
		fprintf(f, ", \"sanitizer\": {\"violations\": %llu",
			(unsigned long long)r->san.total);
		static const char *const keys[ARENA_SAN_NR_KINDS] = {
			"overflow", "underflow", "use_after_free", "double_free", "invalid_free" };

		for (i = 0; i < ARENA_SAN_NR_KINDS; i++)
			fprintf(f, ", \"%s\": %llu", keys[i],
				(unsigned long long)r->san.count[i]);
		fprintf(f, ", \"freed_checked\": %llu}", (unsigned long long)r->san.walked);
	}
	fprintf(f, "},\n");
	if (r->has_ebr)
		fprintf(f, "  \"ebr\": {\"epoch\": %llu, \"advances\": %llu, \"refused\": %llu, "
			"\"stalls\": %llu, \"reaped\": %llu},\n",
			(unsigned long long)r->ebr.epoch, (unsigned long long)r->ebr.advances,
			(unsigned long long)r->ebr.blocked, (unsigned long long)r->ebr.stalls,
			(unsigned long long)r->ebr.reaped);
	fprintf(f, "  \"elements\": %lld,\n  \"expected_elements\": %lld,\n"
		"  \"takeovers\": %llu,\n", (long long)r->ds.current_elements,
		(long long)r->expected, (unsigned long long)r->ds.takeovers);
	if (r->relay)
		relay_json(f, r->relay);
	fprintf(f, "  \"verification\": %s\n}\n",
		r->verified < 0 ? "null" : r->verified ? "\"PASS\"" : "\"FAIL\"");
	return fclose(f) ? -errno : 0;
}
