// SPDX-License-Identifier: GPL-2.0
/*
 * lincheck - check a recorded history for linearizability.
 *
 * Reads a history file (docs/LINCHECK.md), checks it against the set,
 * queue or stack specification and prints PASS, FAIL with the smallest
 * window that has no valid order, or UNKNOWN when a limit ran out.
 * Exit status: 0 PASS, 1 FAIL, 2 usage or bad file, 3 UNKNOWN.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lincheck.h"

const char *argp_program_version = "lincheck 1.0";

static const char doc[] =
	"Check a recorded operation history for linearizability.\v"
	"Exit status: 0 PASS, 1 FAIL, 2 usage or unreadable history, 3 UNKNOWN "
	"(a time or memory limit ran out first).\n\n"
	"Examples:\n"
	"  lincheck h.log                       model from the file header (default set)\n"
	"  lincheck --model queue --timeout 5 q.log\n"
	"  lincheck --export-edn h.edn h.log    also write a Knossos history\n"
	"  lincheck --export-json h.json --no-check h.log\n"
	"\nThe file format, the models and the limits are described in docs/LINCHECK.md.";

enum {
	OPT_EDN = 0x100,
	OPT_JSON,
	OPT_SEARCH,
	OPT_ELEM,
	OPT_NO_PARTITION,
	OPT_NO_MINIMISE,
	OPT_NO_CHECK,
	OPT_LINES,
};

static const struct argp_option options[] = {
	{ "model", 'm', "set|queue|stack", 0,
	  "Sequential specification (default: the file's model=, else set)", 0 },
	{ "timeout", 't', "S", 0, "Give up with UNKNOWN after S seconds (default 60; 0: none)", 0 },
	{ "mem-limit", 'M', "MIB", 0, "Search memory bound in MiB (default 1024; 0: none)", 0 },
	{ "search", OPT_SEARCH, "scan|peek|ignore", 0,
	  "Queue/stack: what a search means (default: file, else ignore)", 0 },
	{ "elem", OPT_ELEM, "value|key|both", 0,
	  "Queue/stack: pop output fields to match (default: file, else both)", 0 },
	{ "no-partition", OPT_NO_PARTITION, NULL, 0, "Set: do not split the history by key", 0 },
	{ "no-minimise", OPT_NO_MINIMISE, NULL, 0,
	  "On FAIL, show the whole failing partition", 0 },
	{ "lines", OPT_LINES, "N", 0, "Show at most N operations of a FAIL window (default 40; 0: all)", 0 },
	{ "export-edn", OPT_EDN, "FILE", 0, "Write the history as Knossos EDN", 0 },
	{ "export-json", OPT_JSON, "FILE", 0, "Write the history as Porcupine-style JSON", 0 },
	{ "no-check", OPT_NO_CHECK, NULL, 0, "Only export, do not check", 0 },
	{ "quiet", 'q', NULL, 0, "Print only the verdict line", 0 },
	{ 0 },
};

struct args {
	struct lin_options opt;
	const char *file, *edn, *json;
	size_t lines;
	int no_check, quiet;
};

static int parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || *v < 0 ? -1 : 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	double d;

	switch (key) {
	case 'm':
		a->opt.model = lincheck_model_parse(arg);
		if (a->opt.model < 0)
			argp_error(state, "unknown model '%s'", arg);
		break;
	case 't':
		if (parse_double(arg, &d))
			argp_error(state, "bad timeout '%s'", arg);
		a->opt.timeout_s = d;
		break;
	case 'M':
		if (parse_double(arg, &d))
			argp_error(state, "bad memory limit '%s'", arg);
		a->opt.mem_limit = (size_t)(d * 1024 * 1024);
		break;
	case OPT_SEARCH:
		a->opt.search = lincheck_search_parse(arg);
		if (a->opt.search < 0)
			argp_error(state, "unknown search mode '%s'", arg);
		break;
	case OPT_ELEM:
		a->opt.elem = lincheck_elem_parse(arg);
		if (a->opt.elem < 0)
			argp_error(state, "unknown elem mode '%s'", arg);
		break;
	case OPT_NO_PARTITION:
		a->opt.no_partition = 1;
		break;
	case OPT_NO_MINIMISE:
		a->opt.no_minimise = 1;
		break;
	case OPT_LINES:
		if (parse_double(arg, &d))
			argp_error(state, "bad line count '%s'", arg);
		a->lines = (size_t)d;
		break;
	case OPT_EDN:
		a->edn = arg;
		break;
	case OPT_JSON:
		a->json = arg;
		break;
	case OPT_NO_CHECK:
		a->no_check = 1;
		break;
	case 'q':
		a->quiet = 1;
		break;
	case ARGP_KEY_ARG:
		if (a->file)
			argp_error(state, "only one history file");
		a->file = arg;
		break;
	case ARGP_KEY_END:
		if (!a->file)
			argp_error(state, "no history file");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int export(const char *path, const struct lin_history *h, int model, int edn)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f) {
		fprintf(stderr, "lincheck: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ret = edn ? lincheck_export_edn(f, h, model) : lincheck_export_json(f, h, model);
	if (fclose(f) || ret) {
		fprintf(stderr, "lincheck: writing %s failed\n", path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct argp argp = { options, parse_opt, "FILE", doc, NULL, NULL, NULL };
	struct lin_history h;
	struct lin_report r;
	struct args a = { .lines = 40 };
	char err[256];
	int ret;

	lincheck_options_init(&a.opt, LIN_MODEL_NONE);
	a.opt.search = LIN_SEARCH_NONE;
	a.opt.elem = LIN_ELEM_NONE;
	/* argp exits with status 64 on usage errors; the contract is 2. */
	argp_err_exit_status = 2;
	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	lincheck_history_init(&h);
	if (lincheck_load(a.file, &h, err, sizeof(err))) {
		fprintf(stderr, "lincheck: %s%s%s\n", strncmp(err, a.file, strlen(a.file)) ?
			a.file : "", strncmp(err, a.file, strlen(a.file)) ? ": " : "", err);
		lincheck_history_free(&h);
		return 2;
	}
	if ((a.edn && export(a.edn, &h, a.opt.model, 1)) ||
	    (a.json && export(a.json, &h, a.opt.model, 0))) {
		lincheck_history_free(&h);
		return 2;
	}
	if (a.no_check) {
		lincheck_history_free(&h);
		return 0;
	}
	ret = lincheck_check(&h, &a.opt, &r);
	if (a.quiet)
		printf("lincheck: %s\n", lincheck_result_str(ret));
	else
		lincheck_report_print(stdout, &h, &r, a.lines);
	lincheck_report_free(&r);
	lincheck_history_free(&h);
	return ret;
}
