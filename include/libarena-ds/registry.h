/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/registry.h - every registered structure, and one dispatcher
 * over them, for drivers that pick a structure at run time.
 *
 * The list lives in registry.def; the build turns it into
 * registry_includes.h (one #include per entry).  Drivers call
 * ds_dispatch(kind, head, req): in BPF `kind` is a const volatile set before
 * load, so the verifier loads only the selected structure's functions.
 * Applications that know their structure call its functions directly.
 */
#ifndef __LIBARENA_DS_REGISTRY_H
#define __LIBARENA_DS_REGISTRY_H

#include "api.h"
#include "registry_includes.h"

enum ds_kind {
#define DS_REGISTER(name) DS_KIND_##name,
#include "registry.def"
#undef DS_REGISTER
	DS_KIND_MAX
};

/* One request to a structure; outputs are filled on DS_SUCCESS. */
struct ds_req {
	__u32 op;		/* enum ds_op */
	__s32 rc;		/* result */
	__u64 key;
	__u64 value;
	__u64 hi;		/* range: upper bound (key is the lower) */
	__u64 out_key;
	__u64 out_value;	/* search/pop value, range count */
};

#define DS_DEFINE_DISPATCH(name)						\
static __always_inline int ds_dispatch_##name(void __arena *head,		\
					      struct ds_req *r)			\
{										\
	struct ds_##name##_head __arena *h = head;				\
										\
	switch (r->op) {							\
	case DS_OP_INIT:	return ds_##name##_init(h);			\
	case DS_OP_INSERT:	return ds_##name##_insert(h, r->key, r->value);	\
	case DS_OP_DELETE:	return ds_##name##_delete(h, r->key);		\
	case DS_OP_SEARCH:	return ds_##name##_search(h, r->key, &r->out_value); \
	case DS_OP_POP:		return ds_##name##_pop(h, &r->out_key, &r->out_value); \
	case DS_OP_RANGE:	return ds_##name##_range(h, r->key, r->hi, &r->out_value); \
	case DS_OP_VERIFY:	return ds_##name##_verify(h);			\
	default:		return DS_ERROR_INVALID;			\
	}									\
}
#define DS_REGISTER(name) DS_DEFINE_DISPATCH(name)
#include "registry.def"
#undef DS_REGISTER

/*
 * ds_dispatch - run @r on the structure of kind @kind at @head.
 * Concurrency and progress: those of the called operation.
 */
static __always_inline int ds_dispatch(int kind, void __arena *head, struct ds_req *r)
{
	switch (kind) {
#define DS_REGISTER(name) case DS_KIND_##name: return ds_dispatch_##name(head, r);
#include "registry.def"
#undef DS_REGISTER
	default:
		return DS_ERROR_INVALID;
	}
}

/* Summed statistics of the structure at @head. */
static __always_inline void ds_get_stats(int kind, void __arena *head, struct ds_stats *out)
{
	switch (kind) {
#define DS_REGISTER(name) \
	case DS_KIND_##name: ds_##name##_get_stats(head, out); return;
#include "registry.def"
#undef DS_REGISTER
	default:
		__builtin_memset(out, 0, sizeof(*out));
	}
}

/*
 * Finish deferred work (reclaim retired nodes) of the structure at @head.
 * Only while no other operation runs on it.  Returns 0, or 1 when
 * something is still held back (a participant is active or stalled).
 */
static __always_inline int ds_quiesce(int kind, void __arena *head)
{
	switch (kind) {
#define DS_REGISTER(name) case DS_KIND_##name: return ds_##name##_quiesce(head);
#include "registry.def"
#undef DS_REGISTER
	default:
		return 0;
	}
}

/* The EBR domain of the structure at @head, or NULL if it defers nothing. */
static __always_inline struct arena_ebr __arena *ds_ebr_of(int kind, void __arena *head)
{
	switch (kind) {
#define DS_REGISTER(name) case DS_KIND_##name: return ds_##name##_ebr(head);
#include "registry.def"
#undef DS_REGISTER
	default:
		return NULL;
	}
}

/* The verify_reason of the structure at @head (after a failed verify). */
static __always_inline __u32 ds_verify_reason(int kind, void __arena *head)
{
	switch (kind) {
#define DS_REGISTER(name) \
	case DS_KIND_##name: return ds_##name##_verify_reason(head);
#include "registry.def"
#undef DS_REGISTER
	default:
		return 0;
	}
}

/* Create a structure of kind @kind: a zeroed head on pages of its own,
 * initialised.  Sleepable BPF or userspace; NULL when the arena is full. */
static __always_inline void __arena *ds_create(int kind)
{
	switch (kind) {
#define DS_REGISTER(name) \
	case DS_KIND_##name: return (void __arena *)ds_##name##_new_u64();
#include "registry.def"
#undef DS_REGISTER
	default:
		return NULL;
	}
}

#ifndef __BPF__
/* Metadata of kind @kind, or NULL. */
static inline const struct ds_metadata *ds_metadata_of(int kind)
{
	switch (kind) {
#define DS_REGISTER(name) case DS_KIND_##name: return ds_##name##_get_metadata();
#include "registry.def"
#undef DS_REGISTER
	default:
		return NULL;
	}
}

/* Kind of the structure called @name, or -1. */
#include <string.h>
static inline int ds_kind_by_name(const char *name)
{
	int k;

	for (k = 0; k < DS_KIND_MAX; k++)
		if (!strcmp(ds_metadata_of(k)->name, name))
			return k;
	return -1;
}
#endif

#endif /* __LIBARENA_DS_REGISTRY_H */
