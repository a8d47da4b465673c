// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of arena_ebr.h: what safe memory reclamation buys (the list
 * gives a wrong answer when an unlinked node is reused at once, and the
 * right one under EBR), and how a participant that stalls or dies is bounded
 * and reported.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>

/*
 * Seams of ds_list.h: retire either through EBR (smr_on) or straight back
 * to the allocator, and run a writer in the middle of a reader's traversal.
 */
struct ds_list_head;
struct ds_list_node;
static void smr_retire(struct ds_list_head *h, int idx, struct ds_list_node *n);
static void smr_step(struct ds_list_head *h, struct ds_list_node *curr);
#define ds_list_retire(h, idx, node) smr_retire((h), (idx), (node))
#define ds_list_step_hook(h, curr) smr_step((h), (curr))

#include "unit.h"
#include "ds_list.c"	/* the list code again, with the seams above */

static int smr_on = 1;
static int smr_armed;		/* the writer runs once, at key 5 */
static struct ds_list_node *smr_victim;
static void *smr_reused;

static void smr_retire(struct ds_list_head *h, int idx, struct ds_list_node *n)
{
	if (smr_on)
		arena_ebr_retire(&h->ebr, idx, n);
	else
		bpf_arena_free(n);
}

/*
 * The reader stands on the node of key 5, about to read its next pointer.
 * A writer deletes 5 and inserts 9: without SMR the insert gets 5's memory
 * back at once, so the reader continues from a node that is now 9, past 7.
 */
static void smr_step(struct ds_list_head *h, struct ds_list_node *curr)
{
	struct ds_list_node *n;

	if (!smr_armed || curr->key != 5)
		return;
	smr_armed = 0;
	smr_victim = curr;
	assert_int_equal(ds_list_delete(h, 5), DS_SUCCESS);
	assert_int_equal(ds_list_insert(h, 9, 19), DS_SUCCESS);
	smr_reused = NULL;
	for (n = DS_LIST_PTR(h->first); n; n = DS_LIST_PTR(n->next))
		if (n->key == 9)
			smr_reused = n;
}

/* search(7) while 5 is deleted and 9 inserted under the reader's feet. */
static int smr_race(int with_smr, __u64 *val)
{
	struct ds_list_head *h = ds_create(DS_KIND_list);
	int rc;

	assert_non_null(h);
	smr_on = with_smr;
	assert_int_equal(ds_list_insert(h, 3, 7), DS_SUCCESS);
	assert_int_equal(ds_list_insert(h, 5, 11), DS_SUCCESS);
	assert_int_equal(ds_list_insert(h, 7, 15), DS_SUCCESS);
	smr_armed = 1;
	*val = 0;
	rc = ds_list_search(h, 7, val);
	assert_int_equal(smr_armed, 0);
	assert_int_equal(ds_list_verify(h), DS_SUCCESS);
	assert_int_equal(ds_quiesce(DS_KIND_list, h), 0);
	return rc;
}

/* Key 7 is in the list from start to end: search(7) must find it. */
static void test_list_wrong_without_smr(void **state)
{
	__u64 v;

	(void)state;
	/* The immediate free handed 5's memory to the insert of 9 ... */
	assert_int_equal(smr_race(0, &v), DS_ERROR_NOT_FOUND);
	assert_ptr_equal(smr_reused, smr_victim);
}

static void test_list_right_with_smr(void **state)
{
	__u64 v;

	(void)state;
	assert_int_equal(smr_race(1, &v), DS_SUCCESS);
	assert_int_equal(v, 15);
	/* ... under EBR the reader's node was not reused. */
	assert_ptr_not_equal(smr_reused, smr_victim);
}

/* ------------------------------------------------------------ stalls */

struct stall_arg {
	struct arena_ebr *ebr;
	int idx;
	int release;
	int entered;
};

