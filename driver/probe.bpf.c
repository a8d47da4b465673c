// SPDX-License-Identifier: GPL-2.0
/*
 * probe.bpf.c - what this kernel lets us do, asked one program at a time:
 *   probe_lsm:      can a sleepable LSM program load (BPF trampolines)?
 *   probe_tp_alloc: may a non-sleepable tracepoint take arena pages
 *                   (kernels >= 7.0)?
 * The driver loads each alone, with autoload, and keeps the answers.
 */
#include <libarena-ds/common.h>
#include <bpf/bpf_tracing.h>

/* This object is not linked with the library, so it declares the kfuncs
 * it probes itself. */
void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, __u32 page_cnt,
				    int node_id, __u64 flags) __ksym __weak;
void bpf_arena_free_pages(void *map, void __arena *ptr, __u32 page_cnt) __ksym __weak;

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
