/* SPDX-License-Identifier: GPL-2.0 */
/* minimal.h - what minimal.bpf.c and minimal.c share. */
#ifndef __MINIMAL_H
#define __MINIMAL_H

/* SEC("syscall") fill: insert keys first .. first + n - 1. */
struct fill_args {
	__u64 first;
	__u64 n;
	__s64 rc;	/* 0, or the first error */
};

#endif /* __MINIMAL_H */
