/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/ds_skiplist.c - lock-free ordered skip list (Fraser / Herlihy-Shavit),
 * unique keys, shared by BPF programs and userspace threads.
 *
 * Each node has 1..DS_SKIP_LEVELS forward links, chosen at random with
 * p = 1/4 per extra level, and is allocated with only the links it uses.
 * The bottom level defines membership: a key is present while its node is
 * linked there with an unmarked link.  Deleting marks the node's links top
 * down (bit 0 of each next word); whoever marks level 0 owns the delete.
 * Traversals that meet a marked node unlink it at that level with a CAS.
 *
 * Reclamation: a node is retired only once both its inserter has stopped
 * linking upper levels and its deleter has marked it, so a late upper-level
 * link can never outlive it.  Each of the two bumps the node's `ref`; the
 * second one runs a find on the key (which unlinks the marked node at every
 * level still holding it) and retires the node to the head's EBR domain.
 * Nodes that were never published are freed at once.  Keys and values never
 * change after publication.
 *
 * Progress: insert, delete and pop are lock-free; search and range are
 * wait-free (no writes, no retries).  In BPF every loop is bounded by
 * can_loop and a spent budget answers DS_ERROR_BUSY.
 *
 * Per-operation state (the key, the predecessors and successors at every
 * level, the next level to link) lives in the head, one row per EBR record:
 * an operation owns its record for its whole critical section, and the
 * driver's BPF dispatch frame stays under 100 bytes.
 */
#include <libarena-ds/ds_skiplist.h>
#include "ds_internal.h"

static __always_inline __u32 ds_skiplist_node_size(__u32 level)
{
	return sizeof(struct ds_skiplist_node) + level * sizeof(__u64);
}

/*
 * Random level for a new node: splitmix64 of the clock and the key, no
 * shared generator state.  Level l+1 with probability 4^-l.
 */
static __always_inline __u32 ds_skiplist_random_level(__u64 key)
{
	__u64 z = arena_now_ns() ^ (key * 0x9e3779b97f4a7c15ULL);
	__u32 lvl = 1, i;

	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	for (i = 0; i < DS_SKIP_LEVELS - 1; i++) {
		if (z & 3)
			break;
		lvl++;
		z >>= 2;
	}
	return lvl;
}

/*
 * ds_skiplist_init - make @h an empty skip list.  @h points to zeroed
 * memory of sizeof(*h) bytes (ds_create() gives that).
 * Concurrency: before any other call on @h.  Returns DS_SUCCESS or
 * DS_ERROR_INVALID for a NULL head.
 */
DS_API int ds_skiplist_init(struct ds_skiplist_head __arena *h __arg_arena)
{
	arena_bind();
	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	h->top = DS_SKIP_LEVELS - 1;
	return DS_SUCCESS;
}

/*
 * For every level, find the last node with key < sc->key (its link address
 * into sc->preds) and the link value after it (sc->succs: the first live
 * node with key >= sc->key, or 0), unlinking marked nodes on the way.
 * Every predecessor used was seen unmarked at its level, so a marked node
 * with key sc->key that is still linked anywhere is unlinked when this
 * returns 0.
 * Inside a critical section.  Returns 0 or DS_ERROR_BUSY.
 */
static __always_inline int ds_skiplist_find(struct ds_skiplist_head __arena *h,
					    struct ds_skiplist_scratch __arena *sc)
{
	struct ds_skiplist_node __arena *curr;
	__u64 pred = (__u64)&h->next[0], v, s;
	__u32 lvl = h->top;

