/* SPDX-License-Identifier: GPL-2.0 */
/*
 * relay.h - the relay workload (-w relay), seen from both sides.
 *
 * Two lanes, two instances of one FIFO structure in the arena:
 *
 *   kernel producers --lane A--> userspace movers --lane B--> kernel consumers
 *   (relay_produce)              (threads, -t N)              (relay_consume)
 *
 * An item is one structure element: key = mover+1 << 56 | producer << 48 |
 * sequence number (mover 0 in lane A: the mover sets its id when it moves
 * the item), value = the time it entered its lane (bpf_ktime_get_ns() and
 * CLOCK_MONOTONIC are one clock); a mover restamps the value when it puts the
 * item into lane B.  The original enqueue time stays in the producer's side
 * record, which also counts how often the item left lane A (movers) and
 * lane B (consumers).  The records form a ring of RELAY_RING per producer:
 * before it reuses a record for item seq, the producer checks that item
 * seq - RELAY_RING left each lane exactly once (and waits while it has not
 * left lane B yet: at most RELAY_RING items in flight); after the run the
 * last RELAY_RING items are checked the same way.  So every item is checked
 * and memory does not grow with the run.
 *
 * Latencies go to log-linear histograms kept per consumer (kernel consumers:
 * in the arena; movers: private memory): no shared counter on the hot path.
 */
#ifndef __RELAY_H
#define __RELAY_H

#include "skeleton.h"

#define RELAY_MAX_PRODUCERS	16
#define RELAY_MAX_CONSUMERS	16
#define RELAY_MAX_MOVERS	64	/* one thread slot each */
/* Side records per producer = items it may have in flight (in either
 * lane): it waits (a "window stall") until item seq - RELAY_RING left lane
 * B.  Also keeps an unbounded lane from growing without limit. */
#define RELAY_RING		8192
#define RELAY_RING_MASK		((__u64)RELAY_RING - 1)

#define RELAY_SEQ_MASK		((1ULL << 48) - 1)
#define RELAY_KEY(mover1, prod, seq) \
	((__u64)(mover1) << 56 | (__u64)(prod) << 48 | ((seq) & RELAY_SEQ_MASK))
#define RELAY_KEY_MOVER(k)	((__u64)(k) >> 56)	/* mover id + 1; 0 in lane A */
#define RELAY_KEY_PROD(k)	(((__u64)(k) >> 48) & 0xff)
#define RELAY_KEY_SEQ(k)	((__u64)(k) & RELAY_SEQ_MASK)

/* Why a producer's run ended before its nops (besides ds return codes). */
#define RELAY_STOP_WINDOW	1

/* The side record of one item, written by its producer (seq, t_enq) and
 * counted by movers (low half of seen) and consumers (high half).  A mover
 * or consumer whose item's record already holds a later seq got a stale
 * copy: a duplicate. */
struct relay_rec {
	__u64 seq;
	__u64 t_enq;
	__u64 seen;
	__u64 pad;
};
#define RELAY_SEEN_A		1ULL
#define RELAY_SEEN_B		(1ULL << 32)

/*
 * Log-linear latency histogram: values below 16 ns have a bucket each;
 * above, every power of two is cut into 16 buckets (at most 6.25 % wide).
 */
#define RELAY_SUB_BITS		4
#define RELAY_NBUCKETS		1024	/* 976 used */

struct relay_hist {
	__u64 n;
	__u64 sum;
	__u64 max;
	__u64 b[RELAY_NBUCKETS];
};

