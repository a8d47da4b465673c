// SPDX-License-Identifier: GPL-2.0
/*
 * graph.bpf.c - the kernel's own "graph" structures as benchmark peers:
 * bpf_rbtree_* and bpf_list_* kfuncs on a root held in a global section
 * with its bpf_spin_lock, nodes from bpf_obj_new() and freed with
 * bpf_obj_drop().  Same argument block and key stream as bench.bpf.c.
 *
 *   rbt_run   BENCH_PQ: insert a->n / 2 keys (first + perm(i)), then take
 *             the minimum a->n / 2 times (bpf_rbtree_first + _remove)
 *   lst_run   BENCH_PAIR: a->n push_back + pop_front pairs
 *   obj_run   a->n bpf_obj_new + bpf_obj_drop, nothing else (what the
 *             node allocation of the two above costs on its own)
 *
 * Every operation takes and releases the lock on its own, as a caller of a
 * shared queue or tree would: a push+pop pair is two critical sections.
 * This object has no arena: the driver turns off the arena map that
 * bpf_arena_common.h declares (only can_loop and ARENA_ZERO are used).
 */
#include <libarena-ds/common.h>
#include <bpf/bpf_core_read.h>
#include "bench.h"

/* kfuncs (kernel/bpf/helpers.c), declared here, not taken from vmlinux.h */
extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_obj_drop_impl(void *obj, void *meta) __ksym;
extern int bpf_rbtree_add_impl(struct bpf_rb_root *root, struct bpf_rb_node *node,
			       bool (*less)(struct bpf_rb_node *a, const struct bpf_rb_node *b),
			       void *meta, __u64 off) __ksym;
extern struct bpf_rb_node *bpf_rbtree_first(struct bpf_rb_root *root) __ksym;
extern struct bpf_rb_node *bpf_rbtree_remove(struct bpf_rb_root *root,
					     struct bpf_rb_node *node) __ksym;
extern int bpf_list_push_back_impl(struct bpf_list_head *head, struct bpf_list_node *node,
				   void *meta, __u64 off) __ksym;
extern struct bpf_list_node *bpf_list_pop_front(struct bpf_list_head *head) __ksym;

#define g_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define g_drop(p) bpf_obj_drop_impl(p, NULL)
/* The verifier reads the element type of a root from this BTF tag. */
#define g_contains(type, field) __attribute__((btf_decl_tag("contains:" #type ":" #field)))
/* One global section (one map value) per lock and the root it guards. */
#define g_section(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))
#define g_entry(p, type, field) ((type *)((void *)(p) - __builtin_offsetof(type, field)))

struct rb_elem {
	__u64 key;
	__u64 value;
	struct bpf_rb_node node;
};

struct ls_elem {
	__u64 value;
	struct bpf_list_node node;
};

g_section(rb) struct bpf_spin_lock rb_lock;
g_section(rb) struct bpf_rb_root rb_root g_contains(rb_elem, node);
g_section(ls) struct bpf_spin_lock ls_lock;
g_section(ls) struct bpf_list_head ls_head g_contains(ls_elem, node);

static bool rb_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct rb_elem *x = g_entry(a, struct rb_elem, node);
	struct rb_elem *y = g_entry(b, struct rb_elem, node);

	return x->key < y->key;
}

SEC("syscall")
int rbt_run(struct bench_args *a)
{
	__u64 n = a->n, first = a->first, i, ok = 0, sum = 0, t0, t1;
	__u32 range = a->range;
	struct bpf_rb_node *rn;
	struct rb_elem *e;

	t0 = bpf_ktime_get_ns();
	for (i = ARENA_ZERO; i < n && can_loop; i++) {
		if (i < n / 2) {
			e = g_new(struct rb_elem);
			if (!e)
				continue;
			e->key = first + bench_perm(i, range);
			e->value = e->key * 2 + 1;
			bpf_spin_lock(&rb_lock);
			bpf_rbtree_add_impl(&rb_root, &e->node, rb_less, NULL, 0);
			bpf_spin_unlock(&rb_lock);
			ok++;
			continue;
		}
		bpf_spin_lock(&rb_lock);
		rn = bpf_rbtree_first(&rb_root);
		if (!rn) {
			bpf_spin_unlock(&rb_lock);
			continue;
		}
		rn = bpf_rbtree_remove(&rb_root, rn);
		bpf_spin_unlock(&rb_lock);
		if (!rn)
			continue;
		e = g_entry(rn, struct rb_elem, node);
		sum += e->value;
		g_drop(e);
		ok++;
	}
	t1 = bpf_ktime_get_ns();
	a->ns = t1 - t0;
	a->done = i;
	a->ok = ok;
	a->seed += sum;	/* keeps the value reads */
	return 0;
}

SEC("syscall")
int lst_run(struct bench_args *a)
{
	__u64 n = a->n, i, ok = 0, sum = 0, t0, t1;
	struct bpf_list_node *ln;
	struct ls_elem *e;

	t0 = bpf_ktime_get_ns();
	for (i = ARENA_ZERO; i < n && can_loop; i++) {
		e = g_new(struct ls_elem);
		if (!e)
			continue;
		e->value = i;
		bpf_spin_lock(&ls_lock);
		bpf_list_push_back_impl(&ls_head, &e->node, NULL, 0);
		bpf_spin_unlock(&ls_lock);
		bpf_spin_lock(&ls_lock);
		ln = bpf_list_pop_front(&ls_head);
		bpf_spin_unlock(&ls_lock);
		if (!ln)
			continue;
		e = g_entry(ln, struct ls_elem, node);
		sum += e->value;
		g_drop(e);
		ok++;
	}
	t1 = bpf_ktime_get_ns();
	a->ns = t1 - t0;
	a->done = i;
	a->ok = ok;
	a->seed += sum;
	return 0;
}

SEC("syscall")
int obj_run(struct bench_args *a)
{
	__u64 n = a->n, i, ok = 0, t0, t1;
	struct ls_elem *e;

	t0 = bpf_ktime_get_ns();
	for (i = ARENA_ZERO; i < n && can_loop; i++) {
		e = g_new(struct ls_elem);
		if (!e)
			continue;
		e->value = i;
		g_drop(e);
		ok++;
	}
	t1 = bpf_ktime_get_ns();
	a->ns = t1 - t0;
	a->done = i;
	a->ok = ok;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
