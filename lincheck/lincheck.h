/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lincheck.h - linearizability checking of recorded operation histories.
 *
 * A history is a list of struct lin_op records, one per operation, each
 * with its invocation and response times.  lincheck_check() decides whether
 * some order of the operations exists that (1) respects real time: an
 * operation that returned before another was called comes first, and
 * (2) is a legal run of a sequential specification (a set/map with unique
 * keys, a FIFO queue or a LIFO stack).  The answer is LIN_OK, LIN_FAIL
 * (with the smallest failing window found) or LIN_UNKNOWN when the time or
 * memory bound given by the caller ran out first.  See docs/LINCHECK.md.
 *
 * The record itself is plain C with 64-bit fields so that BPF programs can
 * fill it too; everything else is userspace only.
 */
#ifndef __LINCHECK_H
#define __LINCHECK_H

#include <libarena-ds/api.h>

/* ret_ns of an operation that never returned (it may or may not have
 * taken effect; its result is unknown). */
#define LIN_PENDING	(~0ULL)

/* Context ids: userspace threads, kernel workers and hooks print as
 * u<n>, k<n> and h<n>.  Any other value prints as a plain number. */
#define LIN_CTX_USER(n)		((__u64)(n))
#define LIN_CTX_KERNEL(n)	((1ULL << 32) | (__u64)(n))
#define LIN_CTX_HOOK(n)		((2ULL << 32) | (__u64)(n))

/* One operation of a history. */
struct lin_op {
	__u64 ctx;		/* who ran it: LIN_CTX_*() */
	__u64 op;		/* enum ds_op: DS_OP_INSERT/DELETE/SEARCH/POP */
	__u64 key;		/* argument */
	__u64 value;		/* argument (insert) */
	__s64 rc;		/* DS_SUCCESS or DS_ERROR_* */
	__u64 out_key;		/* pop */
	__u64 out_value;	/* search, pop */
	__u64 call_ns;		/* invocation (CLOCK_MONOTONIC / bpf_ktime_get_ns) */
	__u64 ret_ns;		/* response, or LIN_PENDING */
};

#ifndef __BPF__
#include <stddef.h>
#include <stdio.h>

/* Results; the values are the lincheck tool's exit codes. */
enum lin_result {
	LIN_OK		= 0,	/* a valid order exists */
	LIN_FAIL	= 1,	/* no valid order exists */
	LIN_ERROR	= 2,	/* malformed history or bad options */
	LIN_UNKNOWN	= 3,	/* the time or memory limit ran out first */
};

/* Sequential specifications. */
enum lin_model {
	LIN_MODEL_NONE = -1,	/* history files: not given */
	LIN_MODEL_SET = 0,	/* set/map with unique keys; pop = take minimum */
	LIN_MODEL_QUEUE,	/* FIFO: insert = enqueue, pop/delete = dequeue */
	LIN_MODEL_STACK,	/* LIFO: insert = push, pop/delete = pop */
	LIN_MODEL_MAX,
};

/* What search means for a queue or a stack (sets: always by key). */
enum lin_search {
	LIN_SEARCH_NONE = -1,	/* history files: not given */
	LIN_SEARCH_SCAN = 0,	/* first element (from the front/top) with
				 * this key, its value in out_value */
	LIN_SEARCH_PEEK,	/* value of the front/top element, key ignored */
	LIN_SEARCH_IGNORE,	/* not checked */
	LIN_SEARCH_MAX,
};

/* Which output fields a queue/stack pop must match against the element. */
enum lin_elem {
	LIN_ELEM_NONE = -1,	/* history files: not given */
	LIN_ELEM_VALUE = 0,	/* out_value == the inserted value */
	LIN_ELEM_KEY,		/* out_key == the inserted key */
	LIN_ELEM_BOTH,		/* both */
	LIN_ELEM_MAX,
};

/* A history: a growable array of operations plus what its file said. */
struct lin_history {
	struct lin_op *ops;
	size_t n;
	size_t cap;
	int model;		/* enum lin_model, LIN_MODEL_NONE if unknown */
	int search;		/* enum lin_search, LIN_SEARCH_NONE if unknown */
	int elem;		/* enum lin_elem, LIN_ELEM_NONE if unknown */
};

