/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ds_api.h - the contract every libarena-ds structure follows.
 *
 * A structure <name> lives in include/ds_<name>.h and provides, for
 * `struct ds_<name>_head __arena *h`:
 *
 *   int  ds_<name>_init(h)                      empty structure
 *   int  ds_<name>_insert(h, key, value)        add (enqueue / push)
 *   int  ds_<name>_delete(h, key)               remove key (dequeue / pop)
 *   int  ds_<name>_search(h, key, &value)       find (peek / bounded scan)
 *   int  ds_<name>_pop(h, &key, &value)         take one element (min / oldest)
 *   int  ds_<name>_range(h, lo, hi, &count)     count keys in [lo, hi]
 *   int  ds_<name>_verify(h)                    check every invariant
 *   int  ds_<name>_quiesce(h)                   reclaim deferred frees
 *   void ds_<name>_get_stats(h, &stats)         summed statistics
 *   void ds_<name>_reset_stats(h)
 *   const struct ds_metadata *ds_<name>_get_metadata(void)
 *
 * Operations a structure cannot do return DS_ERROR_INVALID and are left out
 * of its metadata's caps, so drivers never pick them.  Every function is
 * compiled both as BPF and as userspace C.
 *
 * The registry (ds_registry.h) lists the structures; drivers dispatch
 * through it, so adding a structure is one header plus one line.
 */
#ifndef __DS_API_H
#define __DS_API_H

#include "libarena_ds.h"
#include "arena_ebr.h"

/* Return codes: 0 or negative. */
enum {
	DS_SUCCESS		= 0,
	DS_ERROR_INVALID	= -1,	/* bad argument, or op not supported */
	DS_ERROR_NOMEM		= -2,	/* allocator had nothing without sleeping */
	DS_ERROR_NOT_FOUND	= -3,	/* key absent / structure empty */
	DS_ERROR_EXISTS		= -4,	/* key already present */
	DS_ERROR_CORRUPT	= -5,	/* verify found a broken invariant */
	DS_ERROR_BUSY		= -6,	/* a bounded retry or spin ran out */
	DS_ERROR_FULL		= -7,	/* bounded structure at capacity */
};
#define DS_NR_ERRORS 8

#ifndef __BPF__
static inline const char *ds_strerror(int rc)
{
	switch (rc) {
	case DS_SUCCESS:		return "success";
	case DS_ERROR_INVALID:		return "invalid";
	case DS_ERROR_NOMEM:		return "out of memory";
	case DS_ERROR_NOT_FOUND:	return "not found";
	case DS_ERROR_EXISTS:		return "exists";
	case DS_ERROR_CORRUPT:		return "corrupt";
	case DS_ERROR_BUSY:		return "busy";
	case DS_ERROR_FULL:		return "full";
	default:			return "unknown";
	}
}
#endif

/* An outcome that is part of normal operation (a miss), not a fault. */
static __always_inline int ds_rc_is_miss(int rc)
{
	return rc == DS_ERROR_NOT_FOUND || rc == DS_ERROR_EXISTS || rc == DS_ERROR_FULL;
}

enum ds_op {
	DS_OP_INIT = 0,
	DS_OP_INSERT,
	DS_OP_DELETE,
	DS_OP_SEARCH,
	DS_OP_POP,
	DS_OP_RANGE,
	DS_OP_VERIFY,
	DS_OP_MAX,
};

#ifndef __BPF__
static inline const char *ds_op_name(int op)
{
	static const char *const names[DS_OP_MAX] = {
		"init", "insert", "delete", "search", "pop", "range", "verify",
	};

	return op >= 0 && op < DS_OP_MAX ? names[op] : "?";
}
#endif

/* Per-slot operation counters kept inside every head. */
struct ds_slot_counters {
	__u64 calls[DS_OP_MAX];
	__u64 ok[DS_OP_MAX];
} ARENA_ALIGNED_CL;

struct ds_counters {
	struct ds_slot_counters slot[ARENA_NR_SLOTS];
};

/* Summed statistics, as returned by ds_<name>_get_stats(). */
struct ds_op_stats {
	__u64 count;		/* calls */
	__u64 failures;		/* calls that did not return DS_SUCCESS */
};

struct ds_stats {
	struct ds_op_stats ops[DS_OP_MAX];
	__s64 current_elements;	/* successful inserts - deletes - pops */
};

