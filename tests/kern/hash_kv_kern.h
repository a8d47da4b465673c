/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hash_kv_kern.h - what tests/kern/hash_kv_kern.bpf.c and its userspace
 * half (hash_kv_kern.c) share: the wide keys and values of the test (a
 * pid + comm key of 4 + 16 bytes, three 8-byte counters), built the same
 * way on both sides.
 */
#ifndef __HASH_KV_KERN_H
#define __HASH_KV_KERN_H

#define KV_KS 20
#define KV_VS 24
#define KV_CPUS 64	/* staging rows (CPU slots) */

struct kv_key {
	__u32 pid;
	char comm[16];
};

/* A staging row in the arena: BPF passes keys and values by arena
 * pointer. */
struct kv_stage {
	struct kv_key key;
	__u32 pad;
	__u64 val[3];
	__u64 out[3];
};

/* SEC("syscall") kern_ops / kern_check / kern_verify context. */
struct kv_args {
	__u64 first;	/* keys first .. first + n - 1 */
	__u64 n;
	__u64 done;	/* keys handled */
	__u64 bad;	/* answers or values not as expected */
	__s64 rc;	/* kern_verify: its return code */
};

/* Key @i: pid i, comm "kv-" and a pattern of i. */
static __always_inline void kv_key_of(struct kv_key __arena *k, __u64 i)
{
	int j;

	k->pid = (__u32)i;
	for (j = 0; j < 16; j++)
		k->comm[j] = j == 0 ? 'k' : j == 1 ? 'v' : j == 2 ? '-' :
			     j < 11 ? 'a' + ((i >> (j * 2)) & 15) : 0;
}

/* Value of key @i, version @ver. */
static __always_inline void kv_val_of(__u64 __arena *v, __u64 i, __u64 ver)
{
	v[0] = i * 1000 + ver;
	v[1] = i;
	v[2] = ~i ^ ver;
}

#endif /* __HASH_KV_KERN_H */