	/* One flat loop over (level, position). */
	while (can_loop) {
		v = arena_atomic_load_acquire(&DS_SKIP_LINKS(pred)[DS_SKIP_LVL(lvl)]);
		if (v & DS_SKIP_MARK) {
			/* The predecessor is being deleted: start over. */
			pred = (__u64)&h->next[0];
			lvl = h->top;
			continue;
		}
		curr = DS_SKIP_PTR(v);
		if (curr) {
			s = arena_atomic_load_acquire(&curr->next[DS_SKIP_LVL(lvl)]);
			if (s & DS_SKIP_MARK) {
				if (arena_atomic_cmpxchg(&DS_SKIP_LINKS(pred)[DS_SKIP_LVL(lvl)],
							 v, s & ~DS_SKIP_MARK) != v) {
					pred = (__u64)&h->next[0];
					lvl = h->top;
				}
				continue;
			}
			if (curr->key < sc->key) {
				pred = (__u64)&curr->next[0];
				continue;
			}
		}
		sc->preds[DS_SKIP_LVL(lvl)] = pred;
		sc->succs[DS_SKIP_LVL(lvl)] = v;
		if (!lvl)
			return 0;
		lvl--;
	}
	return DS_ERROR_BUSY;
}

/*
 * Second of {inserter done, deleter done}: unlink @node everywhere and
 * retire it.  If the BPF loop budget runs out first, the node stays
 * marked; later finds unlink it, but it is not reclaimed (a leak, never a
 * use after free).
 */
static __always_inline void ds_skiplist_release(struct ds_skiplist_head __arena *h, int idx,
						struct ds_skiplist_scratch __arena *sc,
						struct ds_skiplist_node __arena *node)
{
	if (arena_atomic_fetch_add(&node->ref, 1) != 1)
		return;
	sc->key = node->key;
	if (ds_skiplist_find(h, sc))
		return;
	arena_ebr_retire(&h->ebr, idx, node);
}

/*
 * Mark @node's links top down.  Returns 1 if this call marked level 0 (the
 * delete is ours), 0 if another context did, DS_ERROR_BUSY on budget.
 */
static __always_inline int ds_skiplist_mark(struct ds_skiplist_node __arena *node)
{
	__u32 lvl = node->level;
	__u64 v;

	if (lvl > DS_SKIP_LEVELS)
		lvl = DS_SKIP_LEVELS;
	if (lvl)
		lvl--;
	while (can_loop) {
		v = arena_atomic_load_acquire(&node->next[DS_SKIP_LVL(lvl)]);
		if (v & DS_SKIP_MARK) {
			if (!lvl)
				return 0;
			lvl--;
			continue;
		}
		if (arena_atomic_cmpxchg(&node->next[DS_SKIP_LVL(lvl)], v, v | DS_SKIP_MARK) != v)
			continue;
		if (!lvl)
			return 1;
		lvl--;
	}
	return DS_ERROR_BUSY;
}

/*
 * Link the published @node at its upper levels, bottom up, with the find
 * results in @sc (sc->key is the node's key); stop early when the node is
 * deleted meanwhile.  Inside the critical section.
 */
static __always_inline void ds_skiplist_link_up(struct ds_skiplist_head __arena *h,
						struct ds_skiplist_scratch __arena *sc,
						struct ds_skiplist_node __arena *node)
{
	__u64 old, succ;
	__u32 i;

	sc->value = 1;		/* the level to link next, kept off the stack */
	while (can_loop) {
		i = sc->value;
		if (i >= node->level || i >= DS_SKIP_LEVELS)
			break;
		succ = sc->succs[DS_SKIP_LVL(i)];
		old = arena_atomic_load_acquire(&node->next[DS_SKIP_LVL(i)]);
		if (old & DS_SKIP_MARK)
			break;	/* being deleted: leave the rest unlinked */
		if (old != succ &&
		    arena_atomic_cmpxchg(&node->next[DS_SKIP_LVL(i)], old, succ) != old)
			break;	/* marked meanwhile */
		if (arena_atomic_cmpxchg(&DS_SKIP_LINKS(sc->preds[DS_SKIP_LVL(i)])[DS_SKIP_LVL(i)],
					 succ, (__u64)node) == succ) {
			sc->value = i + 1;
			continue;
		}
		/* The neighbourhood changed: look again. */
		if (ds_skiplist_find(h, sc))
			break;
		if (DS_SKIP_PTR(sc->succs[0]) != node)
			break;	/* deleted meanwhile */
	}
}