/* Why verify said DS_ERROR_CORRUPT: stored in the head's verify_reason. */
enum ds_corrupt_reason {
	DS_CORRUPT_NONE = 0,
	DS_CORRUPT_ORDER,	/* keys or priorities out of order */
	DS_CORRUPT_MARK,	/* a deleted (marked) node still linked */
	DS_CORRUPT_COUNT,	/* elements reachable != elements counted */
	DS_CORRUPT_POINTER,	/* a link leaves the arena or the allocator */
	DS_CORRUPT_CYCLE,	/* a walk did not end */
	DS_CORRUPT_SHAPE,	/* structure-specific shape (balance, fill, levels) */
	DS_CORRUPT_DUPLICATE,	/* a key or element appears twice */
	DS_CORRUPT_INDEX,	/* ring/array indices inconsistent */
	DS_CORRUPT_MAX,
};

#ifndef __BPF__
static inline const char *ds_corrupt_str(int why)
{
	static const char *const s[DS_CORRUPT_MAX] = {
		"no fault recorded", "order violated", "deleted node still linked",
		"element count mismatch", "pointer outside the arena",
		"walk does not end (cycle)", "shape invariant broken",
		"duplicate element", "indices inconsistent",
	};

	return why >= 0 && why < DS_CORRUPT_MAX ? s[why] : "unknown";
}
#endif

/* Record a verify failure and return DS_ERROR_CORRUPT. */
#define ds_corrupt(h, why) ({ (h)->verify_reason = (why); DS_ERROR_CORRUPT; })

/* A link that verify may follow: NULL, or an allocator object in the arena. */
static __always_inline int ds_link_ok(__u64 p)
{
	struct arena_page_hdr __arena *hdr;

	if (!p)
		return 1;
	if ((p & ~0xffffffffULL) != ARENA_BASE || (p & 7))
		return 0;
	hdr = arena_page_of((void __arena *)p);
	return hdr->magic == ARENA_PAGE_MAGIC;
}

/* What ds_chain_walk() found. */
struct ds_chain {
	__u64 n;	/* nodes, @first included */
	__u64 last;	/* the last node (0 for an empty chain) */
	__u64 prev;	/* the one before it (0 if none) */
};

/*
 * ds_chain_walk - follow a singly linked chain from @first through the
 * word at byte @link_off of each node, to a 0 link.  Every node must be an
 * allocator object (DS_CORRUPT_POINTER); a loop is found with Brent's
 * algorithm in O(length) (DS_CORRUPT_CYCLE).  For verify: only while no
 * other operation runs.  Returns 0 with *@c filled, a DS_CORRUPT_* reason,
 * or -1 when the BPF loop budget ran out.
 */
static __always_inline int ds_chain_walk(__u64 first, __u32 link_off, struct ds_chain *c)
{
	__u64 cur = first, next, saved = first, lam, power;

	c->n = ARENA_ZERO;
	c->last = 0;
	c->prev = 0;
	/* Opaque starting values keep the BPF verifier from tracking every
	 * power of two. */
	lam = ARENA_ZERO;
	power = ARENA_ZERO + 1;
	while (can_loop) {
		if (!cur)
			return 0;
		if (!ds_link_ok(cur))
			return DS_CORRUPT_POINTER;
		c->n++;
		c->prev = c->last;
		c->last = cur;
		next = *(__u64 __arena *)((char __arena *)cur + link_off);
		if (next && next == saved)
			return DS_CORRUPT_CYCLE;
		if (++lam == power) {
			saved = next;
			power <<= 1;
			lam = 0;
		}
		cur = next;
	}
	return -1;
}

/* Capabilities announced in the metadata. */
#define DS_CAP_KEYED	(1U << 0)	/* delete/search by key, unique keys */
#define DS_CAP_ORDERED	(1U << 1)	/* range and pop (min) are meaningful */
#define DS_CAP_POP	(1U << 2)	/* pop is supported */
#define DS_CAP_RANGE	(1U << 3)	/* range is supported */
#define DS_CAP_FIFO	(1U << 4)	/* pop/delete return oldest first */
#define DS_CAP_LIFO	(1U << 5)	/* pop/delete return newest first */
#define DS_CAP_BOUNDED	(1U << 6)	/* fixed capacity: insert may be FULL */
#define DS_CAP_SPSC	(1U << 7)	/* one producer and one consumer only */
#define DS_CAP_OWNER	(1U << 8)	/* insert/pop by one owner; others steal */
#define DS_CAP_INLINE	(1U << 9)	/* elements live in a preallocated array, not
					 * in one allocator object each */

struct ds_metadata {
	const char *name;
	const char *description;
	__u32 node_size;		/* bytes per element allocation */
	__u32 head_size;
	__u32 caps;			/* DS_CAP_* */
	__u32 fixed_objects;		/* allocator objects held beyond elements */
	int requires_locking;		/* 1 if some operation takes a lock */
	const char *progress;		/* e.g. "lock-free", "blocking (bounded)" */
};

