// SPDX-License-Identifier: GPL-2.0
/*
 * hash_kv_kern.c - userspace half of the wide-key hash's kernel test
 * (tests/cli/test_hash_kv_kern.sh): loads hash_kv_kern.bpf.o (the
 * verifier checks the library's ds_hash_kv_* functions as called from
 * SEC("syscall") and tracepoint programs), lets the kernel insert, look
 * up, update and delete wide keys, reads what it wrote through the mmap'd
 * arena, writes keys the kernel then reads and updates, counts getppid()
 * calls in a {pid, comm} key's value from a tracepoint, and verifies from
 * both sides.  One line per check; "OK" or "FAIL" last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libarena-ds/ds_hash.h>
#include <libarena-ds/user.h>
#include "hash_kv_kern.h"
#include "hash_kv_kern.skel.h"

#define N 2000
#define CALLS 100

static int failed;

static void report(int ok, const char *what, long long a, long long b)
{
	printf("%s: %s (%lld, %lld)\n", ok ? "pass" : "FAIL", what, a, b);
	failed |= !ok;
}

static int run(struct bpf_program *prog, void *ctx, size_t size)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = ctx, .ctx_size_in = size);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
		return -1;
	return (int)o.retval;
}

static int count_one(const void *key, const void *value, void *ctx)
{
	(void)key;
	(void)value;
	(*(long *)ctx)++;
	return 0;
}

/* Keys 1..N after kern_ops: every fourth deleted, the others at version 2;
 * then N+1..2N written here at version 7, checked and updated to 8 by the
 * kernel. */
static void both_ways(struct hash_kv_kern_bpf *skel, struct ds_hash_head *h)
{
	struct kv_args a = { .first = 1, .n = N };
	__u64 val[3], want[3], i, bad = 0, present = 0;
	struct kv_key k;
	long walked = 0;
	int rc;

	rc = run(skel->progs.kern_ops, &a, sizeof(a));
	report(!rc && a.done == N && !a.bad, "kernel: insert, exists, lookup, update, value_ptr, delete",
	       a.done, a.bad);
	for (i = 1; i <= N; i++) {
		kv_key_of(&k, i);
		rc = ds_hash_kv_lookup(h, &k, val);
		kv_val_of(want, i, 2);
		if (i % 4 ? rc || memcmp(val, want, sizeof(val)) : rc != DS_ERROR_NOT_FOUND)
			bad++;
		present += !rc;
	}
	report(!bad && present == N - N / 4, "user reads the kernel's keys and values", present, bad);
	for (i = N + 1, bad = 0; i <= 2 * N; i++) {
		kv_key_of(&k, i);
		kv_val_of(val, i, 7);
		bad += ds_hash_kv_insert(h, &k, val) != DS_SUCCESS;
	}
	a = (struct kv_args){ .first = N + 1, .n = N };
	rc = run(skel->progs.kern_check, &a, sizeof(a));
	report(!rc && !bad && a.done == N && !a.bad, "kernel reads the user's keys and updates them",
	       a.done, a.bad);
	for (i = N + 1, bad = 0; i <= 2 * N; i++) {
		kv_key_of(&k, i);
		kv_val_of(want, i, 8);
		bad += ds_hash_kv_lookup(h, &k, val) || memcmp(val, want, sizeof(val));
	}
	report(!bad, "user reads the kernel's updates", N, bad);
	rc = (int)ds_hash_kv_walk(h, count_one, &walked);
	report(rc == walked && walked == 2 * N - N / 4, "user walks every element once", walked,
	       2 * N - N / 4);
}

/* CALLS getppid() calls counted by the tracepoint in our key's value. */
static void tracepoint(struct hash_kv_kern_bpf *skel, struct ds_hash_head *h)
{
	__u64 val[3] = { 0, 0, 0 };
	struct kv_key k;
	char comm[17] = "";
	int i, err;

	memset(&k, 0, sizeof(k));
	prctl(PR_GET_NAME, comm);
	k.pid = getpid();
	memcpy(k.comm, comm, sizeof(k.comm));	/* zero-padded, as the kernel pads */
	report(ds_hash_kv_insert(h, &k, val) == DS_SUCCESS, "user inserts its {pid, comm} key", 0, 0);
	err = hash_kv_kern_bpf__attach(skel);
	report(!err, "tracepoint attached", err, 0);
	if (err)
		return;
	for (i = 0; i < CALLS; i++)
		syscall(SYS_getppid);
	hash_kv_kern_bpf__detach(skel);
	ds_hash_kv_lookup(h, &k, val);
	report(val[0] == CALLS && skel->bss->tp_hits == CALLS && !skel->bss->tp_misses,
	       "tracepoint counted getppid() in the value, in place", (long long)val[0], CALLS);
}

int main(void)
{
	struct hash_kv_kern_bpf *skel;
	struct kv_args a = {};
	struct ds_hash_head *h;
	int err;

	skel = hash_kv_kern_bpf__open();
	if (!skel) {
		fprintf(stderr, "hash_kv_kern: opening the BPF object failed\n");
		return 1;
	}
	bpf_map__set_max_entries(skel->maps.arena, 1U << 16);
	skel->bss->target_tgid = getpid();
	err = hash_kv_kern_bpf__load(skel);
	report(!err, "the wide-key functions pass the verifier (syscall and tracepoint programs)",
	       err, 0);
	if (err)
		goto out;
	err = ds_user_attach(skel->obj, 0);
	if (err)
		goto out;
	err = run(skel->progs.kern_setup, NULL, 0);
	h = skel->bss->kvt;
	report(!err && h && h->key_size == KV_KS && h->value_size == KV_VS,
	       "kernel created a 20-byte key, 24-byte value table", err, 0);
	if (err || !h)
		goto out;
	both_ways(skel, h);
	tracepoint(skel, h);
	report(ds_hash_verify(h) == DS_SUCCESS, "user verify", h->verify_reason, 0);
	err = run(skel->progs.kern_verify, &a, sizeof(a));
	report(!err && a.rc == DS_SUCCESS && h->nbuckets >= 2048, "kernel maintain + verify",
	       a.rc, h->nbuckets);
out:
	ds_user_detach();
	hash_kv_kern_bpf__destroy(skel);
	failed |= err != 0;
	printf("%s\n", failed ? "FAIL" : "OK");
	return failed;
}