/*
 * ds_skiplist_insert - add @key with @value.
 * Concurrency: any number of BPF programs and userspace threads, with any
 * other skip list operation.  Progress: lock-free (bounded by can_loop in
 * BPF).  The insert takes effect when the node is linked at level 0; the
 * upper levels follow.
 * Returns DS_SUCCESS, DS_ERROR_EXISTS (key present, list unchanged),
 * DS_ERROR_NOMEM, or DS_ERROR_BUSY (retry budget or EBR records exhausted).
 */
DS_API int ds_skiplist_insert(struct ds_skiplist_head __arena *h __arg_arena, __u64 key,
					      __u64 value)
{
	struct ds_skiplist_node __arena *node = NULL, *curr;
	struct ds_skiplist_scratch __arena *sc;
	int idx, rc = DS_ERROR_BUSY;
	__u32 level, i;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	sc = &h->scratch[idx & (ARENA_EBR_SLOTS - 1)];
	sc->key = key;
	sc->value = value;
	while (can_loop) {
		if (ds_skiplist_find(h, sc))
			break;
		curr = DS_SKIP_PTR(sc->succs[0]);
		if (curr && curr->key == sc->key) {
			rc = DS_ERROR_EXISTS;
			break;
		}
		if (!node) {
			level = ds_skiplist_random_level(sc->key);
			node = bpf_arena_alloc(ds_skiplist_node_size(level));
			if (!node) {
				rc = DS_ERROR_NOMEM;
				break;
			}
			arena_atomic_store(&node->ebr_link, 0);	/* a stale free-list pop may read it */
			node->key = sc->key;
			node->value = sc->value;
			node->level = level;
			node->ref = 0;
		}
		for (i = 0; i < DS_SKIP_LEVELS; i++) {
			if (i >= node->level)
				break;
			node->next[i] = sc->succs[i];
		}
		if (arena_atomic_cmpxchg(&DS_SKIP_LINKS(sc->preds[0])[0], sc->succs[0],
					 (__u64)node) == sc->succs[0]) {
			rc = DS_SUCCESS;
			break;
		}
	}
	if (rc != DS_SUCCESS) {
		if (node)
			bpf_arena_free(node);	/* never published */
		goto out_exit;
	}
	ds_skiplist_link_up(h, sc, node);
	ds_skiplist_release(h, idx, sc, node);
out_exit:
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_INSERT, rc);
	return rc;
}

/*
 * ds_skiplist_delete - remove @key.
 * Concurrency: any context, with any other skip list operation.  Lock-free.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY.
 */
DS_API int ds_skiplist_delete(struct ds_skiplist_head __arena *h __arg_arena, __u64 key)
{
	struct ds_skiplist_node __arena *curr;
	struct ds_skiplist_scratch __arena *sc;
	int idx, rc = DS_ERROR_BUSY, m;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	sc = &h->scratch[idx & (ARENA_EBR_SLOTS - 1)];
	sc->key = key;
	while (can_loop) {
		if (ds_skiplist_find(h, sc))
			break;
		curr = DS_SKIP_PTR(sc->succs[0]);
		if (!curr || curr->key != sc->key) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		m = ds_skiplist_mark(curr);
		if (m < 0)
			break;
		if (m) {
			ds_skiplist_release(h, idx, sc, curr);
			rc = DS_SUCCESS;
			break;
		}
		/* Someone else deleted it: look again. */
	}
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_DELETE, rc);
	return rc;
}

/*
 * Descend to the first node at level 0 that was live with key >= @key,
 * without writing (marked nodes are stepped over).  Returns that node or
 * NULL in *pcurr; 0 or DS_ERROR_BUSY.
 */
static __always_inline int ds_skiplist_seek(struct ds_skiplist_head __arena *h, __u64 key,
					    struct ds_skiplist_node __arena **pcurr)
{
	struct ds_skiplist_node __arena *curr;
	__u64 pred = (__u64)&h->next[0], s;
	__u32 lvl = h->top;

