/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/api.h - the contract every libarena-ds structure follows.
 *
 * A structure <name> has a public header <libarena-ds/ds_<name>.h> (its
 * types and prototypes) and its code in lib/ds_<name>.c, compiled once into
 * libarena-ds.bpf.o (global functions) and libarena-ds.a.  For
 * `struct ds_<name>_head __arena *h` it provides:
 *
 *   ds_<name>_new()                           allocate and init a head
 *   int  ds_<name>_init(h)                    empty structure in zeroed memory
 *   int  ds_<name>_insert(h, key, value)      add (enqueue / push)
 *   int  ds_<name>_delete(h, key)             remove key (dequeue / pop)
 *   int  ds_<name>_search(h, key, &value)     find (peek / bounded scan)
 *   int  ds_<name>_pop(h, &key, &value)       take one element (min / oldest)
 *   int  ds_<name>_range(h, lo, hi, &count)   count keys in [lo, hi]
 *   int  ds_<name>_verify(h)                  check every invariant
 *   int  ds_<name>_quiesce(h)                 reclaim deferred frees
 *   int  ds_<name>_get_stats(h, &stats)       summed statistics
 *   int  ds_<name>_reset_stats(h)
 *   const struct ds_metadata *ds_<name>_get_metadata(void)   (userspace)
 *
 * Return codes are 0 or a negative errno value (below).  Operations a
 * structure cannot do return DS_ERROR_INVALID and are left out of its
 * metadata's caps, so drivers never pick them.  In BPF, pointer outputs
 * (&value, &key, &count, &stats) must point to the program's stack or
 * map memory, not into the arena (global-function argument rules).
 *
 * The registry (registry.h) lists the structures; drivers dispatch
 * through it, so adding a structure is one header, one source file and one
 * line in registry.def.
 */
#ifndef __LIBARENA_DS_API_H
#define __LIBARENA_DS_API_H

#include "common.h"
#include "alloc.h"
#include "ebr.h"
#include "lock.h"

/*
 * Return codes: 0 or a negative errno value, one domain for the whole
 * library (the numbers are Linux's, spelled out: vmlinux.h has no errno.h).
 */
enum {
	DS_SUCCESS		= 0,
	DS_ERROR_INVALID	= -22,	/* -EINVAL: bad argument, or op not supported */
	DS_ERROR_NOMEM		= -12,	/* -ENOMEM: nothing to allocate without sleeping */
	DS_ERROR_NOT_FOUND	= -2,	/* -ENOENT: key absent / structure empty */
	DS_ERROR_EXISTS		= -17,	/* -EEXIST: key already present */
	DS_ERROR_CORRUPT	= -117,	/* -EUCLEAN: verify found a broken invariant */
	DS_ERROR_BUSY		= -11,	/* -EAGAIN: a bounded retry or spin ran out */
	DS_ERROR_FULL		= -28,	/* -ENOSPC: bounded structure at capacity */
};
#define DS_NR_ERRORS 8

/* Dense index 0..DS_NR_ERRORS-1 of a return code, for counter arrays
 * (0: success; anything unknown counts as invalid). */
static __always_inline int ds_err_index(int rc)
{
	switch (rc) {
	case DS_SUCCESS:	return 0;
	case DS_ERROR_INVALID:	return 1;
	case DS_ERROR_NOMEM:	return 2;
	case DS_ERROR_NOT_FOUND: return 3;
	case DS_ERROR_EXISTS:	return 4;
	case DS_ERROR_CORRUPT:	return 5;
	case DS_ERROR_BUSY:	return 6;
	case DS_ERROR_FULL:	return 7;
	default:		return 1;
	}
}

#ifndef __BPF__
/* The return code of dense index @i (the inverse of ds_err_index()). */
static inline int ds_err_of_index(int i)
{
	static const int rc[DS_NR_ERRORS] = {
		DS_SUCCESS, DS_ERROR_INVALID, DS_ERROR_NOMEM, DS_ERROR_NOT_FOUND,
		DS_ERROR_EXISTS, DS_ERROR_CORRUPT, DS_ERROR_BUSY, DS_ERROR_FULL,
	};

	return i >= 0 && i < DS_NR_ERRORS ? rc[i] : DS_ERROR_INVALID;
}

/* The one name table of return codes. */
static inline const char *ds_strerror(int rc)
{
	static const char *const names[DS_NR_ERRORS] = {
		"success", "invalid", "out of memory", "not found",
		"exists", "corrupt", "busy", "full",
	};

	int i = ds_err_index(rc);

	return ds_err_of_index(i) == rc ? names[i] : "unknown";
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
	__u64 takeovers;	/* holds (a lock, a claimed slot) taken over
				 * from a context that died holding them */
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


/* The head's EBR domain, for structures whose head holds one as `ebr`
 * (registry.h and drivers use it to report reclamation). */
#define DS_DECLARE_EBR(name)							\
static inline struct arena_ebr __arena *					\
ds_##name##_ebr(struct ds_##name##_head __arena *h)			\
{									\
	return &h->ebr;							\
}
#define DS_DECLARE_NO_EBR(name)						\
static inline struct arena_ebr __arena *					\
ds_##name##_ebr(struct ds_##name##_head __arena *h)			\
{									\
	(void)h;							\
	return (struct arena_ebr __arena *)0;				\
}

/*
 * The standard prototypes of structure <name> (see the table at the top).
 * ds_<name>_new() allocates a head on pages of its own and inits it:
 * sleepable BPF or userspace; NULL when the arena is full.
 */
#define DS_DECLARE_API(name)							\
struct ds_##name##_head;							\
DS_API __u64 ds_##name##_new_u64(void);					\
DS_API int ds_##name##_init(struct ds_##name##_head __arena *h __arg_arena);	\
DS_API int ds_##name##_insert(struct ds_##name##_head __arena *h __arg_arena,	\
			      __u64 key, __u64 value);			\
DS_API int ds_##name##_delete(struct ds_##name##_head __arena *h __arg_arena,	\
			      __u64 key);					\
DS_API int ds_##name##_search(struct ds_##name##_head __arena *h __arg_arena,	\
			      __u64 key, __u64 *value);			\
DS_API int ds_##name##_pop(struct ds_##name##_head __arena *h __arg_arena,	\
			   __u64 *key, __u64 *value);				\
DS_API int ds_##name##_range(struct ds_##name##_head __arena *h __arg_arena,	\
			     __u64 lo, __u64 hi, __u64 *count);		\
DS_API int ds_##name##_verify(struct ds_##name##_head __arena *h __arg_arena);	\
DS_API int ds_##name##_quiesce(struct ds_##name##_head __arena *h __arg_arena);	\
DS_API int ds_##name##_get_stats(struct ds_##name##_head __arena *h __arg_arena, \
				 struct ds_stats *out);			\
DS_API int ds_##name##_reset_stats(struct ds_##name##_head __arena *h __arg_arena); \
DS_API __u32 ds_##name##_verify_reason(struct ds_##name##_head __arena *h __arg_arena)

#ifndef __BPF__
#define DS_DECLARE_METADATA(name)						\
const struct ds_metadata *ds_##name##_get_metadata(void)
#else
#define DS_DECLARE_METADATA(name) struct ds_##name##_head
#endif

#endif /* __LIBARENA_DS_API_H */
