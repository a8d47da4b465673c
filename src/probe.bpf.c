// SPDX-License-Identifier: GPL-2.0
/*
 * probe.bpf.c - what this kernel lets us do, asked one program at a time:
 *   probe_lsm:      can a sleepable LSM program load (BPF trampolines)?
 *   probe_tp_alloc: may a non-sleepable tracepoint take arena pages
 *                   (kernels >= 7.0)?
 * The driver loads each alone, with autoload, and keeps the answers.
 */
#include "bpf_arena_common.h"
#include <bpf/bpf_tracing.h>

SEC("lsm.s/file_open")
int BPF_PROG(probe_lsm, struct file *file)
{
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int probe_tp_alloc(void *ctx)
{
	void __arena *p = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	if (p)
		bpf_arena_free_pages(&arena, p, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