/* Index of the highest set bit of @v (v > 0). */
static __always_inline __u32 relay_msb(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

static __always_inline __u32 relay_bucket(__u64 v)
{
	__u32 m;

	if (v < (1U << RELAY_SUB_BITS))
		return (__u32)v;
	m = relay_msb(v);
	return (m - RELAY_SUB_BITS + 1) << RELAY_SUB_BITS |
	       (__u32)((v >> (m - RELAY_SUB_BITS)) & ((1U << RELAY_SUB_BITS) - 1));
}

/* Largest value that falls into bucket @i. */
static __always_inline __u64 relay_bucket_high(__u32 i)
{
	__u32 m, sub;

	if (i < (1U << RELAY_SUB_BITS))
		return i;
	m = (i >> RELAY_SUB_BITS) + RELAY_SUB_BITS - 1;
	sub = i & ((1U << RELAY_SUB_BITS) - 1);
	return ((((__u64)1 << RELAY_SUB_BITS) + sub + 1) << (m - RELAY_SUB_BITS)) - 1;
}

/* Add @v to @h.  One writer per histogram: plain stores. */
static __always_inline void relay_hist_add(struct relay_hist __arena *h, __u64 v)
{
	h->b[relay_bucket(v) & (RELAY_NBUCKETS - 1)]++;
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

/* What one kernel consumer learned, in the arena (its own pages). */
struct relay_cons_state {
	__u64 items;		/* items taken from lane B */
	__u64 bad_key;		/* items whose key names no producer / mover */
	__u64 stale;		/* items whose record was reused: duplicates */
	__u64 order_viol;	/* per (producer, mover) order broken */
	__u64 viol_key;		/* the first offender */
	__u64 viol_prev;	/* and the sequence number seen before it */
	__u64 pad[2];
	struct relay_hist lat_b;	/* enqueue into B -> dequeue here */
	struct relay_hist lat_e2e;	/* producer's enqueue -> dequeue here */
	/* last sequence number + 1 seen per (producer, mover) */
	__u64 last[RELAY_MAX_PRODUCERS * RELAY_MAX_MOVERS];
};

/* SEC("syscall") relay_produce and relay_consume */
struct skel_relay_args {
	__u64 state;		/* producer: its records; consumer: its state */
	__u64 seq;		/* producer, in/out: next sequence number */
	__u64 end;		/* producer: last sequence number + 1 */
	__u32 nops;		/* items per run at most */
	__u32 id;		/* producer id */
	__u32 done;		/* out: items this run */
	__s32 stop;		/* out: what ended the run early (a ds code,
				 * RELAY_STOP_WINDOW), or 0 */
	__u64 bad;		/* producer, in/out: reused records whose item
				 * did not leave both lanes exactly once */
	__u64 bad_seq;		/* the first of them */
	__u64 bad_seen;		/* and its seen counts */
};

/* SEC("syscall") relay_verify: lane B, verified from the kernel */
struct skel_relay_verify_args {
	__s32 rc;
	__u32 reason;
	__s32 flush_rc;
	__u32 pad;
};

#ifndef __BPF__
/* ------------------------------------------------------------ userspace */
#include <stdio.h>
#include "runner.h"

struct relay_lane {
	__u64 items;
	double items_per_s;
	__u64 p50, p90, p99, max;	/* ns */
	__u64 mean;
};

struct relay_result {
	int producers, movers, consumers;
	__u64 produced, moved, consumed;
	struct relay_lane lane_a, lane_b, e2e;
	double secs;
	__u64 full_a;			/* producers' FULL answers from lane A */
	__u64 window_stalls;		/* producers waiting for their window */
	__u64 full_b;			/* movers' FULL answers from lane B, retried */
	__u64 full_b_gave_up;		/* items a mover could not place: lost */
	__u64 empty_a, empty_b;		/* empty polls of movers and consumers */
	__u64 errors;			/* BUSY / NOMEM / other faults */
	__u64 order_viol_a, order_viol_b;
	__u64 bad_keys;
	__u64 lost, duplicated;		/* by the side records */
	__u64 bad_prod, bad_seq, bad_seen;	/* first offender */
	bool have_bad;
	__s64 elements_a, elements_b;
	/* Items still on their way when the run ended (interrupted or -d):
	 * not yet out of lane A, out of A but not yet out of lane B.  They
	 * are lost only as far as the lanes do not hold them. */
	__u64 queued_a, queued_b;
	char fault[16];			/* injected test fault, or "" */
};

/*
 * Check that -w relay can run @md with @movers threads, @producers kernel
 * producers and as many consumers.  Prints one line and returns -1 if not.
 */
int relay_check(const struct ds_metadata *md, int movers, int producers);

/*
 * After kern_init_ds(): create lane B, the side records (@ops per
 * producer) and the consumers' state, and give the workers (cfg->threads
 * movers, then cfg->kworkers / 2 producers and as many consumers) their
 * thread bodies.  Returns 0 or -ENOMEM.
 */
int relay_prepare(struct kern *k, const struct run_cfg *cfg, struct worker *w);

/* After the run: gather counters, histograms, side records into @out and
 * the workers' counts (for the per-thread tables). */
void relay_finish(struct kern *k, const struct run_cfg *cfg, struct worker *w,
		  struct relay_result *out);

/* -v: exactly once, order, both lanes verified from both sides and empty,
 * allocator balanced.  Returns 1 (PASS) or 0 and the reason in @msg. */
int relay_verify(struct kern *k, const struct run_cfg *cfg, const struct relay_result *r,
		 char *msg, size_t n);

void relay_print(FILE *f, const struct relay_result *r);
void relay_json(FILE *f, const struct relay_result *r);
#endif

#endif /* __RELAY_H */
