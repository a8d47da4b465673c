/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_internal.h - what every structure's code shares: the verify
 * helpers, per-slot operation counters and the macros that write the
 * uniform parts of the API once.  Internal to the library.
 */
#ifndef __LIB_DS_INTERNAL_H
#define __LIB_DS_INTERNAL_H

#include <libarena-ds/api.h>
#include "alloc.h"
#include "ebr.h"

/* Record a verify failure and return DS_ERROR_CORRUPT. */
#define ds_corrupt(h, why) ({ (h)->verify_reason = (why); DS_ERROR_CORRUPT; })

/* A link that verify may follow: NULL, or an allocator object in the arena
 * (on a page the allocator holds: arena_ptr_ok(), so reading its header
 * cannot fault). */
static __always_inline int ds_link_ok(__u64 p)
{
	struct arena_page_hdr __arena *hdr;

	if (!p)
		return 1;
	if (!arena_ptr_ok(p))
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

/*
 * Add one to a counter of the caller's own slot.  BPF: an atomic add (one
 * CPU slot serves every program that runs there, and sleepable ones can be
 * preempted mid-update by another).  Userspace: the slot is the thread's
 * (arena_slot(): threads get distinct slots while at most
 * ARENA_NR_THREAD_SLOTS run, or as arena_set_thread_slot() assigns them), so
 * its owner alone writes it: a plain load and store, no locked instruction
 * on the hot path (atomic accesses only so that concurrent readers are not
 * a data race).  Threads made to share a slot may lose counts (statistics
 * only: no structure depends on them).
 */
static __always_inline void ds_count_add(__u64 __arena *p)
{
#ifdef __BPF__
	arena_atomic_add(p, 1);
#else
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
#endif
}

/* Record the outcome of one operation in the caller's slot. */
static __always_inline void ds_count(struct ds_counters __arena *c, int op, int rc)
{
	struct ds_slot_counters __arena *s = &c->slot[arena_slot()];

	ds_count_add(&s->calls[op & 7]);
	if (rc == DS_SUCCESS)
		ds_count_add(&s->ok[op & 7]);
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
 * Boilerplate every structure repeats, written once, each a DS_API
 * function: get_stats / reset_stats over a `struct ds_counters stats`
 * member of the head, the verify reason, and ds_<name>_new().
 */
#define DS_DEFINE_STATS_FNS(name) DS_DEFINE_STATS_FNS_X(name, (void)0, (void)0)
/* ... for a head with an arena_spinlock `lock`: its take-overs are counted. */
#define DS_DEFINE_STATS_FNS_LOCKED(name)					\
	DS_DEFINE_STATS_FNS_X(name, out->takeovers = arena_atomic_load(&h->lock.recovered), \
			      (void)0)
/* @get_extra: a statement that adds to *out what the head alone knows;
 * @reset_extra: one that zeroes it. */
#define DS_DEFINE_STATS_FNS_X(name, get_extra, reset_extra)			\
DS_API int ds_##name##_get_stats(struct ds_##name##_head __arena *h __arg_arena, \
				 struct ds_stats *out)			\
{									\
	arena_bind();							\
	ds_counters_sum(&h->stats, out);				\
	get_extra;							\
	return DS_SUCCESS;						\
}									\
DS_API int ds_##name##_reset_stats(struct ds_##name##_head __arena *h __arg_arena) \
{									\
	arena_bind();							\
	ds_counters_reset(&h->stats);					\
	reset_extra;							\
	return DS_SUCCESS;						\
}									\
DS_API __u32 ds_##name##_verify_reason(struct ds_##name##_head __arena *h __arg_arena) \
{									\
	arena_bind();							\
	return h ? h->verify_reason : 0;				\
}									\
DS_API __u64 ds_##name##_new_u64(void)					\
{									\
	arena_bind();							\
	struct ds_##name##_head __arena *h;				\
									\
	h = arena_alloc_large(sizeof(struct ds_##name##_head));		\
	if (!h || ds_##name##_init(h) != DS_SUCCESS)			\
		return 0;						\
	return (__u64)h;						\
}

/*
 * range for structures without key order: counted, always
 * DS_ERROR_INVALID.  Any context, wait-free.
 */
#define DS_DEFINE_NO_RANGE(name)						\
DS_API int ds_##name##_range(struct ds_##name##_head __arena *h __arg_arena,	\
			     __u64 lo, __u64 hi, __u64 *count)		\
{									\
	arena_bind();							\
	(void)lo;							\
	(void)hi;							\
	(void)count;							\
	ds_count(&h->stats, DS_OP_RANGE, DS_ERROR_INVALID);		\
	return DS_ERROR_INVALID;					\
}

/*
 * pop for structures without a "take one" operation: counted, always
 * DS_ERROR_INVALID.  Any context, wait-free.
 */
#define DS_DEFINE_NO_POP(name)							\
DS_API int ds_##name##_pop(struct ds_##name##_head __arena *h __arg_arena,	\
			   __u64 *key, __u64 *value)				\
{									\
	arena_bind();							\
	(void)key;							\
	(void)value;							\
	ds_count(&h->stats, DS_OP_POP, DS_ERROR_INVALID);		\
	return DS_ERROR_INVALID;					\
}

/* quiesce for structures whose head holds an EBR domain `ebr`. */
#define DS_DEFINE_EBR_QUIESCE(name)						\
DS_API int ds_##name##_quiesce(struct ds_##name##_head __arena *h __arg_arena)	\
{									\
	arena_bind();							\
	return arena_ebr_flush(&h->ebr);				\
}

/* quiesce for structures that defer nothing. */
#define DS_DEFINE_NO_QUIESCE(name)						\
DS_API int ds_##name##_quiesce(struct ds_##name##_head __arena *h __arg_arena)	\
{									\
	arena_bind();							\
	(void)h;							\
	return 0;							\
}

/* Metadata accessor.  Userspace only: BPF data sections cannot hold the
 * string pointers, and BPF code never needs the metadata. */
#ifdef __BPF__
#define DS_DEFINE_METADATA(ds, ...)
#else
#define DS_DEFINE_METADATA(ds, ...)						\
const struct ds_metadata *ds_##ds##_get_metadata(void)			\
{									\
	static const struct ds_metadata md = { .name = #ds, __VA_ARGS__ }; \
	return &md;							\
}
#endif

#endif /* __LIB_DS_INTERNAL_H */
