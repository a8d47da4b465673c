// SPDX-License-Identifier: GPL-2.0
/*
 * minimal.c - userspace half of the minimal libarena-ds application:
 * open -> load -> attach the library -> let the kernel fill a hash and a
 * queue -> read both directly in the mmap'd arena -> check -> clean up.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libarena-ds/ds_hash.h>
#include <libarena-ds/ds_msqueue.h>
#include <libarena-ds/user.h>
#include "minimal.h"
#include "minimal.skel.h"

static struct env {
	__u64 n;
	int calls;
} env = { .n = 1000, .calls = 100 };

const char *argp_program_version = "minimal 1.0";
static const char doc[] =
	"Fill an arena hash and an arena queue from BPF, read them from userspace.\n"
	"\n"
	"USAGE: minimal [-n KEYS] [-c CALLS]\n"
	"\n"
	"EXAMPLES:\n"
	"    minimal            # 1000 keys\n"
	"    minimal -n 50000   # 50000 keys\n";

static const struct argp_option opts[] = {
	{ "keys", 'n', "KEYS", 0, "keys the kernel inserts (1..1000000, default 1000)", 0 },
	{ "calls", 'c', "CALLS", 0, "getppid() calls the second object counts (default 100)", 0 },
	{},
};

/* Bad input: one line from argp and exit status 2. */
static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char *end;
	long v;

	switch (key) {
	case 'n':
	case 'c':
		v = strtol(arg, &end, 10);
		if (*end || v < 1 || v > 1000000)
			argp_error(state, "bad value '%s' for -%c", arg, key);
		if (key == 'n')
			env.n = v;
		else
			env.calls = v;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static int run(struct bpf_program *prog, void *ctx, size_t size)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = ctx, .ctx_size_in = size);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
		return -1;
	return (int)o.retval;
}

/* Every key is in the table with its value, and the queue gives them back
 * in the kernel's order. */
static int check(struct minimal_bpf *skel)
{
	struct ds_hash_head *table = skel->bss->table;
	struct ds_msqueue_head *queue = skel->bss->queue;
	__u64 k, key, v, found = 0, in_order = 0;

	for (k = 1; k <= env.n; k++)
		if (ds_hash_search(table, k, &v) == DS_SUCCESS && v == k * 10)
			found++;
	for (k = 1; ds_msqueue_pop(queue, &key, &v) == DS_SUCCESS; k++)
		if (key == k)
			in_order++;
	printf("hash: %llu of %llu keys found with their values\n",
	       (unsigned long long)found, (unsigned long long)env.n);
	printf("queue: %llu of %llu items in order, then empty\n",
	       (unsigned long long)in_order, (unsigned long long)env.n);
	if (ds_hash_verify(table) || ds_msqueue_verify(queue)) {
		fprintf(stderr, "minimal: verify failed\n");
		return -1;
	}
	return found == env.n && in_order == env.n && k == env.n + 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { opts, parse_arg, NULL, doc, NULL, NULL, NULL };
	struct fill_args fa = {};
	struct minimal_bpf *skel;
	__u64 calls = 0;
	int err, i;

	argp_err_exit_status = 2;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 2;
	skel = minimal_bpf__open();
	if (!skel) {
		fprintf(stderr, "minimal: opening the BPF object failed\n");
		return 1;
	}
	/* The arena's size is set here, not by a map definition of our own. */
	bpf_map__set_max_entries(skel->maps.arena, 1U << 16);
	skel->bss->target_tgid = getpid();
	err = minimal_bpf__load(skel);
	if (err) {
		fprintf(stderr, "minimal: loading failed (root? a kernel with BPF arenas?)\n");
		goto out;
	}
	err = ds_user_attach(skel->obj, 0);
	if (err)
		goto out;
	err = run(skel->progs.setup, NULL, 0) || run(skel->progs.count_setup, NULL, 0);
	if (err) {
		fprintf(stderr, "minimal: creating the structures failed\n");
		goto out;
	}
	fa.first = 1;
	fa.n = env.n;
	if (run(skel->progs.fill, &fa, sizeof(fa)) || fa.rc) {
		fprintf(stderr, "minimal: the kernel's inserts failed: %s\n", ds_strerror(fa.rc));
		err = -1;
		goto out;
	}
	err = check(skel);
	if (err)
		goto out;
	err = minimal_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "minimal: attaching the tracepoint failed\n");
		goto out;
	}
	for (i = 0; i < env.calls; i++)
		syscall(SYS_getppid);
	ds_hash_search(skel->bss->calls, getpid(), &calls);
	printf("count: %llu of %d getppid() calls counted by the second object\n",
	       (unsigned long long)calls, env.calls);
	err = calls == (__u64)env.calls ? 0 : -1;
out:
	ds_user_detach();
	minimal_bpf__destroy(skel);
	printf("%s\n", err ? "FAIL" : "OK");
	return err ? 1 : 0;
}
