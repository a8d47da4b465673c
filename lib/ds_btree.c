/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_btree.c - B+ tree (unique keys, ordered, leaf chain for range scans)
 * shared by BPF programs and userspace threads, guarded by one arena
 * spinlock.
 *
 * Layout
 *   Internal nodes hold up to DS_BTREE_INT_MAX separator keys and one more
 *   child; child i covers keys in [keys[i-1], keys[i]).  Leaves hold up to
 *   DS_BTREE_LEAF_MAX keys, each with the address of its element record
 *   { key, value } (one allocator object per element, as in the classic
 *   B+ tree where leaves point to records), and are chained in key order.
 *   Nodes come from a pool inside the head (the head is one multi-page
 *   allocation made by ds_create()), so init allocates nothing and the
 *   allocator holds exactly one object per element.  The pool bounds the
 *   tree: inserts answer DS_ERROR_NOMEM when a split could not get its
 *   nodes, before anything changes.
 *
 * Algorithms
 *   Insert and delete descend once, remembering the path (at most
 *   DS_BTREE_MAX_DEPTH levels on the stack), and then walk it back up:
 *   splits on insert, borrow-from-sibling or merge on delete, so every node
 *   but the root stays at least half full.  No recursion (BPF).
 *
 * Concurrency
 *   Every operation, readers included, runs under h->lock; nodes and records
 *   are freed by the lock holder, which is the only context that can reach
 *   them, so no deferred reclamation is needed (quiesce does nothing).
 *   Progress: blocking (bounded spin); DS_ERROR_BUSY leaves the tree as it
 *   was.
 *
 * verify reasons: DS_CORRUPT_ORDER / _DUPLICATE (keys in a node, in leaf
 * order, or against a separator out of order), DS_CORRUPT_SHAPE (fill bounds
 * broken, leaves at different depths, tree deeper than DS_BTREE_MAX_DEPTH),
 * DS_CORRUPT_POINTER (a child outside the pool, a record outside the
 * allocator, a leaf chain link that is not the next leaf), DS_CORRUPT_COUNT
 * (keys != inserts - deletes - pops).
 */
#include <libarena-ds/ds_btree.h>
#include "ds_internal.h"
#include "lock.h"

/*
 * Take the lock.  In BPF give up after DS_BTREE_BPF_LOCK_TRIES attempts: on
 * a kernel without preemption a spinning program keeps a descheduled
 * userspace holder off its CPU, so spinning out the whole may_goto budget
 * only delays it.
 */
static __always_inline int ds_btree_lock(struct ds_btree_head __arena *h)
{
#ifdef __BPF__
	return arena_spin_lock_tries(&h->lock, DS_BTREE_BPF_LOCK_TRIES);
#else
	return arena_spin_lock(&h->lock);
#endif
}

/* Pool nodes left for splits. */
static __always_inline __u32 ds_btree_pool_avail(struct ds_btree_head __arena *h)
{
	return DS_BTREE_POOL_NODES - h->pool_used + h->pool_free;
}

/* A pool node (contents undefined), or NULL.  Under the lock. */
static __always_inline struct ds_btree_node __arena *
ds_btree_node_alloc(struct ds_btree_head __arena *h)
{
	struct ds_btree_node __arena *n = DS_BTREE_NODE(h->free_nodes);
	__u32 i;

	if (n) {
		h->free_nodes = n->next;
		h->pool_free--;
		return n;
	}
	i = h->pool_used;
	if (i >= DS_BTREE_POOL_NODES)
		return NULL;
	h->pool_used = i + 1;
	return &h->pool[i];
}

static __always_inline void ds_btree_node_free(struct ds_btree_head __arena *h,
					       struct ds_btree_node __arena *n)
{
	n->next = h->free_nodes;
	h->free_nodes = (__u64)n;
	h->pool_free++;
}

