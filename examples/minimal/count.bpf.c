// SPDX-License-Identifier: GPL-2.0
/*
 * count.bpf.c - a second object of the same application that also uses
 * libarena-ds: it counts getppid() calls per process in its own arena hash.
 * Both objects and the library link into one with `bpftool gen object`.
 */
#include <libarena-ds/ds_hash.h>

struct ds_hash_head __arena *calls;
__u32 target_tgid;

SEC("syscall")
int count_setup(void *ctx)
{
	if (!calls)
		calls = ds_hash_new();
	return calls ? 0 : -12;
}

/* A tracepoint cannot take pages on every kernel: only the head's reserve
 * of objects is used here, and a full arena just misses a count. */
SEC("tp/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 n = 0;

	if (!calls || tgid != target_tgid)
		return 0;
	if (ds_hash_search(calls, tgid, &n) == DS_SUCCESS)
		ds_hash_update(calls, tgid, n + 1);
	else
		ds_hash_insert(calls, tgid, 1);
	return 0;
}