/* Record the outcome of one operation in the caller's slot. */
static __always_inline void ds_count(struct ds_counters __arena *c, int op, int rc)
{
	struct ds_slot_counters __arena *s = &c->slot[arena_slot()];

	arena_atomic_add(&s->calls[op & 7], 1);
	if (rc == DS_SUCCESS)
		arena_atomic_add(&s->ok[op & 7], 1);
	arena_loop_op_done();	/* the next operation gets a fresh budget */
}

static __always_inline void ds_counters_sum(struct ds_counters __arena *c,
					    struct ds_stats *out)
{
	__u64 calls, ok;
	__u32 i, op;

	__builtin_memset(out, 0, sizeof(*out));
	for (i = ARENA_ZERO; i < ARENA_NR_SLOTS && can_loop; i++) {
		for (op = 0; op < DS_OP_MAX; op++) {
			calls = arena_atomic_load(&c->slot[i].calls[op]);
			ok = arena_atomic_load(&c->slot[i].ok[op]);
			out->ops[op].count += calls;
			out->ops[op].failures += calls - ok;
		}
	}
	out->current_elements = (__s64)(out->ops[DS_OP_INSERT].count -
					 out->ops[DS_OP_INSERT].failures) -
				(__s64)(out->ops[DS_OP_DELETE].count -
					out->ops[DS_OP_DELETE].failures) -
				(__s64)(out->ops[DS_OP_POP].count -
					out->ops[DS_OP_POP].failures);
}

static __always_inline void ds_counters_reset(struct ds_counters __arena *c)
{
	__u32 i, op;

	for (i = ARENA_ZERO; i < ARENA_NR_SLOTS && can_loop; i++)
		for (op = 0; op < DS_OP_MAX; op++) {
			arena_atomic_store(&c->slot[i].calls[op], 0);
			arena_atomic_store(&c->slot[i].ok[op], 0);
		}
}

/*
 * Boilerplate every structure repeats, written once: get_stats/reset_stats
 * over a `struct ds_counters stats` member of the head.
 */
#define DS_DEFINE_STATS_FNS(name)						\
static __always_inline void ds_##name##_get_stats(struct ds_##name##_head __arena *h, \
						  struct ds_stats *out)		\
{									\
	ds_counters_sum(&h->stats, out);				\
}									\
static __always_inline void ds_##name##_reset_stats(struct ds_##name##_head __arena *h) \
{									\
	ds_counters_reset(&h->stats);					\
}

/*
 * range for structures without key order: counted, always
 * DS_ERROR_INVALID.  Any context, wait-free.
 */
#define DS_DEFINE_NO_RANGE(name)						\
static __always_inline int ds_##name##_range(struct ds_##name##_head __arena *h, \
					     __u64 lo, __u64 hi, __u64 *count)	\
{									\
	(void)lo;							\
	(void)hi;							\
	(void)count;							\
	ds_count(&h->stats, DS_OP_RANGE, DS_ERROR_INVALID);		\
	return DS_ERROR_INVALID;					\
}

/* quiesce for structures whose head holds an EBR domain `ebr`. */
#define DS_DEFINE_EBR_QUIESCE(name)						\
static __always_inline int ds_##name##_quiesce(struct ds_##name##_head __arena *h) \
{									\
	return arena_ebr_flush(&h->ebr);				\
}									\
static __always_inline struct arena_ebr __arena *			\
ds_##name##_ebr(struct ds_##name##_head __arena *h)			\
{									\
	return &h->ebr;							\
}

/* quiesce for structures that defer nothing. */
#define DS_DEFINE_NO_QUIESCE(name)						\
static __always_inline int ds_##name##_quiesce(struct ds_##name##_head __arena *h) \
{									\
	(void)h;							\
	return 0;							\
}									\
static __always_inline struct arena_ebr __arena *			\
ds_##name##_ebr(struct ds_##name##_head __arena *h)			\
{									\
	(void)h;							\
	return NULL;							\
}

/* Metadata accessor.  Userspace only: BPF data sections cannot hold the
 * string pointers, and BPF code never needs the metadata. */
#ifdef __BPF__
#define DS_DEFINE_METADATA(ds, ...)
#else
#define DS_DEFINE_METADATA(ds, ...)						\
static inline const struct ds_metadata *ds_##ds##_get_metadata(void)	\
{									\
	static const struct ds_metadata md = { .name = #ds, __VA_ARGS__ }; \
	return &md;							\
}
#endif

#endif /* __DS_API_H */