	curr = DS_SKIP_PTR(arena_atomic_load_acquire(&DS_SKIP_LINKS(pred)[DS_SKIP_LVL(lvl)]));
	while (can_loop) {
		if (curr) {
			s = arena_atomic_load_acquire(&curr->next[DS_SKIP_LVL(lvl)]);
			if (s & DS_SKIP_MARK) {
				curr = DS_SKIP_PTR(s);
				continue;
			}
			if (curr->key < key) {
				pred = (__u64)&curr->next[0];
				curr = DS_SKIP_PTR(s);
				continue;
			}
		}
		if (!lvl) {
			*pcurr = curr;
			return 0;
		}
		lvl--;
		curr = DS_SKIP_PTR(arena_atomic_load_acquire(
				&DS_SKIP_LINKS(pred)[DS_SKIP_LVL(lvl)]));
	}
	return DS_ERROR_BUSY;
}

/*
 * ds_skiplist_search - look @key up; store its value in *@value when found.
 * Concurrency: any context, with any other skip list operation.  Wait-free
 * (no retries, no writes; bounded by can_loop in BPF).
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND, or DS_ERROR_BUSY.
 */
DS_API int ds_skiplist_search(struct ds_skiplist_head __arena *h __arg_arena, __u64 key,
					      __u64 *value)
{
	struct ds_skiplist_node __arena *curr = NULL;
	int idx, rc = DS_ERROR_BUSY;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	if (!ds_skiplist_seek(h, key, &curr)) {
		if (curr && curr->key == key) {
			if (value)
				*value = curr->value;
			rc = DS_SUCCESS;
		} else {
			rc = DS_ERROR_NOT_FOUND;
		}
	}
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_SEARCH, rc);
	return rc;
}

/*
 * ds_skiplist_pop - remove the element with the smallest key and return it.
 * Concurrency: any context, with any other skip list operation.  Lock-free.
 * Under concurrent inserts of smaller keys the result is the minimum at
 * some moment of the walk (quiescently consistent); alone it is exact.
 * Returns DS_SUCCESS, DS_ERROR_NOT_FOUND (empty), or DS_ERROR_BUSY.
 */
DS_API int ds_skiplist_pop(struct ds_skiplist_head __arena *h __arg_arena, __u64 *key,
					   __u64 *value)
{
	struct ds_skiplist_node __arena *curr;
	struct ds_skiplist_scratch __arena *sc;
	int idx, rc = DS_ERROR_BUSY, m;
	__u64 s;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	sc = &h->scratch[idx & (ARENA_EBR_SLOTS - 1)];
	curr = DS_SKIP_PTR(arena_atomic_load_acquire(&h->next[0]));
	while (can_loop) {
		if (!curr) {
			rc = DS_ERROR_NOT_FOUND;
			break;
		}
		s = arena_atomic_load_acquire(&curr->next[0]);
		if (s & DS_SKIP_MARK) {
			curr = DS_SKIP_PTR(s);
			continue;
		}
		m = ds_skiplist_mark(curr);
		if (m < 0)
			break;
		if (m) {
			if (key)
				*key = curr->key;
			if (value)
				*value = curr->value;
			ds_skiplist_release(h, idx, sc, curr);
			rc = DS_SUCCESS;
			break;
		}
		/* Lost it to another delete: its link is marked now, move on. */
	}
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_POP, rc);
	return rc;
}

/*
 * ds_skiplist_range - count the keys in [@lo, @hi] into *@count.
 * Concurrency: any context; the count is exact when no writer runs.
 * Wait-free: O(log n + count) steps.
 * Returns DS_SUCCESS or DS_ERROR_BUSY.
 */
DS_API int ds_skiplist_range(struct ds_skiplist_head __arena *h __arg_arena, __u64 lo,
					     __u64 hi, __u64 *count)
{
	struct ds_skiplist_node __arena *curr = NULL;
	int idx, rc = DS_ERROR_BUSY;
	__u64 s, n = ARENA_ZERO;

	arena_bind();
	idx = arena_ebr_enter(&h->ebr);
	if (idx < 0)
		goto out_count;
	if (ds_skiplist_seek(h, lo, &curr))
		goto out_exit;
	while (can_loop) {
		if (!curr || curr->key > hi) {
			rc = DS_SUCCESS;
			break;
		}
		s = arena_atomic_load_acquire(&curr->next[0]);
		if (!(s & DS_SKIP_MARK))
			n++;
		curr = DS_SKIP_PTR(s);
	}
	if (count)
		*count = n;
out_exit:
	arena_ebr_exit(&h->ebr, idx);
out_count:
	ds_count(&h->stats, DS_OP_RANGE, rc);
	return rc;
}

