/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_tree.c - AVL tree (unique keys, ordered) shared by BPF programs and
 * userspace threads, guarded by one arena spinlock.
 *
 * Every operation, readers included, runs under h->lock, so a node is only
 * ever reached by the lock holder.  A writer frees an unlinked node while it
 * still holds the lock; no other context can hold a reference to it, so no
 * deferred reclamation (EBR) is needed and quiesce has nothing to do.
 *
 * All walks are iterative (BPF has no recursion): descents follow child
 * links, rebalancing climbs parent links from the changed node to the root,
 * range and verify walk in order with parent links and a small state
 * variable instead of a stack.
 *
 * Progress: blocking (bounded spin).  When the lock cannot be taken within
 * the spin bound an operation returns DS_ERROR_BUSY and changes nothing.
 *
 * verify reasons: DS_CORRUPT_ORDER / _DUPLICATE (in-order keys not strictly
 * increasing), DS_CORRUPT_SHAPE (a stored height wrong or |balance| > 1),
 * DS_CORRUPT_POINTER (a link outside the allocator, or a parent link that
 * does not point back), DS_CORRUPT_COUNT (nodes != inserts - deletes -
 * pops), DS_CORRUPT_CYCLE (walk longer than the counted nodes allow).
 */
#include <libarena-ds/ds_tree.h>
#include "ds_internal.h"
#include "lock.h"

static __always_inline int ds_tree_lock(struct ds_tree_head __arena *h)
{
#ifdef __BPF__
	return arena_spin_lock_tries(&h->lock, DS_TREE_BPF_LOCK_TRIES);
#else
	return arena_spin_lock(&h->lock);
#endif
}

/*
 * ds_tree_init - make @h an empty tree.  @h points to zeroed memory.
 * Concurrency: before any other call on @h.
 * Returns DS_SUCCESS or DS_ERROR_INVALID for a NULL head.
 */
DS_API int ds_tree_init(struct ds_tree_head __arena *h __arg_arena)
{
	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->root = NULL;		/* the lock word is zero (unlocked) already */
	h->verify_reason = 0;
	return DS_SUCCESS;
}

static __always_inline __s32 ds_tree_ht(struct ds_tree_node __arena *n)
{
	return n ? n->height : 0;
}

static __always_inline void ds_tree_fix_height(struct ds_tree_node __arena *n)
{
	__s32 l = ds_tree_ht(n->left), r = ds_tree_ht(n->right);

	n->height = (l > r ? l : r) + 1;
}

/* Make @p (or the root when @p is NULL) point to @new instead of @old. */
static __always_inline void ds_tree_replace(struct ds_tree_head __arena *h,
					    struct ds_tree_node __arena *p,
					    struct ds_tree_node __arena *old,
					    struct ds_tree_node __arena *new)
{
	if (!p)
		h->root = new;
	else if (p->left == old)
		p->left = new;
	else
		p->right = new;
	if (new)
		new->parent = p;
}

/* Rotate @x down to the left; its right child takes its place.  Returns it. */
static __always_inline struct ds_tree_node __arena *
ds_tree_rot_left(struct ds_tree_head __arena *h, struct ds_tree_node __arena *x)
{
	struct ds_tree_node __arena *y = x->right;

	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	ds_tree_replace(h, x->parent, x, y);
	y->left = x;
	x->parent = y;
	ds_tree_fix_height(x);
	ds_tree_fix_height(y);
	return y;
}

/* Rotate @x down to the right; its left child takes its place.  Returns it. */
static __always_inline struct ds_tree_node __arena *
ds_tree_rot_right(struct ds_tree_head __arena *h, struct ds_tree_node __arena *x)
{
	struct ds_tree_node __arena *y = x->left;

	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	ds_tree_replace(h, x->parent, x, y);
	y->right = x;
	x->parent = y;
	ds_tree_fix_height(x);
	ds_tree_fix_height(y);
	return y;
}

/*
 * Climb from @n to the root fixing heights and rotating where a balance
 * reached +-2.  The climb is at most the height of the tree (about
 * 1.44 log2 n), far below the can_loop budget.
 */