static void *enter_and_die(void *p)
{
	struct stall_arg *a = p;

	a->idx = arena_ebr_enter(a->ebr);
	__atomic_store_n(&a->entered, 1, __ATOMIC_RELEASE);
	return NULL;		/* ends inside its critical section */
}

static void *enter_and_wait(void *p)
{
	struct stall_arg *a = p;

	a->idx = arena_ebr_enter(a->ebr);
	__atomic_store_n(&a->entered, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&a->release, __ATOMIC_ACQUIRE))
		usleep(1000);
	arena_ebr_exit(a->ebr, a->idx);
	return NULL;
}

static struct arena_ebr *new_domain(void)
{
	struct arena_ebr *ebr = arena_alloc_large(sizeof(*ebr));

	assert_non_null(ebr);
	memset(ebr, 0, sizeof(*ebr));
	ebr->stall_ns = 2 * 1000 * 1000;	/* 2 ms */
	return ebr;
}

/* Retire @n 32-byte nodes from this thread, each stamped with 0xabc. */
static void retire_some(struct arena_ebr *ebr, __u64 **nodes, int n)
{
	int i, idx = arena_ebr_enter(ebr);

	assert_true(idx >= 0);
	for (i = 0; i < n; i++) {
		nodes[i] = bpf_arena_alloc(32);
		assert_non_null(nodes[i]);
		nodes[i][1] = 0xabc;
		arena_ebr_retire(ebr, idx, nodes[i]);
	}
	arena_ebr_exit(ebr, idx);
}

static void run_thread(void *(*fn)(void *), struct stall_arg *a, pthread_t *t)
{
	assert_int_equal(pthread_create(t, NULL, fn, a), 0);
	while (!__atomic_load_n(&a->entered, __ATOMIC_ACQUIRE))
		usleep(100);
	assert_true(a->idx >= ARENA_NR_CPU_SLOTS);
}

static void test_dead_participant_is_reaped(void **state)
{
	struct arena_ebr *ebr = new_domain();
	struct stall_arg a = { .ebr = ebr };
	__s64 before = unit_alloc_current();
	__u64 *nodes[8];
	pthread_t t;

	(void)state;
	run_thread(enter_and_die, &a, &t);
	pthread_join(t, NULL);		/* the thread is gone, its record set */
	assert_true(ebr->rec[a.idx].state & 1);
	retire_some(ebr, nodes, 8);
	/* The record shows epoch 0: the first advance passes, the second
	 * is refused and stamps the record ... */
	assert_int_equal(arena_ebr_try_advance(ebr), 1);
	assert_int_equal(arena_ebr_try_advance(ebr), 0);
	assert_int_equal(ebr->blocked, 1);
	assert_true(ebr->rec[a.idx].block_ns != 0);
	assert_int_equal(ebr->stalls, 0);
	usleep(5000);
	/* ... past the threshold the dead owner is found and cleared. */
	assert_int_equal(arena_ebr_flush(ebr), 0);
	assert_true(ebr->stalls >= 1);
	assert_int_equal(ebr->reaped, 1);
	assert_int_equal(ebr->stall_slot, a.idx + 1);
	assert_int_equal(ebr->rec[a.idx].state, 0);
	assert_int_equal(ebr->rec[a.idx].owner, 0);
	assert_int_equal(unit_alloc_current(), before);
}

/*
 * Thread-id reuse (issue 16, item 8): a record still owned by an earlier
 * thread that had this thread's very tgid and tid.  Taking it as our own
 * would let a reaper, which saw the earlier thread dead, clear our live
 * critical section.  The generation in the owner word tells them apart.
 */
