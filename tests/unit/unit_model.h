/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unit_model.h - the reference model of the sequence structures (FIFO
 * queues, LIFO stacks, work-stealing deques) and the random check that
 * compares a structure with it through the registry.  Included by unit.h.
 *
 * The reference is a plain array ring of (key, value) pairs with the oldest
 * element at `head` and the newest at `tail - 1`.
 */
#ifndef __UNIT_MODEL_H
#define __UNIT_MODEL_H

struct unit_ref {
	__u64 *key, *value;
	unsigned long size;		/* slots */
	unsigned long head, tail;	/* oldest at head, newest at tail - 1 */
};

static inline void unit_ref_init(struct unit_ref *q, unsigned long size)
{
	q->key = calloc(size, sizeof(*q->key));
	q->value = calloc(size, sizeof(*q->value));
	assert_non_null(q->key);
	assert_non_null(q->value);
	q->size = size;
	q->head = q->tail = 0;
}

static inline void unit_ref_fini(struct unit_ref *q)
{
	free(q->key);
	free(q->value);
}

static inline unsigned long unit_ref_len(const struct unit_ref *q)
{
	return q->tail - q->head;
}

/* Slot of the @i-th element from the oldest. */
static inline unsigned long unit_ref_at(const struct unit_ref *q, unsigned long i)
{
	return (q->head + i) % q->size;
}

static inline void unit_ref_push(struct unit_ref *q, __u64 key, __u64 value)
{
	assert_true(unit_ref_len(q) < q->size);
	q->key[q->tail % q->size] = key;
	q->value[q->tail % q->size] = value;
	q->tail++;
}

/* Remove the oldest (@newest 0) or the newest element; its slot. */
static inline unsigned long unit_ref_take(struct unit_ref *q, int newest)
{
	assert_true(unit_ref_len(q) > 0);
	return newest ? --q->tail % q->size : q->head++ % q->size;
}

/*
 * Where each operation of a sequence structure works (an end is the
 * oldest one unless its NEWEST flag is set): pop and delete take the
 * element at their end (delete ignores its key); search returns the value
 * of the first element with the key walking from its end, or with
 * UNIT_SEARCH_PEEK the value at its end whatever the key.
 */
#define UNIT_POP_NEWEST		(1U << 0)
#define UNIT_DELETE_NEWEST	(1U << 1)
#define UNIT_SEARCH_NEWEST	(1U << 2)
#define UNIT_SEARCH_PEEK	(1U << 3)
#define UNIT_FIFO		0U
#define UNIT_LIFO		(UNIT_POP_NEWEST | UNIT_DELETE_NEWEST | UNIT_SEARCH_NEWEST)

struct unit_seq {
	int kind;
	__u32 order;		/* UNIT_FIFO, UNIT_LIFO, or UNIT_* flags */
	unsigned long nops;
	__u64 seed;
	/* Bounded structures: inserts beyond @capacity are FULL, and the mix
	 * alternates filling and draining phases so that FULL and empty both
	 * happen (and must).  0: unbounded, a fixed mix. */
	unsigned long capacity;
	/* Optional: take the oldest element with its key and value (for a
	 * structure whose pop takes the newest); the final contents are then
	 * drained with it, oldest first, else with pop. */
	int (*take_oldest)(void *head, __u64 *key, __u64 *value);
};

/* Slot of the element search must answer with, or -1 for NOT_FOUND. */
static inline long unit_ref_search(const struct unit_ref *q, __u32 order, __u64 key)
{
	unsigned long n = unit_ref_len(q), i, s;

	for (i = 0; i < n; i++) {
		s = unit_ref_at(q, order & UNIT_SEARCH_NEWEST ? n - 1 - i : i);
		if ((order & UNIT_SEARCH_PEEK) || q->key[s] == key)
			return (long)s;
	}
	return -1;
}

/*
 * Apply @s->nops random inserts, deletes, pops and searches to a new
 * structure of kind @s->kind and to the reference: every return code, key
 * and value must agree, verify passes (now and then, and at the end), the
 * element count is conserved (unit_check_conservation()), and the final
 * contents come out in the reference's order.
 */
