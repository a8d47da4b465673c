/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_stack.c - Treiber lock-free LIFO stack, allocator-backed, shared by
 * BPF programs and userspace threads.
 *
 * The stack is a singly linked list; top names the newest node.  Push
 * links a private node on with a CAS on top; pop swings top to the second
 * node with a CAS and retires the node it took to the head's EBR domain.
 *
 * ABA safety: the classic Treiber hazard is a pop that reads top = A and
 * A->next = B, stalls while A is popped, freed, reused and pushed again
 * with another successor, and then succeeds its CAS with the stale B.  Here
 * a popped node is freed only after every critical section that could have
 * seen it has ended (pop runs inside one), so while a pop holds A, A cannot
 * come back: a successful CAS on top = A really means A was never popped
 * in between, and A->next is the successor it was pushed with.  Push needs
 * no critical section: it never reads a shared node, and a CAS that finds
 * the same top it linked to is correct whatever happened in between.
 *
 * Concurrency mode (Concurrency Kit naming): every operation is _mpmc, any
 * number of pushers and poppers in any context, at once.
 *
 * API mapping: insert = push (key and value stored); delete = pop, the key
 * argument is ignored (the newest element goes); pop = pop returning the
 * newest element; search = scan from the top for the newest element with
 * the key (O(depth), bounded by can_loop in BPF: DS_ERROR_BUSY when the
 * budget ends first); range is unsupported.
 */
#include <libarena-ds/ds_stack.h>
#include "ds_internal.h"

/*
 * ds_stack_init - make @h an empty stack.  @h points to zeroed memory of
 * sizeof(*h) bytes.
 * Concurrency: before any other call on @h.  Returns DS_SUCCESS or
 * DS_ERROR_INVALID for a NULL head.
 */
DS_API int ds_stack_init(struct ds_stack_head __arena *h __arg_arena)
{
	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->top = 0;
	h->verify_reason = 0;
	return DS_SUCCESS;
}

/*
 * ds_stack_push_mpmc - push (@key, @value).  Does not count the operation
 * (the API wrappers do).
 * Concurrency: any number of pushers and poppers, any context.
 * Progress: lock-free (bounded by can_loop in BPF).
 * Returns DS_SUCCESS, DS_ERROR_NOMEM, or DS_ERROR_BUSY (retry budget spent;
 * the stack is unchanged).
 */
DS_API int ds_stack_push_mpmc(struct ds_stack_head __arena *h __arg_arena, __u64 key,
					      __u64 value)
{
	struct ds_stack_node __arena *node;
	__u64 old;

	arena_bind();
	node = bpf_arena_alloc(sizeof(*node));
	if (!node)
		return DS_ERROR_NOMEM;
	node->key = key;
	node->value = value;
	while (can_loop) {
		old = arena_atomic_load_acquire(&h->top);
		node->next = old;
		if (arena_atomic_cmpxchg(&h->top, old, (__u64)node) == old)
			return DS_SUCCESS;
	}
	bpf_arena_free(node);	/* never published */
	return DS_ERROR_BUSY;
}

/*
 * ds_stack_pop_mpmc - remove the newest element; store its key and value
 * in *@key / *@value (either may be NULL).  Does not count the operation.
 * Concurrency: any number of pushers and poppers, any context.
 * Progress: lock-free (bounded by can_loop in BPF).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY (retry
 * budget or EBR records exhausted; the stack is unchanged).
 */
DS_API int ds_stack_pop_mpmc(struct ds_stack_head __arena *h __arg_arena, __u64 *key,
					     __u64 *value)
{
	struct ds_stack_node __arena *node;
	int idx, rc = DS_ERROR_BUSY;
	__u64 old, next;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		return DS_ERROR_BUSY;
	while (can_loop) {
		old = arena_atomic_load_acquire(&h->top);
		if (!old) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		node = DS_STACK_PTR(old);
		/* Safe: node cannot be freed while we are in the critical
		 * section, so its next is the one it was pushed with. */
		next = ARENA_READ_ONCE(node->next);
		if (arena_atomic_cmpxchg(&h->top, old, next) == old) {
			if (key)
				*key = node->key;
			if (value)
				*value = node->value;
			arena_ebr_retire(&h->ebr, idx, node);
			rc = DS_SUCCESS;
			break;
		}
	}
	arena_ebr_exit(&h->ebr, idx);
	return rc;
}