/*
 * ds_btree_init - make @h an empty tree (one empty root leaf from the pool).
 * @h points to zeroed memory of sizeof(*h) bytes.
 * Concurrency: before any other call on @h.
 * Returns DS_SUCCESS or DS_ERROR_INVALID for a NULL head.
 */
DS_API int ds_btree_init(struct ds_btree_head __arena *h __arg_arena)
{
	struct ds_btree_node __arena *r;

	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	r = &h->pool[0];
	r->leaf = 1;
	r->nkeys = 0;
	r->next = 0;
	h->pool_used = 1;
	h->root = (__u64)r;
	h->verify_reason = 0;
	return DS_SUCCESS;
}

/* Index of the first key >= @key in @n (nkeys when none). */
static __always_inline __u32 ds_btree_lower(struct ds_btree_node __arena *n, __u64 key)
{
	__u32 i, nk = n->nkeys;

	for (i = ARENA_ZERO; i < nk && can_loop; i++)
		if (n->keys[i] >= key)
			break;
	return i;
}

/* Child of internal node @n to follow for @key. */
static __always_inline __u32 ds_btree_child(struct ds_btree_node __arena *n, __u64 key)
{
	__u32 i, nk = n->nkeys;

	for (i = ARENA_ZERO; i < nk && can_loop; i++)
		if (key < n->keys[i])
			break;
	return i;
}

/*
 * Descend to the leaf that holds or would hold @key, filling @p when given.
 * Returns the leaf's level (0 = root), or -1 when the walk did not end (a
 * spent BPF loop budget or a tree deeper than it can be).
 */
static __always_inline int ds_btree_descend(struct ds_btree_head __arena *h, __u64 key,
					    struct ds_btree_path __arena *p)
{
	struct ds_btree_node __arena *n = DS_BTREE_NODE(h->root);
	__u32 d, i;

	for (d = ARENA_ZERO; d < DS_BTREE_MAX_DEPTH && can_loop; d++) {
		if (p)
			p->node[d & 7] = (__u64)n;
		if (n->leaf)
			return d;
		i = ds_btree_child(n, key);
		if (p)
			p->idx[d & 7] = i;
		n = DS_BTREE_NODE(n->slot[i]);
	}
	return -1;
}

/* Open a gap at @pos in keys[] and at @spos in slot[] of @n (nkeys grows). */
static __always_inline void ds_btree_gap(struct ds_btree_node __arena *n, __u32 pos,
					 __u32 spos)
{
	__u32 i, nk = n->nkeys;

	for (i = nk + ARENA_ZERO; i > pos && can_loop; i--)
		n->keys[i] = n->keys[i - 1];
	for (i = nk + 1 + ARENA_ZERO; i > spos && can_loop; i--)
		n->slot[i] = n->slot[i - 1];
	n->nkeys = nk + 1;
}

/* Close keys[pos] and slot[spos] of @n (nkeys shrinks). */
static __always_inline void ds_btree_close(struct ds_btree_node __arena *n, __u32 pos,
					   __u32 spos)
{
	__u32 i, nk = n->nkeys;

	/* Counters start unknown to the verifier (ARENA_ZERO): it then need not
	 * walk each value of a constant start. */
	for (i = pos + ARENA_ZERO; i + 1 < nk && can_loop; i++)
		n->keys[i] = n->keys[i + 1];
	for (i = spos + ARENA_ZERO; i < nk && can_loop; i++)
		n->slot[i] = n->slot[i + 1];
	n->nkeys = nk - 1;
}

/* Move keys[from..nkeys) and slot[sfrom..] of @a to the start of empty @b. */
static __always_inline void ds_btree_move(struct ds_btree_node __arena *a,
					  struct ds_btree_node __arena *b,
					  __u32 from, __u32 sfrom, __u32 nslots)
{
	__u32 i, nk = a->nkeys;

	for (i = ARENA_ZERO; from + i < nk && can_loop; i++)
		b->keys[i] = a->keys[from + i];
	b->nkeys = nk - from;
	for (i = ARENA_ZERO; i < nslots && can_loop; i++)
		b->slot[i] = a->slot[sfrom + i];
}

