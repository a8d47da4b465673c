/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ebr.h - epoch-based reclamation (EBR) shared by BPF programs
 * and userspace threads: the domain a structure's head embeds, and what
 * applications call on it.  The design and the inline fast paths the
 * structures use are in lib/ebr.h.
 */
#ifndef __LIBARENA_DS_EBR_H
#define __LIBARENA_DS_EBR_H

#include "common.h"

#define ARENA_EBR_SLOTS		ARENA_NR_SLOTS
#define ARENA_EBR_ADVANCE_EVERY	64	/* retires between advance attempts */
#define ARENA_EBR_STALL_NS	(100ULL * 1000 * 1000)	/* 100 ms */
#define ARENA_EBR_REAPING	(~0ULL)	/* owner value while a reaper clears it */
#define ARENA_EBR_ORPHANS	4	/* lists held by advancers that lost a race */
#define ARENA_EBR_ADDR_BITS	32	/* an orphan word: epoch tag << 32 | arena offset */
#define ARENA_EBR_TAG_MASK	((1ULL << (64 - ARENA_EBR_ADDR_BITS)) - 1)
#if defined(__BPF__) && !defined(ARENA_SANITIZE)
#define ARENA_EBR_FREE_MAX	4096	/* nodes one advance frees; the rest is parked */
#else
#define ARENA_EBR_FREE_MAX	(~0U)
#endif

struct arena_ebr_rec {
	__u64 state;		/* 0 idle, epoch << 1 | 1 in a critical section */
	__u64 retired;		/* written only by the record's holder */
	__u64 owner;		/* userspace records: tgid << 32 | tid, 0 = none */
	__u64 block_ns;		/* first time an advancer found it lagging */
	__u64 stall_epoch;	/* epoch + 1 of the last stall counted */
	__u64 nest;		/* userspace: the holder's open sections (pins) */
} ARENA_ALIGNED_CL;

struct arena_ebr {
	__u64 epoch ARENA_ALIGNED_CL;
	__u64 limbo[3] ARENA_ALIGNED_CL;	/* arena addresses, linked via word 0 */
	__u64 blocked ARENA_ALIGNED_CL;		/* advance attempts refused */
	__u64 advances;
	__u64 stalls;				/* stall episodes seen */
	__u64 reaped;				/* records of dead threads cleared */
	__u64 stall_ns;				/* stall threshold, 0: the default */
	__u64 stall_slot;			/* record of the last stall + 1 */
	__u64 orphan[ARENA_EBR_ORPHANS];	/* lists a lost advance race held */
	__u64 orphaned;				/* lists put there */
	__u64 lost;				/* lists no place could take (0!) */
	__u64 corrupt;				/* wild links met in limbo lists */
	struct arena_ebr_rec rec[ARENA_EBR_SLOTS];
};

/* What a domain did, for reports (arena_ebr_stats_read()). */
struct arena_ebr_stats {
	__u64 epoch, advances, blocked, stalls, reaped;
	__u64 corrupt;		/* wild links met in limbo lists */
	__u32 stall_slot;	/* record of the last stall + 1, 0 if none */
	__u32 active;		/* records in a critical section now */
};

/*
 * arena_ebr_stats_read - snapshot of @ebr's counters into @out.
 * Any context.  Returns 0.
 */
DS_API int arena_ebr_stats_read(struct arena_ebr __arena *ebr __arg_arena,
				struct arena_ebr_stats *out);

/*
 * arena_ebr_quiesce - free everything retired in @ebr.  Only when no
 * critical section runs on it.  Returns 0 when nothing is left, 1 when a
 * participant (active or stalled) still holds something back.
 */
DS_API int arena_ebr_quiesce(struct arena_ebr __arena *ebr __arg_arena);

#ifndef __BPF__
/* Userspace: clear the records of threads that died (housekeeping).
 * Returns the records cleared. */
int arena_ebr_reap_dead(struct arena_ebr *ebr);

/*
 * arena_ebr_pin - open a pinned section on @ebr for the calling thread:
 * until arena_ebr_unpin(), every operation of this thread on a structure
 * of this domain runs inside it and skips its own enter/exit (a nested
 * section costs two plain writes of the thread's own record, no atomic;
 * the pin itself costs what one operation's enter does).  Pins nest.
 * Nothing retired while any thread is pinned is freed before that thread
 * unpins, so keep sections short (a batch of operations, not a run):
 * memory grows, and past ARENA_EBR_STALL_NS the record is reported as
 * stalled.  Never call ds_quiesce()/arena_ebr_quiesce() while pinned.
 * Concurrency: userspace threads, any number, each on its own pins; with
 * every operation of every context.  Progress: lock-free (the first pin of
 * a thread registers its record).
 * Returns a token for arena_ebr_unpin(), or -1 when no record was free (the
 * operations inside then each run their own section, as unpinned).
 */
int arena_ebr_pin(struct arena_ebr *ebr);

/* arena_ebr_unpin - close the section @token opened.  Wait-free. */
void arena_ebr_unpin(struct arena_ebr *ebr, int token);

/*
 * A loop of operations pinned every @every of them: call
 * arena_ebr_batch_op() before each operation, arena_ebr_batch_done() after
 * it, and arena_ebr_batch_end() before any wait and after the loop.  With
 * @ebr NULL or @every 0 nothing is pinned.  One thread's own state.
 */
struct arena_ebr_batch {
	struct arena_ebr *ebr;
	__u32 every;
	__u32 n;		/* operations in the open section, 0: none open */
	int tok;
};

static inline void arena_ebr_batch_op(struct arena_ebr_batch *b)
{
	if (b->ebr && b->every && !b->n++)
		b->tok = arena_ebr_pin(b->ebr);
}

static inline void arena_ebr_batch_end(struct arena_ebr_batch *b)
{
	if (b->n) {
		arena_ebr_unpin(b->ebr, b->tok);
		b->n = 0;
	}
}

static inline void arena_ebr_batch_done(struct arena_ebr_batch *b)
{
	if (b->n >= b->every)
		arena_ebr_batch_end(b);
}
#endif

#endif /* __LIBARENA_DS_EBR_H */