static inline void unit_model_check_seq(const struct unit_seq *s)
{
	unsigned long i, fulls = 0, empties = 0, slot;
	void *h = ds_create(s->kind);
	__u64 rng = s->seed, x, k, v;
	int p, rc, fill, newest;
	struct unit_ref q;
	struct ds_req r;
	long j;

	assert_non_null(h);
	unit_ref_init(&q, s->capacity ? s->capacity : s->nops + 1);
	for (i = 0; i < s->nops; i++) {
		/* insert below t[0], delete below t[1], pop below t[2], else search */
		static const int mix[3][3] = { { 42, 63, 84 }, { 70, 80, 90 }, { 20, 45, 85 } };
		const int *t;

		fill = (i / 12000) % 2 == 0;
		t = mix[!s->capacity ? 0 : fill ? 1 : 2];
		x = wl_next(&rng);
		p = x % 100;
		k = (x >> 32) % 64;
		if (p < t[0]) {
			v = (x & ~0xfffffULL) | (i & 0xfffff);
			rc = unit_op(s->kind, h, DS_OP_INSERT, k, v, NULL);
			if (s->capacity && unit_ref_len(&q) == s->capacity) {
				assert_int_equal(rc, DS_ERROR_FULL);
				fulls++;
			} else {
				assert_int_equal(rc, DS_SUCCESS);
				unit_ref_push(&q, k, v);
			}
		} else if (p < t[1]) {
			rc = unit_op(s->kind, h, DS_OP_DELETE, k, 0, NULL);
			assert_int_equal(rc, unit_ref_len(&q) ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (unit_ref_len(&q))
				unit_ref_take(&q, !!(s->order & UNIT_DELETE_NEWEST));
		} else if (p < t[2]) {
			rc = unit_op(s->kind, h, DS_OP_POP, 0, 0, &r);
			if (!unit_ref_len(&q)) {
				assert_int_equal(rc, DS_ERROR_NOT_FOUND);
				empties++;
			} else {
				assert_int_equal(rc, DS_SUCCESS);
				slot = unit_ref_take(&q, !!(s->order & UNIT_POP_NEWEST));
				assert_true(r.out_key == q.key[slot]);
				assert_true(r.out_value == q.value[slot]);
			}
		} else {
			j = unit_ref_search(&q, s->order, k);
			rc = unit_op(s->kind, h, DS_OP_SEARCH, k, 0, &r);
			assert_int_equal(rc, j >= 0 ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (j >= 0)
				assert_true(r.out_value == q.value[j]);
		}
		if ((i & 0x3fff) == 0)
			assert_int_equal(unit_op(s->kind, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	}
	if (s->capacity) {
		assert_true(fulls > 0);
		assert_true(empties > 0);
	}
	assert_int_equal(ds_quiesce(s->kind, h), 0);
	assert_int_equal(unit_op(s->kind, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	unit_check_conservation(s->kind, h, (__s64)unit_ref_len(&q));
	/* Final contents, in the reference's order. */
	newest = s->take_oldest ? 0 : !!(s->order & UNIT_POP_NEWEST);
	while (unit_ref_len(&q)) {
		if (s->take_oldest)
			rc = s->take_oldest(h, &r.out_key, &r.out_value);
		else
			rc = unit_op(s->kind, h, DS_OP_POP, 0, 0, &r);
		assert_int_equal(rc, DS_SUCCESS);
		slot = unit_ref_take(&q, newest);
		assert_true(r.out_key == q.key[slot]);
		assert_true(r.out_value == q.value[slot]);
	}
	if (s->take_oldest)
		assert_int_equal(s->take_oldest(h, &k, &v), DS_ERROR_NOT_FOUND);
	assert_int_equal(unit_op(s->kind, h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_quiesce(s->kind, h), 0);
	assert_int_equal(unit_op(s->kind, h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	unit_check_conservation(s->kind, h, 0);
	unit_ref_fini(&q);
}

/* ---- producers and consumers on one FIFO or LIFO structure */

#define UNIT_PC_MAX_PROD 8

/*
 * @nprod producer threads insert (key p, value p << 32 | seq) for seq 0 ..
 * @per_prod - 1, and pop after an insert with a chance of @pop_pct %;
 * @ncons consumer threads pop until @cons_share % of all elements came out.
 * The main thread then checks conservation and drains the rest alone.
 * Every value must come out exactly once and well formed; a FIFO's
 * consumers (the drain too) see each producer's values in order, a LIFO's
 * drain sees them newest first.
 */
struct unit_pc {
	int kind;
	__u32 order;		/* UNIT_FIFO or UNIT_LIFO */
	int nprod, ncons;
	unsigned long per_prod;
	unsigned pop_pct;
	unsigned cons_share;
	__u64 seed;
};

struct unit_pc_shared {
	const struct unit_pc *pc;
	void *h;
	unsigned char *seen[UNIT_PC_MAX_PROD];	/* times each (producer, seq) came out */
	unsigned long consumed;			/* atomic */
	unsigned long total;			/* to consume before consumers stop */
	pthread_barrier_t barrier;
};

struct unit_pc_thread {
	pthread_t tid;
	struct unit_pc_shared *s;
	int id;
	int produce;			/* producer id + 1, or 0 */
	int consume;
	long last[UNIT_PC_MAX_PROD];	/* last sequence seen per producer */
	unsigned long bad_order, bad_value, errors, popped;
};

/* Take one element as consumer @t (@drain: the main thread, alone); 1 if
 * one came out. */
static inline int unit_pc_take(struct unit_pc_thread *t, int drain)
{
	struct unit_pc_shared *s = t->s;
	__u64 prod, seq;
	struct ds_req r;
	int rc;

	rc = unit_op(s->pc->kind, s->h, DS_OP_POP, 0, 0, &r);
	if (rc == DS_ERROR_NOT_FOUND)
		return 0;
	if (rc != DS_SUCCESS) {
		t->errors++;
		return 0;
	}
	prod = r.out_value >> 32;
	seq = r.out_value & 0xffffffffULL;
	if (prod >= (__u64)s->pc->nprod || seq >= s->pc->per_prod || r.out_key != prod) {
		t->bad_value++;
		return 1;
	}
	if (s->pc->order & UNIT_POP_NEWEST) {
		/* With no pusher running, newest first. */
		if (drain && t->last[prod] >= 0 && (long)seq >= t->last[prod])
			t->bad_order++;
	} else if ((long)seq <= t->last[prod]) {
		t->bad_order++;
	}
	t->last[prod] = (long)seq;
	__atomic_fetch_add(&s->seen[prod][seq], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->consumed, 1, __ATOMIC_RELAXED);
	t->popped++;
	return 1;
}

static inline void *unit_pc_worker(void *arg)
{
	struct unit_pc_thread *t = arg;
	struct unit_pc_shared *s = t->s;
	__u64 rng = s->pc->seed + t->id, p;
	unsigned long i;
	int rc;

	pthread_barrier_wait(&s->barrier);
	if (t->produce) {
		p = t->produce - 1;
		for (i = 0; i < s->pc->per_prod; i++) {
			rc = unit_op(s->pc->kind, s->h, DS_OP_INSERT, p, p << 32 | i, NULL);
			if (rc != DS_SUCCESS) {
				t->errors++;
				continue;
			}
			if (t->consume && wl_next(&rng) % 100 < s->pc->pop_pct)
				unit_pc_take(t, 0);
		}
		return NULL;
	}
	while (__atomic_load_n(&s->consumed, __ATOMIC_RELAXED) < s->total) {
		if (!unit_pc_take(t, 0))
			sched_yield();
	}
	return NULL;
}

static inline void unit_prodcons(const struct unit_pc *pc)
{
	int n = pc->nprod + pc->ncons, i, p;
	unsigned long all = pc->nprod * pc->per_prod, j;
	struct unit_pc_shared s = { .pc = pc };
	struct unit_pc_thread *t, drain = { .s = &s };

	assert_true(pc->nprod <= UNIT_PC_MAX_PROD);
	s.h = ds_create(pc->kind);
	assert_non_null(s.h);
	s.total = all * pc->cons_share / 100;
	for (p = 0; p < pc->nprod; p++) {
		s.seen[p] = calloc(pc->per_prod, 1);
		assert_non_null(s.seen[p]);
	}
	t = calloc(n, sizeof(*t));
	assert_non_null(t);
	pthread_barrier_init(&s.barrier, NULL, n);
	for (i = 0; i < n; i++) {
		t[i].s = &s;
		t[i].id = i;
		t[i].produce = i < pc->nprod ? i + 1 : 0;
		t[i].consume = i >= pc->nprod || pc->pop_pct > 0;
		for (p = 0; p < UNIT_PC_MAX_PROD; p++)
			t[i].last[p] = -1;
		assert_int_equal(pthread_create(&t[i].tid, NULL, unit_pc_worker, &t[i]), 0);
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i].tid, NULL);
	pthread_barrier_destroy(&s.barrier);
	assert_int_equal(ds_quiesce(pc->kind, s.h), 0);
	assert_int_equal(unit_op(pc->kind, s.h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	unit_check_conservation(pc->kind, s.h, (__s64)(all - s.consumed));
	/* The main thread is one more consumer, alone. */
	for (p = 0; p < UNIT_PC_MAX_PROD; p++)
		drain.last[p] = -1;
	while (unit_pc_take(&drain, 1))
		;
	for (i = 0; i < n; i++) {
		assert_int_equal(t[i].errors, 0);
		assert_int_equal(t[i].bad_value, 0);
		assert_int_equal(t[i].bad_order, 0);
	}
	assert_int_equal(drain.errors, 0);
	assert_int_equal(drain.bad_value, 0);
	assert_int_equal(drain.bad_order, 0);
	assert_true(s.consumed == all);
	for (p = 0; p < pc->nprod; p++)
		for (j = 0; j < pc->per_prod; j++)
			if (s.seen[p][j] != 1)
				fail_msg("producer %d seq %lu came out %d times", p, j, s.seen[p][j]);
	assert_int_equal(unit_op(pc->kind, s.h, DS_OP_POP, 0, 0, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_quiesce(pc->kind, s.h), 0);
	assert_int_equal(unit_op(pc->kind, s.h, DS_OP_VERIFY, 0, 0, NULL), DS_SUCCESS);
	unit_check_conservation(pc->kind, s.h, 0);
	for (p = 0; p < pc->nprod; p++)
		free(s.seen[p]);
	free(t);
}

#endif /* __UNIT_MODEL_H */