static __always_inline void ds_tree_rebalance(struct ds_tree_head __arena *h,
					      struct ds_tree_node __arena *n)
{
	struct ds_tree_node __arena *c;
	__s32 bal;

	while (n && can_loop) {
		ds_tree_fix_height(n);
		bal = ds_tree_ht(n->left) - ds_tree_ht(n->right);
		if (bal > 1) {
			c = n->left;
			if (ds_tree_ht(c->left) < ds_tree_ht(c->right))
				ds_tree_rot_left(h, c);
			n = ds_tree_rot_right(h, n);
		} else if (bal < -1) {
			c = n->right;
			if (ds_tree_ht(c->right) < ds_tree_ht(c->left))
				ds_tree_rot_right(h, c);
			n = ds_tree_rot_left(h, n);
		}
		n = n->parent;
	}
}

/*
 * Unlink @m, which has at most one child, free it and rebalance.  Under the
 * lock.
 */
static __always_inline void ds_tree_unlink(struct ds_tree_head __arena *h,
					   struct ds_tree_node __arena *m)
{
	struct ds_tree_node __arena *c = m->left ? m->left : m->right;
	struct ds_tree_node __arena *p = m->parent;

	ds_tree_replace(h, p, m, c);
	bpf_arena_free(m);
	ds_tree_rebalance(h, p);
}

/*
 * ds_tree_insert - add @key with @value.
 * Concurrency: any number of BPF programs and userspace threads, with any
 * other tree operation.  Progress: blocking (bounded spin); O(log n) under
 * the lock.
 * Returns DS_SUCCESS, DS_ERROR_EXISTS (key present, tree unchanged),
 * DS_ERROR_NOMEM, or DS_ERROR_BUSY (lock or loop budget exhausted; tree
 * unchanged).
 */
