/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/progs.h - the context of the library's SEC("syscall") programs
 * (lib/libarena.bpf.c), which lib/user.c runs with bpf_prog_test_run_opts.
 */
#ifndef __LIB_PROGS_H
#define __LIB_PROGS_H

struct libarena_args {
	__u64 arg0;	/* init: max pages; pages: count; refill: target; reclaim: flush */
	__u64 arg1;	/* init: reserve low water */
	__u64 ret;	/* init: allocator state; pages: first page (0: none) */
	__s64 rc;	/* 0 or a negative errno */
};

#endif /* __LIB_PROGS_H */
