// SPDX-License-Identifier: GPL-2.0
/*
 * channel.bpf.c - the kernel ends of a kernel -> user -> kernel channel.
 *
 * ch_produce (a SEC("syscall") program that userspace runs at a fixed
 * offered rate) sends numbered, time-stamped items down to userspace
 * workers; the workers send each one back up; ch_drain_* take the replies
 * in the kernel, check that every item comes back exactly once and record
 * its round-trip time.  Down and up are either two libarena-ds queues in
 * the arena (mpmc, msqueue or spsc), or the kernel's own channels: a
 * BPF_MAP_TYPE_RINGBUF down and a BPF_MAP_TYPE_USER_RINGBUF up.
 */
#include <libarena-ds/ds_mpmc.h>
#include <libarena-ds/ds_msqueue.h>
#include <libarena-ds/ds_spsc.h>
#include "channel.h"

/* Set by userspace before ch_setup. */
__u32 queue_kind;		/* enum ch_queue */
__u64 limit;			/* items numbered 0 .. limit - 1 may be sent */

/* The arena queues of the chosen kind, made by ch_setup. */
struct ds_mpmc_head __arena *down_mpmc, *up_mpmc;
struct ds_msqueue_head __arena *down_ms, *up_ms;
struct ds_spsc_head __arena *down_spsc, *up_spsc;

/* What came back, counted where it lands. */
__u64 received;			/* first arrivals */
__u64 duplicates;		/* items that came back again */
__u64 unknown;			/* numbers never sent (>= limit) */
__u64 hist[CH_NBUCKETS];	/* round-trip times of first arrivals */

/* One bit per item number: set when it comes back.  Sized to limit by
 * userspace before load; mmap'able so that userspace can count the bits. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 17);
} down_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 1 << 17);
} up_urb SEC(".maps");

/* Arena pages kept for the msqueue's nodes (its inserts allocate). */
#define CH_RESERVE 64

/* Create the two queues of the chosen kind (sleepable: heads take pages). */
SEC("syscall")
int ch_setup(void *ctx)
{
	switch (queue_kind) {
	case CH_MPMC:
		down_mpmc = ds_mpmc_new();
		up_mpmc = ds_mpmc_new();
		return down_mpmc && up_mpmc ? 0 : -12;
	case CH_MSQUEUE:
		down_ms = ds_msqueue_new();
		up_ms = ds_msqueue_new();
		arena_refill(CH_RESERVE);
		return down_ms && up_ms ? 0 : -12;
	case CH_SPSC:
		down_spsc = ds_spsc_new();
		up_spsc = ds_spsc_new();
		return down_spsc && up_spsc ? 0 : -12;
	default:
		return 0;	/* the ring buffers are maps */
	}
}

/* One item down.  0, or non-zero when the channel is full. */
static __always_inline int ch_send(__u64 seq, __u64 t0)
{
	struct ch_item it = { .seq = seq, .t0 = t0 };

	switch (queue_kind) {
	case CH_MPMC:
		return ds_mpmc_insert(down_mpmc, seq, t0);
	case CH_MSQUEUE:
		return ds_msqueue_insert(down_ms, seq, t0);
	case CH_SPSC:
		return ds_spsc_insert(down_spsc, seq, t0);
	default:
		/* the consumer polls: no wakeup needed */
		return bpf_ringbuf_output(&down_rb, &it, sizeof(it), BPF_RB_NO_WAKEUP);
	}
}

/*
 * Send items a->first .. a->first + a->n - 1, each stamped with the time
 * it leaves.  Stops at the first that does not fit (a full ring); a->sent
 * says how many went.  One runner at a time (the spsc ring has one
 * producer).
 */
SEC("syscall")
int ch_produce(struct ch_produce_args *a)
{
	__u32 i, n = a->n;

	if (queue_kind == CH_MSQUEUE)
		arena_refill(CH_RESERVE);	/* nodes for the msqueue */
	for (i = ARENA_ZERO; i < n && can_loop; i++)
		if (ch_send(a->first + i, bpf_ktime_get_ns()))
			break;
	a->sent = i;
	return 0;
}

/* A reply arrived: check it is new and known, record its round trip. */
static __noinline int ch_record(__u64 seq, __u64 t0)
{
	__u64 now = bpf_ktime_get_ns(), bit, old, *w;
	__u32 idx = seq / 64;

	if (seq >= limit || !(w = bpf_map_lookup_elem(&seen, &idx))) {
		__sync_fetch_and_add(&unknown, 1);
		return 0;
	}
	bit = 1ULL << (seq & 63);
	old = __sync_fetch_and_or(w, bit);
	if (old & bit) {
		__sync_fetch_and_add(&duplicates, 1);
		return 0;
	}
	__sync_fetch_and_add(&hist[ch_bucket(now - t0)], 1);
	__sync_fetch_and_add(&received, 1);
	return 0;
}

/* One reply from the arena queue: 0, or non-zero when it is empty. */
static __always_inline int ch_take(__u64 *seq, __u64 *t0)
{
	switch (queue_kind) {
	case CH_MPMC:
		return ds_mpmc_pop(up_mpmc, seq, t0);
	case CH_MSQUEUE:
		return ds_msqueue_pop(up_ms, seq, t0);
	default:
		return ds_spsc_pop(up_spsc, seq, t0);
	}
}

/* Take up to a->max replies from the arena queue.  Any number of runners
 * for mpmc and msqueue, one at a time for spsc (its one consumer). */
SEC("syscall")
int ch_drain_arena(struct ch_drain_args *a)
{
	__u64 seq, t0;
	__u32 n;

	for (n = ARENA_ZERO; n < a->max && can_loop; n++) {
		if (ch_take(&seq, &t0))
			break;
		ch_record(seq, t0);
	}
	a->got = n;
	return 0;
}

static long ch_urb_sample(struct bpf_dynptr *dp, void *ctx)
{
	struct ch_item it;

	if (bpf_dynptr_read(&it, sizeof(it), dp, 0, 0))
		__sync_fetch_and_add(&unknown, 1);
	else
		ch_record(it.seq, it.t0);
	return 0;
}

/* Take every reply waiting in the user ring buffer. */
SEC("syscall")
int ch_drain_ringbuf(struct ch_drain_args *a)
{
	long n = bpf_user_ringbuf_drain(&up_urb, ch_urb_sample, NULL, 0);

	a->got = n > 0 ? n : 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