DS_API int ds_tree_insert(struct ds_tree_head __arena *h __arg_arena, __u64 key,
					  __u64 value)
{
	struct ds_tree_node __arena *n, *p = NULL, *node;
	int rc = DS_ERROR_BUSY, dir = 0;

	arena_bind();
	if (ds_tree_lock(h))
		goto out_count;
	n = h->root;
	while (can_loop) {
		if (!n) {
			rc = DS_SUCCESS;
			break;
		}
		if (key == n->key) {
			rc = DS_ERROR_EXISTS;
			break;
		}
		p = n;
		dir = key > n->key;
		n = dir ? n->right : n->left;
	}
	if (rc != DS_SUCCESS)
		goto out_unlock;
	node = bpf_arena_alloc(sizeof(*node));
	if (!node) {
		rc = DS_ERROR_NOMEM;
		goto out_unlock;
	}
	/* Not two plain zero stores in a row: clang merges those into a
	 * memset that loses the arena address-space cast in BPF. */
	arena_atomic_store(&node->left, NULL);
	arena_atomic_store(&node->right, NULL);
	node->parent = p;
	node->key = key;
	node->value = value;
	node->height = 1;
	if (!p)
		h->root = node;
	else if (dir)
		p->right = node;
	else
		p->left = node;
	ds_tree_rebalance(h, p);
out_unlock:
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/*
 * ds_tree_delete - remove @key.  A node with two children takes its
 * successor's key and value and the successor node is unlinked instead.
 * Concurrency: any context, with any other tree operation.  Blocking
 * (bounded spin); O(log n).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY (unchanged).
 */
DS_API int ds_tree_delete(struct ds_tree_head __arena *h __arg_arena, __u64 key)
{
	struct ds_tree_node __arena *n, *s = NULL;
	int rc = DS_ERROR_BUSY;

	arena_bind();
	if (ds_tree_lock(h))
		goto out_count;
	n = h->root;
	while (can_loop) {
		if (!n) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		if (key == n->key) {
			rc = DS_SUCCESS;
			break;
		}
		n = key > n->key ? n->right : n->left;
	}
	if (rc != DS_SUCCESS)
		goto out_unlock;
	if (n->left && n->right) {
		s = n->right;
		while (s->left && can_loop)
			s = s->left;
		if (s->left) {		/* loop budget spent: change nothing */
			rc = DS_ERROR_BUSY;
			goto out_unlock;
		}
		n->key = s->key;
		n->value = s->value;
		n = s;
	}
	ds_tree_unlink(h, n);
out_unlock:
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_tree_search - look @key up; store its value in *@value when found.
 * Concurrency: any context (takes the lock too).  Blocking (bounded spin).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY.
 */
DS_API int ds_tree_search(struct ds_tree_head __arena *h __arg_arena, __u64 key,
					  __u64 *value)
{
	struct ds_tree_node __arena *n;
	int rc = DS_ERROR_BUSY;

	arena_bind();
	if (ds_tree_lock(h))
		goto out_count;
	n = h->root;
	while (can_loop) {
		if (!n) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		if (key == n->key) {
			if (value)
				*value = n->value;
			rc = DS_SUCCESS;
			break;
		}
		n = key > n->key ? n->right : n->left;
	}
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

/*
 * ds_tree_pop - remove the element with the smallest key and return it.
 * Concurrency: any context.  Blocking (bounded spin); O(log n).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 */
DS_API int ds_tree_pop(struct ds_tree_head __arena *h __arg_arena, __u64 *key,
				       __u64 *value)
{
	struct ds_tree_node __arena *n;
	int rc = DS_ERROR_BUSY;

	arena_bind();
	if (ds_tree_lock(h))
		goto out_count;
	n = h->root;
	if (!n) {
		rc = DS_ERROR_NOT_FOUND;
		goto out_unlock;
	}
	while (n->left && can_loop)
		n = n->left;
	if (n->left)
		goto out_unlock;	/* loop budget spent */
	if (key)
		*key = n->key;
	if (value)
		*value = n->value;
	ds_tree_unlink(h, n);
	rc = DS_SUCCESS;
out_unlock:
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_POP, rc);
	return rc;
}

/*
 * ds_tree_range - count the keys in [@lo, @hi] into *@count: descend to the
 * first key >= @lo, then step through successors with parent links.
 * Concurrency: any context; exact (taken under the lock).  Blocking
 * (bounded spin); O(log n + count).
 * Returns DS_SUCCESS or DS_ERROR_BUSY (*@count untouched).
 */
DS_API int ds_tree_range(struct ds_tree_head __arena *h __arg_arena, __u64 lo,
					 __u64 hi, __u64 *count)
{
	struct ds_tree_node __arena *n, *cur = NULL, *p;
	__u64 cnt = ARENA_ZERO;
	int rc = DS_ERROR_BUSY, up = 0;

	arena_bind();
	if (ds_tree_lock(h))
		goto out_count;
	n = h->root;
	while (n && can_loop) {
		if (n->key >= lo) {
			cur = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	if (n)
		goto out_unlock;
	/* cur is the first node >= lo; visit it, then its successors. */
	while (can_loop) {
		if (!cur || cur->key > hi) {
			rc = DS_SUCCESS;
			break;
		}
		if (!up) {
			cnt++;
			if (cur->right) {
				cur = cur->right;
				while (cur->left && can_loop)
					cur = cur->left;
				continue;
			}
			up = 1;
		}
		/* Climb until we come up from a left child: that parent is next. */
		p = cur->parent;
		if (p && p->right == cur) {
			cur = p;
			continue;
		}
		cur = p;
		up = 0;
	}
	if (rc == DS_SUCCESS && count)
		*count = cnt;
out_unlock:
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_RANGE, rc);
	return rc;
}

/* Successful inserts - deletes - pops, summed without a struct ds_stats on
 * the (BPF) stack. */
static __always_inline __s64 ds_tree_live(struct ds_tree_head __arena *h)
{
	struct ds_slot_counters __arena *c;
	__s64 live = 0;
	__u32 i;

	for (i = ARENA_ZERO; i < ARENA_NR_SLOTS && can_loop; i++) {
		c = &h->stats.slot[i];
		live += (__s64)(arena_atomic_load(&c->ok[DS_OP_INSERT]) -
				arena_atomic_load(&c->ok[DS_OP_DELETE]) -
				arena_atomic_load(&c->ok[DS_OP_POP]));
	}
	return live;
}

/*
 * ds_tree_verify - check every invariant in one in-order walk driven by
 * parent links: links point to allocator objects, every child's parent link
 * points back, keys strictly increase in order, every stored height equals
 * 1 + the larger child height, |balance| <= 1, and the number of nodes
 * equals successful inserts - deletes - pops.
 * Concurrency: only while no other operation runs on @h.
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason), or
 * DS_ERROR_BUSY (BPF loop budget spent before the end).
 */
DS_API int ds_tree_verify(struct ds_tree_head __arena *h __arg_arena)
{
	struct ds_tree_node __arena *cur, *next;
	__s64 live;
	__u64 n = ARENA_ZERO, steps = ARENA_ZERO, last = 0, limit;
	__s32 l, r;

	arena_bind();
	int from = 0;	/* 0: arrived from above, 1: from the left, 2: from the right */

	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	live = ds_tree_live(h);
	/* Each node is met at most 3 times (down, from left, from right). */
	limit = (live > 0 ? 3 * (__u64)live : 0) + 256;
	cur = h->root;
	if (!ds_link_ok((__u64)cur))
		return ds_corrupt(h, DS_CORRUPT_POINTER);
	if (cur && cur->parent)
		return ds_corrupt(h, DS_CORRUPT_POINTER);
	while (can_loop) {
		if (!cur)
			goto walked;
		if (++steps > limit)
			return ds_corrupt(h, DS_CORRUPT_CYCLE);
		if (from == 0) {
			next = cur->left;
			if (!ds_link_ok((__u64)next) || !ds_link_ok((__u64)cur->right))
				return ds_corrupt(h, DS_CORRUPT_POINTER);
			if (next) {
				if (next->parent != cur)
					return ds_corrupt(h, DS_CORRUPT_POINTER);
				cur = next;
				continue;
			}
			from = 1;
		}
		if (from == 1) {
			/* In-order visit. */
			if (n && cur->key <= last)
				return ds_corrupt(h, cur->key == last ?
						  DS_CORRUPT_DUPLICATE : DS_CORRUPT_ORDER);
			last = cur->key;
			if ((__s64)++n > live)
				return ds_corrupt(h, DS_CORRUPT_COUNT);
			next = cur->right;
			if (next) {
				if (next->parent != cur)
					return ds_corrupt(h, DS_CORRUPT_POINTER);
				cur = next;
				from = 0;
				continue;
			}
		}
		/* Post-order visit: both subtrees are checked already. */
		l = ds_tree_ht(cur->left);
		r = ds_tree_ht(cur->right);
		if (cur->height != (l > r ? l : r) + 1 || l - r > 1 || r - l > 1)
			return ds_corrupt(h, DS_CORRUPT_SHAPE);
		next = cur->parent;
		from = next && next->left == cur ? 1 : 2;
		cur = next;
	}
	return DS_ERROR_BUSY;
walked:
	if ((__s64)n != live)
		return ds_corrupt(h, DS_CORRUPT_COUNT);
	return DS_SUCCESS;
}

DS_DEFINE_STATS_FNS_LOCKED(tree)
DS_DEFINE_NO_QUIESCE(tree)	/* nodes are freed under the lock: nothing deferred */

DS_DEFINE_METADATA(tree,
	.description = "AVL tree under one arena spinlock, unique keys",
	.node_size = sizeof(struct ds_tree_node),
	.head_size = sizeof(struct ds_tree_head),
	.caps = DS_CAP_KEYED | DS_CAP_ORDERED | DS_CAP_POP | DS_CAP_RANGE,
	.fixed_objects = 0,
	.requires_locking = 1,
	.progress = "blocking (bounded spin)",
)

