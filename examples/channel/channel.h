/* SPDX-License-Identifier: GPL-2.0 */
/* channel.h - what channel.bpf.c and channel.c share. */
#ifndef __CHANNEL_H
#define __CHANNEL_H

/* Which arena queues carry the items (both directions use the same kind). */
enum ch_queue {
	CH_MPMC = 0,		/* ds_mpmc: bounded ring, any producers/consumers */
	CH_MSQUEUE,		/* ds_msqueue: unbounded Michael-Scott queue */
	CH_SPSC,		/* ds_spsc: bounded ring, one producer, one consumer */
	CH_RINGBUF,		/* the comparison: BPF ringbuf down, user ringbuf up */
};

/* One item: its number and the kernel's time when it was sent.  In the
 * arena queues it is the (key, value) pair; in the ring buffers a sample. */
struct ch_item {
	__u64 seq;
	__u64 t0;
};

/* SEC("syscall") ch_produce: send items first .. first + n - 1 down. */
struct ch_produce_args {
	__u64 first;
	__u32 n;
	__u32 sent;		/* out: items that fit (the rest: queue full) */
};

/* SEC("syscall") ch_drain_*: take up to max replies, record each. */
struct ch_drain_args {
	__u32 max;
	__u32 got;		/* out */
};

/*
 * Latency histogram: exact below 16 ns, then 16 buckets per power of two
 * (about 6% wide).  The same function on both sides.
 */
#define CH_NBUCKETS	1024

/* Index of the highest set bit of @v (0 for 0 and 1). */
static __always_inline __u32 ch_msb(__u64 v)
{
	__u32 r = 0;

	/* a binary search for the highest set bit: no loop, no builtin */
#define CH_MSB_STEP(s) do { if (v >> (s)) { v >>= (s); r += (s); } } while (0)
	CH_MSB_STEP(32);
	CH_MSB_STEP(16);
	CH_MSB_STEP(8);
	CH_MSB_STEP(4);
	CH_MSB_STEP(2);
	CH_MSB_STEP(1);
#undef CH_MSB_STEP
	return r;
}

static __always_inline __u32 ch_bucket(__u64 ns)
{
	__u32 m;

	if (ns < 16)
		return (__u32)ns;
	m = ch_msb(ns);
	return ((m - 3) * 16 + ((ns >> (m - 4)) & 15)) & (CH_NBUCKETS - 1);
}

#ifndef __BPF__
/* The middle of bucket @b, in ns. */
static inline double ch_bucket_ns(__u32 b)
{
	__u32 m;

	if (b < 16)
		return b;
	m = b / 16 + 3;
	return (double)((16ULL + b % 16) << (m - 4)) + (double)(1ULL << (m - 4)) / 2;
}
#endif

#endif /* __CHANNEL_H */
