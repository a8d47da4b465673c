/* SPDX-License-Identifier: GPL-2.0 */
/* topcount.h - what topcount.bpf.c and topcount.c share. */
#ifndef __TOPCOUNT_H
#define __TOPCOUNT_H

#define TC_COMM_LEN	16

/*
 * Per-process record.  In the arena version the hash maps tgid -> the
 * address of one of these (the table's values are u64, a comm does not fit
 * in one); in the map version it is the BPF hash map's value itself.
 */
struct tc_rec {
	__u64 count;			/* events, bumped with an atomic add */
	char comm[TC_COMM_LEN];		/* the task's comm at its first event */
};

/*
 * The arena version spreads its keys over nshards hash tables (a power of
 * two, set by userspace before tc_setup): a libarena-ds hash has a fixed
 * number of buckets (DS_HASH_BUCKETS, 4096), and at a million keys one
 * table's chains would be hundreds of nodes long.  The shard comes from
 * bits of the key's mix that the bucket index does not use.
 */
#define TC_MAX_SHARDS	256
#define tc_shard_of(key, nshards) \
	((__u32)(ds_hash_mix(key) >> 32) & ((nshards) - 1) & (TC_MAX_SHARDS - 1))

/* Keys the bench's fill program inserts: above every tgid (a u32). */
#define TC_FILL_BASE	(1ULL << 32)

/* SEC("syscall") tc_fill: insert keys TC_FILL_BASE + first .. + first + n - 1
 * into the arena table (map = 0) or the BPF hash map (map = 1). */
struct tc_fill_args {
	__u64 first;
	__u64 n;
	__u32 map;
	__s32 rc;	/* 0, or the first error */
};

#endif /* __TOPCOUNT_H */
