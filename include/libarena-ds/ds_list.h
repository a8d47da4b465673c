/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libarena-ds/ds_list.h - lock-free ordered linked list (Harris, with Michael's
 * unlink-during-search), unique keys, shared by BPF programs and userspace
 * threads.
 *
 * Types and prototypes; the design, each function's concurrency contract,
 * progress guarantee and return codes are with the code in lib/ds_list.c.
 */
#ifndef __LIBARENA_DS_LIST_H
#define __LIBARENA_DS_LIST_H

#include "api.h"

#define DS_LIST_MARK 1ULL

struct ds_list_node {
	__u64 ebr_link;		/* reserved for EBR while retired */
	__u64 next;		/* address of the next node | DS_LIST_MARK */
	__u64 key;
	__u64 value;
};

struct ds_list_head {
	__u64 first;		/* address of the first node */
	__u32 verify_reason;
	__u32 pad;
	struct arena_ebr ebr;
	struct ds_counters stats;
};


#define DS_LIST_PTR(v) ((struct ds_list_node __arena *)((v) & ~DS_LIST_MARK))

DS_DECLARE_API(list);
DS_DECLARE_METADATA(list);
DS_DECLARE_EBR(list)

#define ds_list_new() ((struct ds_list_head __arena *)ds_list_new_u64())

#endif /* __LIBARENA_DS_LIST_H */