/*
 * ds_btree_insert - add @key with @value.
 * Concurrency: any number of BPF programs and userspace threads, with any
 * other btree operation.  Progress: blocking (bounded spin); O(log n) under
 * the lock.
 * Returns DS_SUCCESS, DS_ERROR_EXISTS (tree unchanged), DS_ERROR_NOMEM (no
 * record object or not enough pool nodes for the splits; unchanged), or
 * DS_ERROR_BUSY (lock or loop budget; unchanged).
 */
DS_API int ds_btree_insert(struct ds_btree_head __arena *h __arg_arena, __u64 key,
					   __u64 value)
{
	struct ds_btree_node __arena *n, *r, *nr;
	struct ds_btree_rec __arena *rec;
	struct ds_btree_path __arena *p = &h->path;
	__u64 sep;
	__u32 pos, i;
	int rc = DS_ERROR_BUSY, d;

	arena_bind();
	if (ds_btree_lock(h))
		goto out_count;
	d = ds_btree_descend(h, key, p);
	if (d < 0)
		goto out_unlock;
	n = DS_BTREE_NODE(p->node[d & 7]);
	pos = ds_btree_lower(n, key);
	if (pos < n->nkeys && n->keys[pos] == key) {
		rc = DS_ERROR_EXISTS;
		goto out_unlock;
	}
	/* Every level may split, and the root may grow a new level. */
	if (ds_btree_pool_avail(h) < (__u32)d + 2) {
		rc = DS_ERROR_NOMEM;
		goto out_unlock;
	}
	rec = bpf_arena_alloc(sizeof(*rec));
	if (!rec) {
		rc = DS_ERROR_NOMEM;
		goto out_unlock;
	}
	rec->key = key;
	rec->value = value;
	ds_btree_gap(n, pos, pos);
	n->keys[pos] = key;
	n->slot[pos] = (__u64)rec;
	rc = DS_SUCCESS;
	if (n->nkeys <= DS_BTREE_LEAF_MAX)
		goto out_unlock;

	/* Split the leaf: 9 keys stay, 8 move to a new right leaf. */
	r = ds_btree_node_alloc(h);
	if (!r)
		goto out_unlock;	/* cannot happen: checked above */
	r->leaf = 1;
	ds_btree_move(n, r, DS_BTREE_LEAF_MIN + 1, DS_BTREE_LEAF_MIN + 1, DS_BTREE_LEAF_MIN);
	n->nkeys = DS_BTREE_LEAF_MIN + 1;
	r->next = n->next;
	n->next = (__u64)r;
	sep = r->keys[0];

	/* Insert (sep, r) into the parents, splitting full ones on the way up. */
	while (can_loop) {
		if (d <= 0) {
			nr = ds_btree_node_alloc(h);
			if (!nr)
				break;
			nr->leaf = 0;
			nr->nkeys = 1;
			nr->keys[0] = sep;
			nr->slot[0] = h->root;
			nr->slot[1] = (__u64)r;
			arena_atomic_store(&nr->next, 0);	/* no memset merge */
			h->root = (__u64)nr;
			h->depth++;
			break;
		}
		d--;
		n = DS_BTREE_NODE(p->node[d & 7]);
		i = p->idx[d & 7];
		ds_btree_gap(n, i, i + 1);
		n->keys[i] = sep;
		n->slot[i + 1] = (__u64)r;
		if (n->nkeys <= DS_BTREE_INT_MAX)
			break;
		/* 16 keys: 8 stay, keys[8] goes up, 7 move right. */
		r = ds_btree_node_alloc(h);
		if (!r)
			break;
		r->leaf = 0;
		arena_atomic_store(&r->next, 0);	/* no memset merge */
		sep = n->keys[DS_BTREE_INT_MIN + 1];
		ds_btree_move(n, r, DS_BTREE_INT_MIN + 2, DS_BTREE_INT_MIN + 2,
			      DS_BTREE_INT_MIN + 1);
		n->nkeys = DS_BTREE_INT_MIN + 1;
	}
out_unlock:
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/*
 * Refill @n (at level @lvl >= 1 of @p, below its minimum) from a sibling,
 * or merge it with one.  Returns 1 when the parent lost a key (and may be
 * below its minimum now), 0 when done.
 */
static __always_inline int ds_btree_fix(struct ds_btree_head __arena *h,
					struct ds_btree_path __arena *p, int lvl,
					struct ds_btree_node __arena *n)
{
	struct ds_btree_node __arena *par = DS_BTREE_NODE(p->node[(lvl - 1) & 7]);
	struct ds_btree_node __arena *s, *a, *b;
	__u32 i = p->idx[(lvl - 1) & 7], min, j, k, nk;

	min = n->leaf ? DS_BTREE_LEAF_MIN : DS_BTREE_INT_MIN;
	if (i > 0) {
		s = DS_BTREE_NODE(par->slot[i - 1]);
		if (s->nkeys > min) {
			/* Borrow the left sibling's last entry. */
			nk = s->nkeys;
			if (n->leaf) {
				ds_btree_gap(n, 0, 0);
				n->keys[0] = s->keys[nk - 1];
				n->slot[0] = s->slot[nk - 1];
				par->keys[i - 1] = n->keys[0];
			} else {
				ds_btree_gap(n, 0, 0);
				n->keys[0] = par->keys[i - 1];
				n->slot[0] = s->slot[nk];
				par->keys[i - 1] = s->keys[nk - 1];
			}
			s->nkeys = nk - 1;
			return 0;
		}
	} else {
		s = DS_BTREE_NODE(par->slot[i + 1]);
		if (s->nkeys > min) {
			/* Borrow the right sibling's first entry. */
			nk = n->nkeys;
			if (n->leaf) {
				n->keys[nk] = s->keys[0];
				n->slot[nk] = s->slot[0];
				ds_btree_close(s, 0, 0);
				par->keys[i] = s->keys[0];
			} else {
				n->keys[nk] = par->keys[i];
				n->slot[nk + 1] = s->slot[0];
				par->keys[i] = s->keys[0];
				ds_btree_close(s, 0, 0);
			}
			n->nkeys = nk + 1;
			return 0;
		}
	}
	/* Merge b into a, its left neighbour; separator par->keys[j]. */
	if (i > 0) {
		a = s;
		b = n;
		j = i - 1;
	} else {
		a = n;
		b = s;
		j = i;
	}
	nk = a->nkeys;
	if (a->leaf) {
		for (k = ARENA_ZERO; k < b->nkeys && can_loop; k++) {
			a->keys[nk + k] = b->keys[k];
			a->slot[nk + k] = b->slot[k];
		}
		a->next = b->next;
		a->nkeys = nk + b->nkeys;
	} else {
		a->keys[nk] = par->keys[j];
		for (k = ARENA_ZERO; k < b->nkeys && can_loop; k++)
			a->keys[nk + 1 + k] = b->keys[k];
		for (k = ARENA_ZERO; k <= b->nkeys && can_loop; k++)
			a->slot[nk + 1 + k] = b->slot[k];
		a->nkeys = nk + 1 + b->nkeys;
	}
	ds_btree_node_free(h, b);
	ds_btree_close(par, j, j + 1);
	return 1;
}

/*
 * Remove @key under the lock, storing its value in *@value.  Returns
 * DS_SUCCESS, DS_ERROR_NOT_FOUND or DS_ERROR_BUSY (loop budget; unchanged).
 */
static __always_inline int ds_btree_remove(struct ds_btree_head __arena *h, __u64 key,
					   __u64 *value)
{
	struct ds_btree_node __arena *n, *c;
	struct ds_btree_rec __arena *rec;
	struct ds_btree_path __arena *p = &h->path;
	__u32 pos;
	int d;

	d = ds_btree_descend(h, key, p);
	if (d < 0)
		return DS_ERROR_BUSY;
	n = DS_BTREE_NODE(p->node[d & 7]);
	pos = ds_btree_lower(n, key);
	if (pos >= n->nkeys || n->keys[pos] != key)
		return DS_ERROR_NOT_FOUND;
	rec = DS_BTREE_REC(n->slot[pos]);
	if (value)
		*value = rec->value;
	bpf_arena_free(rec);
	ds_btree_close(n, pos, pos);
	while (can_loop) {
		if (d <= 0) {
			/* A root with one child gives the tree one level less. */
			if (!n->leaf && n->nkeys == 0) {
				c = DS_BTREE_NODE(n->slot[0]);
				h->root = (__u64)c;
				h->depth--;
				ds_btree_node_free(h, n);
			}
			break;
		}
		if (n->nkeys >= (n->leaf ? DS_BTREE_LEAF_MIN : DS_BTREE_INT_MIN))
			break;
		if (!ds_btree_fix(h, p, d, n))
			break;
		d--;
		n = DS_BTREE_NODE(p->node[d & 7]);
	}
	return DS_SUCCESS;
}

/*
 * ds_btree_delete - remove @key.
 * Concurrency: any context, with any other btree operation.  Blocking
 * (bounded spin); O(log n).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY (unchanged).
 */
DS_API int ds_btree_delete(struct ds_btree_head __arena *h __arg_arena, __u64 key)
{
	int rc = DS_ERROR_BUSY;

	arena_bind();
	if (ds_btree_lock(h))
		goto out_count;
	rc = ds_btree_remove(h, key, NULL);
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * ds_btree_search - look @key up; store its value in *@value when found.
 * Concurrency: any context (takes the lock too).  Blocking (bounded spin).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY.
 */
DS_API int ds_btree_search(struct ds_btree_head __arena *h __arg_arena, __u64 key,
					   __u64 *value)
{
	struct ds_btree_node __arena *n;
	int rc = DS_ERROR_BUSY;
	__u32 pos;

	arena_bind();
	if (ds_btree_lock(h))
		goto out_count;
	n = DS_BTREE_NODE(h->root);
	while (!n->leaf && can_loop)
		n = DS_BTREE_NODE(n->slot[ds_btree_child(n, key)]);
	if (!n->leaf)
		goto out_unlock;
	pos = ds_btree_lower(n, key);
	if (pos < n->nkeys && n->keys[pos] == key) {
		if (value)
			*value = DS_BTREE_REC(n->slot[pos])->value;
		rc = DS_SUCCESS;
	} else {
		rc = DS_ERROR_NOT_FOUND;
	}
out_unlock:
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

/*
 * ds_btree_pop - remove the element with the smallest key and return it.
 * Concurrency: any context.  Blocking (bounded spin); O(log n).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 */
DS_API int ds_btree_pop(struct ds_btree_head __arena *h __arg_arena, __u64 *key,
					__u64 *value)
{
	struct ds_btree_node __arena *n;
	int rc = DS_ERROR_BUSY;
	__u64 k;

	arena_bind();
	if (ds_btree_lock(h))
		goto out_count;
	n = DS_BTREE_NODE(h->root);
	while (!n->leaf && can_loop)
		n = DS_BTREE_NODE(n->slot[0]);
	if (!n->leaf)
		goto out_unlock;
	if (!n->nkeys) {
		rc = DS_ERROR_NOT_FOUND;
		goto out_unlock;
	}
	k = n->keys[0];
	rc = ds_btree_remove(h, k, value);
	if (rc == DS_SUCCESS && key)
		*key = k;
out_unlock:
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_POP, rc);
	return rc;
}

/*
 * ds_btree_range - count the keys in [@lo, @hi] into *@count: descend to
 * @lo's leaf, then scan along the leaf chain.
 * Concurrency: any context; exact (under the lock).  Blocking (bounded
 * spin); O(log n + count).
 * Returns DS_SUCCESS or DS_ERROR_BUSY (*@count untouched).
 */
DS_API int ds_btree_range(struct ds_btree_head __arena *h __arg_arena, __u64 lo,
					  __u64 hi, __u64 *count)
{
	struct ds_btree_node __arena *n;
	__u64 cnt = ARENA_ZERO;
	int rc = DS_ERROR_BUSY;
	__u32 pos;

	arena_bind();
	if (ds_btree_lock(h))
		goto out_count;
	n = DS_BTREE_NODE(h->root);
	while (!n->leaf && can_loop)
		n = DS_BTREE_NODE(n->slot[ds_btree_child(n, lo)]);
	if (!n->leaf)
		goto out_unlock;
	pos = ds_btree_lower(n, lo);
	while (can_loop) {
		if (pos >= n->nkeys) {
			n = DS_BTREE_NODE(n->next);
			pos = 0;
			if (!n) {
				rc = DS_SUCCESS;
				break;
			}
			continue;
		}
		if (n->keys[pos] > hi) {
			rc = DS_SUCCESS;
			break;
		}
		cnt++;
		pos++;
	}
	if (rc == DS_SUCCESS && count)
		*count = cnt;
out_unlock:
	arena_spin_unlock(&h->lock);
out_count:
	ds_count(&h->stats, DS_OP_RANGE, rc);
	return rc;
}

/* A child link verify may follow: a node of @h's pool. */
static __always_inline int ds_btree_node_ok(struct ds_btree_head __arena *h, __u64 p)
{
	__u64 base = (__u64)&h->pool[0];

	return p >= base && p < base + sizeof(h->pool) &&
	       (p - base) % sizeof(struct ds_btree_node) == 0;
}

/* Successful inserts - deletes - pops, summed without a struct ds_stats on
 * the (BPF) stack. */
static __always_inline __s64 ds_btree_live(struct ds_btree_head __arena *h)
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
 * ds_btree_verify - depth-first walk with an explicit stack: every child is
 * a pool node, keys increase inside each node and across the leaves, each
 * separator lies above every key on its left and at or below every key on
 * its right, fill bounds hold (root excepted), all leaves sit at one depth,
 * records are allocator objects holding their key, the leaf chain links the
 * leaves in walk order and ends with NULL, and the number of keys equals
 * successful inserts - deletes - pops.
 * Concurrency: only while no other operation runs on @h.
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason), or
 * DS_ERROR_BUSY (BPF loop budget spent before the end).
 */
DS_API int ds_btree_verify(struct ds_btree_head __arena *h __arg_arena)
{
	arena_bind();
	struct ds_btree_path __arena *s = &h->path;	/* node, children visited */
	struct ds_btree_vstate __arena *v = &h->vs;
	struct ds_btree_node __arena *n;
	struct ds_btree_rec __arena *rec;
	__u32 c, i, nk, min, max, d = 0;
	__u64 child;

	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	if (!ds_btree_node_ok(h, h->root))
		return ds_corrupt(h, DS_CORRUPT_POINTER);
	/* One by one: plain zero stores in a row become a memset that loses
	 * the arena address-space cast in BPF. */
	arena_atomic_store(&v->prev, 0);
	arena_atomic_store(&v->cnt, 0);
	arena_atomic_store(&v->last, 0);
	arena_atomic_store(&v->sep, 0);
	arena_atomic_store(&v->have_sep, 0);
	v->leaf_depth = -1;
	s->node[0] = h->root;
	s->idx[0] = 0;
	while (can_loop) {
		n = DS_BTREE_NODE(s->node[d & 7]);
		c = s->idx[d & 7];
		nk = n->nkeys;
		if (c == 0) {
			/* First visit: the node on its own. */
			if (n->leaf) {
				min = d ? DS_BTREE_LEAF_MIN : 0;
				max = DS_BTREE_LEAF_MAX;
			} else {
				min = d ? DS_BTREE_INT_MIN : 1;
				max = DS_BTREE_INT_MAX;
			}
			if (nk < min || nk > max)
				return ds_corrupt(h, DS_CORRUPT_SHAPE);
			for (i = ARENA_ZERO; i + 1 < nk && can_loop; i++)
				if (n->keys[i] >= n->keys[i + 1])
					return ds_corrupt(h, n->keys[i] == n->keys[i + 1] ?
							  DS_CORRUPT_DUPLICATE : DS_CORRUPT_ORDER);
			if (n->leaf) {
				if (v->leaf_depth < 0)
					v->leaf_depth = d;
				else if ((__u32)v->leaf_depth != d)
					return ds_corrupt(h, DS_CORRUPT_SHAPE);
				if (v->prev && DS_BTREE_NODE(v->prev)->next != (__u64)n)
					return ds_corrupt(h, DS_CORRUPT_POINTER);
				if (nk && v->cnt && n->keys[0] <= v->last)
					return ds_corrupt(h, n->keys[0] == v->last ?
							  DS_CORRUPT_DUPLICATE : DS_CORRUPT_ORDER);
				if (nk && v->have_sep && n->keys[0] < v->sep)
					return ds_corrupt(h, DS_CORRUPT_ORDER);
				v->have_sep = 0;
				for (i = ARENA_ZERO; i < nk && can_loop; i++) {
					rec = DS_BTREE_REC(n->slot[i]);
					if (!rec || !ds_link_ok((__u64)rec))
						return ds_corrupt(h, DS_CORRUPT_POINTER);
					if (rec->key != n->keys[i])
						return ds_corrupt(h, DS_CORRUPT_ORDER);
				}
				if (nk)
					v->last = n->keys[nk - 1];
				v->cnt += nk;
				v->prev = (__u64)n;
				goto up;
			}
		} else {
			if (c > nk)
				goto up;	/* all children done */
			/* Crossing separator c - 1: above everything on its left. */
			v->sep = n->keys[c - 1];
			if (v->last >= v->sep)
				return ds_corrupt(h, DS_CORRUPT_ORDER);
			v->have_sep = 1;
		}
		child = n->slot[c];
		if (!ds_btree_node_ok(h, child))
			return ds_corrupt(h, DS_CORRUPT_POINTER);
		if (d + 1 >= DS_BTREE_MAX_DEPTH)
			return ds_corrupt(h, DS_CORRUPT_SHAPE);
		s->idx[d & 7] = c + 1;
		d++;
		s->node[d & 7] = child;
		s->idx[d & 7] = 0;
		continue;
up:
		if (d == 0)
			goto walked;
		d--;
	}
	return DS_ERROR_BUSY;
walked:
	if (v->prev && DS_BTREE_NODE(v->prev)->next)
		return ds_corrupt(h, DS_CORRUPT_POINTER);
	if ((__u32)v->leaf_depth != h->depth)
		return ds_corrupt(h, DS_CORRUPT_SHAPE);
	if ((__s64)v->cnt != ds_btree_live(h))
		return ds_corrupt(h, DS_CORRUPT_COUNT);
	return DS_SUCCESS;
}

DS_DEFINE_STATS_FNS_LOCKED(btree)
DS_DEFINE_NO_QUIESCE(btree)	/* nodes and records are freed under the lock */

DS_DEFINE_METADATA(btree,
	.description = "B+ tree (16-way, leaf chain) under one arena spinlock, unique keys",
	.node_size = sizeof(struct ds_btree_rec),
	.head_size = sizeof(struct ds_btree_head),
	.caps = DS_CAP_KEYED | DS_CAP_ORDERED | DS_CAP_POP | DS_CAP_RANGE,
	.fixed_objects = 0,
	.requires_locking = 1,
	.progress = "blocking (bounded spin)",
)