/*
 * ds_skiplist_verify - check every level: links point into the allocator's
 * memory, no marked link, keys strictly increase (no cycles), every node on
 * level l has more than l links (DS_CORRUPT_SHAPE), each upper level is a
 * subset of the level below, met in the same order (DS_CORRUPT_SHAPE), and
 * the nodes on level 0 number successful inserts - deletes - pops.
 * Concurrency: only while no other operation runs on @h (after quiesce).
 * Returns DS_SUCCESS, DS_ERROR_CORRUPT (reason in h->verify_reason), or
 * DS_ERROR_BUSY (BPF loop budget spent before the end).
 */
DS_API int ds_skiplist_verify(struct ds_skiplist_head __arena *h __arg_arena)
{
	struct ds_skiplist_node __arena *curr, *down;
	struct ds_stats st;
	__u64 next, n = ARENA_ZERO, last = 0, dn;

	arena_bind();
	__u32 lvl = 0;		/* not ARENA_ZERO: a test on it would make n exact */
	int first = 1;

	if (!h)
		return DS_ERROR_INVALID;
	h->verify_reason = 0;
	if (h->top != DS_SKIP_LEVELS - 1)
		return ds_corrupt(h, DS_CORRUPT_SHAPE);
	/* One flat loop over (level, node), bottom level first; on level
	 * l > 0, `dn` walks level l - 1 (already checked) alongside. */
	next = h->next[0];
	dn = 0;
	while (can_loop) {
		if (!next) {
			if (!lvl) {
				ds_counters_sum(&h->stats, &st);
				if ((__s64)n != st.current_elements)
					return ds_corrupt(h, DS_CORRUPT_COUNT);
			}
			if (++lvl >= DS_SKIP_LEVELS)
				return DS_SUCCESS;
			next = h->next[DS_SKIP_LVL(lvl)];
			dn = h->next[DS_SKIP_LVL(lvl - 1)];
			first = 1;
			continue;
		}
		if (next & DS_SKIP_MARK)
			return ds_corrupt(h, DS_CORRUPT_MARK);
		if (!ds_link_ok(next))
			return ds_corrupt(h, DS_CORRUPT_POINTER);
		curr = DS_SKIP_PTR(next);
		if (!first && curr->key <= last)
			return ds_corrupt(h, curr->key == last ?
					  DS_CORRUPT_DUPLICATE : DS_CORRUPT_ORDER);
		if (curr->level <= lvl || curr->level > DS_SKIP_LEVELS)
			return ds_corrupt(h, DS_CORRUPT_SHAPE);
		if (lvl) {
			/* Advance the level below up to this key: it must
			 * hold this very node. */
			while (can_loop) {
				down = DS_SKIP_PTR(dn);
				if (!down || down == curr || down->key >= curr->key)
					break;
				dn = down->next[DS_SKIP_LVL(lvl - 1)];
			}
			if (DS_SKIP_PTR(dn) != curr)
				return ds_corrupt(h, DS_CORRUPT_SHAPE);
		} else {
			n++;
		}
		last = curr->key;
		first = 0;
		next = curr->next[DS_SKIP_LVL(lvl)];
	}
	return DS_ERROR_BUSY;
}

DS_DEFINE_STATS_FNS(skiplist)
DS_DEFINE_EBR_QUIESCE(skiplist)

DS_DEFINE_METADATA(skiplist,
	.description = "lock-free skip list (Fraser/Herlihy-Shavit), unique keys",
	.node_size = sizeof(struct ds_skiplist_node) + sizeof(__u64),
	.head_size = sizeof(struct ds_skiplist_head),
	.caps = DS_CAP_KEYED | DS_CAP_ORDERED | DS_CAP_POP | DS_CAP_RANGE,
	.fixed_objects = 0,
	.requires_locking = 0,
	.progress = "lock-free; search and range wait-free",
)