/*
 * ds_stack_insert - push (@key, @value).
 * Concurrency: _mpmc, any context, with any other stack operation.
 * Progress: lock-free.  Returns DS_SUCCESS, DS_ERROR_NOMEM or DS_ERROR_BUSY.
 */
DS_API int ds_stack_insert(struct ds_stack_head __arena *h __arg_arena, __u64 key,
					   __u64 value)
{
	int rc;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	rc = ds_stack_push_mpmc(h, key, value);
	ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/*
 * ds_stack_delete - pop and drop the newest element; @key is ignored.
 * Concurrency: _mpmc, any context, with any other stack operation.
 * Progress: lock-free.  Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty) or
 * DS_ERROR_BUSY.
 */
DS_API int ds_stack_delete(struct ds_stack_head __arena *h __arg_arena, __u64 key)
{
	int rc;

	arena_bind();
	(void)key;
	if (!h)
		return DS_ERROR_INVALID;
	rc = ds_stack_pop_mpmc(h, NULL, NULL);
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_stack_pop - pop the newest element into *@key, *@value.
 * Concurrency: _mpmc, any context, with any other stack operation.
 * Progress: lock-free.  Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty) or
 * DS_ERROR_BUSY.
 */
DS_API int ds_stack_pop(struct ds_stack_head __arena *h __arg_arena, __u64 *key,
					__u64 *value)
{
	int rc;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	rc = ds_stack_pop_mpmc(h, key, value);
	ds_count(&h->stats, DS_OP_POP, rc);
	return rc;
}

/*
 * ds_stack_search - find the newest element whose key is @key and store its
 * value in *@value.  Scans from the top: O(depth).
 * Concurrency: any context, with any other stack operation; elements
 * pushed or popped during the scan may or may not be seen.
 * Progress: no retries; in BPF bounded by can_loop.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY (BPF loop budget
 * or EBR records exhausted before the end: no answer).
 */
DS_API int ds_stack_search(struct ds_stack_head __arena *h __arg_arena, __u64 key,
					   __u64 *value)
{
	struct ds_stack_node __arena *curr;
	int idx, rc = DS_ERROR_BUSY;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	curr = DS_STACK_PTR(arena_atomic_load_acquire(&h->top));
	while (can_loop) {
		if (!curr) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		if (curr->key == key) {
			if (value)
				*value = curr->value;
			rc = DS_SUCCESS;
			break;
		}
		curr = DS_STACK_PTR(ARENA_READ_ONCE(curr->next));
	}
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

DS_DEFINE_NO_RANGE(stack)	/* no key order */

/*
 * ds_stack_verify - check the stack: every link points into the
 * allocator's memory, the chain from top ends (no cycle; Brent's walk), and
 * the number of nodes equals successful inserts - deletes - pops.
 * Concurrency: only while no other operation runs on @h.
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason:
 * POINTER, CYCLE, COUNT), DS_ERROR_INVALID (NULL head) or DS_ERROR_BUSY
 * (BPF loop budget spent before the end).
 */
DS_API int ds_stack_verify(struct ds_stack_head __arena *h __arg_arena)
{
	struct ds_chain c;
	struct ds_stats st;
	int why;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	why = ds_chain_walk(h->top, offsetof(struct ds_stack_node, next), &c);
	if (why < 0)
		return DS_ERROR_BUSY;
	if (why)
		return ds_corrupt(h, why);
	ds_counters_sum(&h->stats, &st);
	if ((__s64)c.n != st.current_elements)
		return ds_corrupt(h, DS_CORRUPT_COUNT);
	return DS_SUCCESS;
}

DS_DEFINE_STATS_FNS(stack)
DS_DEFINE_EBR_QUIESCE(stack)

DS_DEFINE_METADATA(stack,
	.description = "Treiber lock-free LIFO stack (mpmc), EBR makes pop ABA-safe",
	.node_size = sizeof(struct ds_stack_node),
	.head_size = sizeof(struct ds_stack_head),
	.caps = DS_CAP_POP | DS_CAP_LIFO,
	.fixed_objects = 0,
	.requires_locking = 0,
	.progress = "lock-free; search is an O(n) scan",
)

