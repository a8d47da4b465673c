// SPDX-License-Identifier: GPL-2.0
/*
 * hash_kv_kern.bpf.c - the wide-key hash (ds_hash_kv_*) called from BPF
 * programs: SEC("syscall") programs that insert, look up, update, delete
 * and verify (run by hash_kv_kern.c with bpf_prog_test_run_opts), and a
 * tracepoint that counts getppid() calls of one process in the value of
 * its pid + comm key, through the value's arena address.  Linked with
 * libarena-ds.bpf.o, so loading it puts the library's wide-key functions
 * through the verifier.
 */
#include <libarena-ds/ds_hash.h>
#include "hash_kv_kern.h"

struct ds_hash_head __arena *kvt;
struct kv_stage __arena *stage;	/* KV_CPUS rows */
__u32 target_tgid;
__u64 tp_hits, tp_misses;

/* Create the table and the staging rows (sleepable). */
SEC("syscall")
int kern_setup(void *ctx)
{
	arena_loop_arm(0);
	if (!kvt)
		kvt = ds_hash_new_kv(16, KV_KS, KV_VS);
	if (!stage)
		stage = arena_malloc_pages(KV_CPUS * sizeof(struct kv_stage));
	return kvt && stage ? 0 : -12;
}

static __always_inline int kv_same(__u64 __arena *a, __u64 __arena *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

/*
 * For each key: insert (then EXISTS), look up, update, look up again;
 * every fourth key also deleted (then absent).  The u64 calls must refuse
 * the table.  Userspace then reads what is left.
 */
SEC("syscall")
int kern_ops(struct kv_args *a)
{
	struct kv_stage __arena *s = stage;
	__u64 i;
	__u64 __arena *w;

	arena_loop_arm(0);
	a->done = 0;
	a->bad = 0;
	if (!kvt || !s)
		return -22;
	if (ds_hash_insert(kvt, 1, 1) != DS_ERROR_INVALID ||
	    ds_hash_search(kvt, 1, NULL) != DS_ERROR_INVALID)
		a->bad++;
	for (i = a->first; i < a->first + a->n && can_loop; i++) {
		kv_key_of(&s->key, i);
		kv_val_of(s->val, i, 1);
		if (ds_hash_kv_insert(kvt, &s->key, s->val) != DS_SUCCESS ||
		    ds_hash_kv_insert(kvt, &s->key, s->val) != DS_ERROR_EXISTS)
			a->bad++;
		if (ds_hash_kv_lookup(kvt, &s->key, s->out) || !kv_same(s->out, s->val))
			a->bad++;
		kv_val_of(s->val, i, 2);
		if (ds_hash_kv_update(kvt, &s->key, s->val) ||
		    ds_hash_kv_lookup(kvt, &s->key, s->out) || !kv_same(s->out, s->val))
			a->bad++;
		w = ds_hash_kv_value_ptr(kvt, &s->key);
		if (!w || w[1] != i)
			a->bad++;
		if (!(i % 4) && (ds_hash_kv_delete(kvt, &s->key) ||
				 ds_hash_kv_lookup(kvt, &s->key, NULL) != DS_ERROR_NOT_FOUND ||
				 ds_hash_kv_delete(kvt, &s->key) != DS_ERROR_NOT_FOUND))
			a->bad++;
		a->done++;
	}
	return 0;
}

/* Keys userspace inserted with version 7: found with that value, then
 * updated to version 8 for userspace to read. */
SEC("syscall")
int kern_check(struct kv_args *a)
{
	struct kv_stage __arena *s = stage;
	__u64 i;

	arena_loop_arm(0);
	a->done = 0;
	a->bad = 0;
	if (!kvt || !s)
		return -22;
	for (i = a->first; i < a->first + a->n && can_loop; i++) {
		kv_key_of(&s->key, i);
		kv_val_of(s->val, i, 7);
		if (ds_hash_kv_lookup(kvt, &s->key, s->out) || !kv_same(s->out, s->val))
			a->bad++;
		kv_val_of(s->val, i, 8);
		if (ds_hash_kv_update(kvt, &s->key, s->val))
			a->bad++;
		a->done++;
	}
	return 0;
}

/* Verify from the kernel (and resize: the table grew past its 16). */
SEC("syscall")
int kern_verify(struct kv_args *a)
{
	arena_loop_arm(0);
	if (!kvt)
		return -22;
	while (ds_hash_maintain(kvt) == DS_ERROR_BUSY && can_loop)
		;
	a->rc = ds_hash_verify(kvt);
	return 0;
}

/* getppid() of the target process: count it in word 0 of the value of
 * its {pid, comm} key (inserted by userspace), in place. */
SEC("tp/syscalls/sys_enter_getppid")
int tp_getppid(void *ctx)
{
	struct kv_stage __arena *s;
	char comm[16];
	__u64 __arena *v;
	__u32 cpu = bpf_get_smp_processor_id() % KV_CPUS;
	int j;

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid || !kvt || !stage)
		return 0;
	arena_loop_arm(4096);
	s = stage + cpu;
	bpf_get_current_comm(comm, sizeof(comm));
	s->key.pid = target_tgid;
	for (j = 0; j < 16; j++)
		s->key.comm[j] = comm[j];
	v = ds_hash_kv_value_ptr(kvt, &s->key);
	if (v) {
		arena_atomic_add(&v[0], 1);
		__sync_fetch_and_add(&tp_hits, 1);
	} else {
		__sync_fetch_and_add(&tp_misses, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