static void test_reused_tid_is_not_the_owner(void **state)
{
	struct arena_ebr *ebr = new_domain();
	__u32 slot = arena_slot();
	__u64 stale;
	int idx;

	(void)state;
#ifdef ARENA_EBR_GEN_SHIFT
	stale = arena_ebr_me() ^ (1ULL << ARENA_EBR_GEN_SHIFT);	/* other generation */
#else
	stale = (__u64)getpid() << 32 | (__u32)syscall(SYS_gettid);	/* ids only */
#endif
	ebr->rec[slot].owner = stale;
	idx = arena_ebr_enter(ebr);
	assert_true(idx >= 0);
	assert_int_not_equal(idx, slot);		/* borrowed another record */
	assert_int_equal(ebr->rec[slot].state, 0);	/* nothing published there */
	arena_ebr_exit(ebr, idx);
	assert_int_equal(ebr->rec[slot].owner, stale);	/* ids alive: kept */
	ebr->rec[slot].owner = 0;
}

static void test_live_stall_reported_not_reaped(void **state)
{
	struct arena_ebr *ebr = new_domain();
	struct stall_arg a = { .ebr = ebr };
	__s64 before = unit_alloc_current();
	__u64 *nodes[8];
	pthread_t t;
	int i;

	(void)state;
	run_thread(enter_and_wait, &a, &t);
	retire_some(ebr, nodes, 8);
	for (i = 0; i < 4; i++) {
		arena_ebr_try_advance(ebr);
		usleep(2000);
	}
	/* Reported, but nothing the stalled reader could hold was freed. */
	assert_int_equal(arena_ebr_flush(ebr), 1);
	assert_true(ebr->stalls >= 1);
	assert_int_equal(ebr->reaped, 0);
	assert_int_equal(arena_ebr_reap(ebr), 0);
	assert_int_equal(unit_alloc_current(), before + 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(nodes[i][1], 0xabc);
	/* Once it leaves, reclamation goes on. */
	__atomic_store_n(&a.release, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_int_equal(arena_ebr_flush(ebr), 0);
	assert_int_equal(unit_alloc_current(), before);
}

static void *enter_exit_once(void *p)
{
	struct arena_ebr *ebr = p;
	int idx = arena_ebr_enter(ebr);

	if (idx >= 0)
		arena_ebr_exit(ebr, idx);
	return (void *)(long)(idx >= 0);
}

/* Threads come and go (more than there are records): the records of the
 * dead are taken over, never exhausted. */
static void test_many_short_lived_threads(void **state)
{
	struct arena_ebr *ebr = new_domain();
	void *ok;
	pthread_t t;
	int i;

	(void)state;
	for (i = 0; i < 3 * ARENA_NR_THREAD_SLOTS; i++) {
		assert_int_equal(pthread_create(&t, NULL, enter_exit_once, ebr), 0);
		pthread_join(t, &ok);
		assert_true(ok != NULL);
	}
}

/* Records of dead threads, idle or not, are swept by arena_ebr_reap(). */
static void test_reap_sweeps_dead_records(void **state)
{
	struct arena_ebr *ebr = new_domain();
	struct stall_arg a[3] = { { .ebr = ebr }, { .ebr = ebr }, { .ebr = ebr } };
	pthread_t t;
	int i, n = 0;

	(void)state;
	for (i = 0; i < 3; i++) {
		run_thread(enter_and_die, &a[i], &t);
		pthread_join(t, NULL);
	}
	for (i = ARENA_NR_CPU_SLOTS; i < ARENA_EBR_SLOTS; i++)
		n += ebr->rec[i].owner != 0;
	assert_int_equal(n, 3);
	assert_int_equal(arena_ebr_reap(ebr), 3);
	for (i = ARENA_NR_CPU_SLOTS; i < ARENA_EBR_SLOTS; i++)
		assert_int_equal(ebr->rec[i].owner, 0);
	assert_int_equal(ebr->reaped, 3);
}

/*
 * A pinned section (issue 12): operations inside only count their nesting
 * in the thread's record; the epoch published by the pin stays until the
 * unpin, so an inner exit does not end the section.
 */
static void test_pin_nests_without_republishing(void **state)
{
	struct arena_ebr *ebr = new_domain();
	int tok, idx;
	__u64 s;

	(void)state;
	tok = arena_ebr_pin(ebr);
	assert_true(tok >= ARENA_NR_CPU_SLOTS);
	s = ebr->rec[tok].state;
	assert_true(s & 1);
	idx = arena_ebr_enter(ebr);
	assert_int_equal(idx, tok);			/* the same record */
	assert_int_equal(ebr->rec[tok].nest, 2);
	assert_int_equal(arena_ebr_enter(ebr), tok);
	arena_ebr_exit(ebr, tok);
	arena_ebr_exit(ebr, idx);
	assert_int_equal(ebr->rec[tok].state, s);	/* still in the pin */
	assert_int_equal(ebr->rec[tok].nest, 1);
	arena_ebr_unpin(ebr, tok);
	assert_int_equal(ebr->rec[tok].state, 0);
	assert_int_equal(ebr->rec[tok].nest, 0);
	/* Unpinned again: each operation its own section. */
	idx = arena_ebr_enter(ebr);
	assert_int_equal(ebr->rec[idx].nest, 1);
	arena_ebr_exit(ebr, idx);
	assert_int_equal(ebr->rec[idx].state, 0);
	assert_int_equal(arena_ebr_pin(NULL), -1);
	arena_ebr_unpin(NULL, -1);
}

/* arena_ebr_batch: a section opens at the first operation, closes after
 * every-th, and at the end; every 0 pins nothing. */
static void test_pin_batch(void **state)
{
	struct arena_ebr *ebr = new_domain();
	struct arena_ebr_batch b = { .ebr = ebr, .every = 3 }, off = { .ebr = ebr };
	int i, opened = 0;

	(void)state;
	for (i = 0; i < 7; i++) {
		arena_ebr_batch_op(&b);
		assert_true(b.tok >= 0);
		assert_true(ebr->rec[b.tok].state & 1);
		opened += b.n == 1;
		arena_ebr_batch_done(&b);
		assert_int_equal(b.n, (__u32)((i + 1) % 3));
	}
	assert_int_equal(opened, 3);			/* ops 0, 3 and 6 opened */
	assert_true(ebr->rec[b.tok].state & 1);		/* op 6's section still open */
	arena_ebr_batch_end(&b);
	assert_int_equal(ebr->rec[b.tok].state, 0);
	arena_ebr_batch_op(&off);
	assert_int_equal(off.n, 0);
	arena_ebr_batch_done(&off);
	arena_ebr_batch_end(&off);
}

/* What a pinned thread retired, and what it could still hold, waits for
 * the unpin, however many inner sections ended meanwhile. */
static void test_pin_holds_the_grace_period(void **state)
{
	struct arena_ebr *ebr = new_domain();
	__s64 before = unit_alloc_current();
	__u64 *nodes[8];
	int tok, i;

	(void)state;
	tok = arena_ebr_pin(ebr);
	assert_true(tok >= 0);
	retire_some(ebr, nodes, 8);		/* an inner enter ... exit */
	for (i = 0; i < 4; i++)
		arena_ebr_try_advance(ebr);
	assert_int_equal(arena_ebr_flush(ebr), 1);	/* held back by the pin */
	assert_int_equal(unit_alloc_current(), before + 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(nodes[i][1], 0xabc);
	arena_ebr_unpin(ebr, tok);
	assert_int_equal(arena_ebr_flush(ebr), 0);
	assert_int_equal(unit_alloc_current(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_wrong_without_smr, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_list_right_with_smr, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_dead_participant_is_reaped, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_live_stall_reported_not_reaped, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_many_short_lived_threads, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_reused_tid_is_not_the_owner, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_pin_nests_without_republishing, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_pin_holds_the_grace_period, unit_setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_pin_batch, unit_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_reap_sweeps_dead_records, unit_setup,
						unit_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