struct lin_options {
	int model;		/* enum lin_model */
	int search;		/* enum lin_search (queue/stack) */
	int elem;		/* enum lin_elem (queue/stack) */
	int no_partition;	/* 1: never split a set history by key */
	int no_minimise;	/* 1: report the whole failing partition */
	double timeout_s;	/* wall-clock bound for the whole check; <= 0: none */
	size_t mem_limit;	/* bytes of search memory; 0: none */
	unsigned max_minimise;	/* failing partitions to minimise (0: 8) */
};

#define LIN_MAX_FAIL_KEYS 16

struct lin_report {
	int result;		/* enum lin_result */
	char why[160];		/* UNKNOWN / ERROR: what ran out or was wrong */
	int model;
	int partitioned;	/* 1: checked key by key */
	size_t ops_total;	/* records in the history */
	size_t ops_checked;	/* records the search considered */
	size_t ops_ignored;	/* no-op results (FULL, NOMEM, BUSY, INVALID,
				 * CORRUPT), other op kinds, pending searches,
				 * searches with search=ignore */
	size_t ops_pending;	/* records without a response */
	size_t partitions;
	size_t partitions_done;	/* decided (OK or FAIL) */
	size_t partitions_failed;
	size_t partitions_unknown;
	unsigned long long steps;	/* search steps, all partitions */
	unsigned long long memo_entries;	/* (set, state) pairs stored */
	size_t peak_mem;	/* bytes, largest single search */
	double elapsed_s;
	/* FAIL: the smallest window found. */
	int has_key;		/* partitioned: fail_key is the partition */
	unsigned long long fail_key;
	size_t fail_keys_n;	/* failing partitions (first few listed) */
	unsigned long long fail_keys[LIN_MAX_FAIL_KEYS];
	size_t *window;		/* history indices, in call order */
	size_t window_n;
	unsigned long long window_cut_ns;	/* responses after it are cut */
	size_t culprit;		/* history index whose response ends it */
	int window_minimal;	/* 1: one response earlier, a valid order exists */
	size_t partition_n;	/* operations in the failing partition */
	unsigned long long t0_ns;	/* earliest call: times print relative */
};

/* History building and files. */
void lincheck_history_init(struct lin_history *h);
void lincheck_history_free(struct lin_history *h);
int lincheck_history_add(struct lin_history *h, const struct lin_op *op);
/* Text format, see docs/LINCHECK.md.  read returns 0, or -1 with a message
 * ("line N: ...") in err. */
int lincheck_read(FILE *f, struct lin_history *h, char *err, size_t errlen);
int lincheck_write(FILE *f, const struct lin_history *h);
int lincheck_load(const char *path, struct lin_history *h, char *err, size_t errlen);
int lincheck_save(const char *path, const struct lin_history *h);
/* Cross-checking exports: Knossos EDN (:invoke/:ok/:fail maps, one per line)
 * and a JSON array of Porcupine-style operations. */
int lincheck_export_edn(FILE *f, const struct lin_history *h, int model);
int lincheck_export_json(FILE *f, const struct lin_history *h, int model);

/* Checking. */
void lincheck_options_init(struct lin_options *o, int model);
int lincheck_check(const struct lin_history *h, const struct lin_options *o,
		   struct lin_report *r);
/* Print the verdict; a FAIL window shows at most max_lines operations
 * (0: all of them). */
void lincheck_report_print(FILE *f, const struct lin_history *h,
			   const struct lin_report *r, size_t max_lines);
void lincheck_report_free(struct lin_report *r);

/* Names. */
const char *lincheck_result_str(int result);
const char *lincheck_model_str(int model);
int lincheck_model_parse(const char *s);
const char *lincheck_search_str(int search);
int lincheck_search_parse(const char *s);
const char *lincheck_elem_str(int elem);
int lincheck_elem_parse(const char *s);
const char *lincheck_rc_str(long long rc);
/* Format a context id (u3, k0, h1 or a number) into buf. */
const char *lincheck_ctx_str(unsigned long long ctx, char *buf, size_t len);
#endif /* !__BPF__ */

#endif /* __LINCHECK_H */
