// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the wide-key hash (ds_hash_kv_*, lib/ds_hash_kv.c) on a
 * standalone arena: model checks against a plain reference, with forced
 * split-order collisions (the test hook DS_HASH_KV_TEST_HASH keeps only
 * the low bits of the key hash, so many keys share o and the list order
 * falls to the key words), a threaded stress across growth, and verify on
 * planted corruption.
 */
#include "unit.h"

/* Collision mode: the key hash masked to kv_mask (~0: the real hash). */
static __u64 kv_mask = ~0ULL;
#define DS_HASH_KV_TEST_HASH(hv) ((hv) & kv_mask)
#include "ds_hash_kv.c"	/* white-box, with the hook above */

#define K DS_KIND_hash
#define KS 20		/* e.g. pid + comm */
#define VS 24		/* three counters */

/* Key @i: its bits spread over the first, second and third word, so that
 * keys of equal o are ordered by different words. */
static void key_of(__u32 i, __u8 *k)
{
	memset(k, 0, KS);
	k[0] = i & 3;
	k[9] = (i >> 2) & 7;
	k[19] = (__u8)(i >> 5);
	k[4] = (__u8)(i >> 13);
	k[12] = 0x5a;
}

/* Value of key @i, version @x: three words tagged with the key. */
static void val_of(__u32 i, __u64 x, __u8 *v)
{
	__u64 w[3] = { (__u64)i << 32 | (__u32)x, (__u64)i << 32 | (__u32)(x >> 8),
		       (__u64)i << 32 | (__u32)(x >> 16) };

	memcpy(v, w, VS);
}

static void test_hash_kv_api(void **state)
{
	struct ds_hash_head *h = ds_hash_new_kv(16, KS, VS), *u = ds_create(K);
	__u8 kb[KS + 1], *k = kb + 1;	/* unaligned on purpose */
	__u8 v[VS], out[VS + 1];
	__u64 *p, x;

	(void)state;
	assert_non_null(h);
	assert_non_null(u);
	/* Sizes out of range are refused. */
	assert_null(ds_hash_new_kv(16, 0, 8));
	assert_null(ds_hash_new_kv(16, DS_HASH_KV_MAX_KEY + 1, 8));
	assert_null(ds_hash_new_kv(16, 8, 0));
	assert_null(ds_hash_new_kv(16, 8, DS_HASH_KV_MAX_VALUE + 1));
	assert_int_equal(ds_hash_init_kv(u, 16, 0, 8), DS_ERROR_INVALID);
	assert_int_equal(h->key_size, KS);
	assert_int_equal(h->value_size, VS);
	/* No mixing: u64 calls on a wide table, wide calls on a u64 one. */
	key_of(7, k);
	val_of(7, 1, v);
	assert_int_equal(ds_hash_insert(h, 1, 1), DS_ERROR_INVALID);
	assert_int_equal(ds_hash_search(h, 1, &x), DS_ERROR_INVALID);
	assert_int_equal(ds_hash_delete(h, 1), DS_ERROR_INVALID);
	assert_int_equal(ds_hash_update(h, 1, 1), DS_ERROR_INVALID);
	assert_int_equal(ds_hash_kv_insert(u, k, v), DS_ERROR_INVALID);
	assert_int_equal(ds_hash_kv_lookup(u, k, out), DS_ERROR_INVALID);
	assert_int_equal(ds_hash_kv_delete(u, k), DS_ERROR_INVALID);
	assert_int_equal(ds_hash_kv_update(u, k, v), DS_ERROR_INVALID);
	assert_null(ds_hash_kv_value_ptr(u, k));
	assert_int_equal(ds_hash_kv_walk(u, NULL, NULL), DS_ERROR_INVALID);
	/* Insert, exists, lookup, update, value pointer, delete. */
	assert_int_equal(ds_hash_kv_lookup(h, k, out), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_hash_kv_insert(h, k, v), DS_SUCCESS);
	val_of(7, 2, v);
	assert_int_equal(ds_hash_kv_insert(h, k, v), DS_ERROR_EXISTS);
	memset(out, 0xee, sizeof(out));
	assert_int_equal(ds_hash_kv_lookup(h, k, out + 1), DS_SUCCESS);
	val_of(7, 1, v);
	assert_memory_equal(out + 1, v, VS);		/* EXISTS left it alone */
	assert_int_equal(out[0], 0xee);			/* nothing written around */
	val_of(7, 3, v);
	assert_int_equal(ds_hash_kv_update(h, k, v), DS_SUCCESS);
	assert_int_equal(ds_hash_kv_lookup(h, k, out), DS_SUCCESS);
	assert_memory_equal(out, v, VS);
	p = ds_hash_kv_value_ptr(h, k);
	assert_non_null(p);
	assert_true(((__u64)p & 7) == 0);
	arena_atomic_add(&p[1], 100);
	assert_int_equal(ds_hash_kv_lookup(h, k, out), DS_SUCCESS);
	memcpy(&x, out + 8, 8);
	assert_true(x == (7ULL << 32) + 100);	/* val_of(7, 3)'s word 1, plus 100 */
	key_of(8, k);
	assert_int_equal(ds_hash_kv_update(h, k, v), DS_ERROR_NOT_FOUND);
	assert_null(ds_hash_kv_value_ptr(h, k));
	assert_int_equal(ds_hash_kv_delete(h, k), DS_ERROR_NOT_FOUND);
	key_of(7, k);
	assert_int_equal(ds_hash_kv_delete(h, k), DS_SUCCESS);
	assert_int_equal(ds_hash_kv_lookup(h, k, NULL), DS_ERROR_NOT_FOUND);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == 0);
	/* A one-byte key, a one-byte value. */
	h = ds_hash_new_kv(2, 1, 1);
	assert_non_null(h);
	for (x = 0; x < 256; x++) {
		k[0] = (__u8)x;
		v[0] = (__u8)~x;
		assert_int_equal(ds_hash_kv_insert(h, k, v), DS_SUCCESS);
	}
	for (x = 0; x < 256; x++) {
		k[0] = (__u8)x;
		out[0] = 0;
		assert_int_equal(ds_hash_kv_lookup(h, k, out), DS_SUCCESS);
		assert_int_equal(out[0], (__u8)~x);
	}
	assert_true(h->nbuckets >= 256);	/* it grew */
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	/* Emptied, it shrinks back to its creation size. */
	for (x = 0; x < 256; x++) {
		k[0] = (__u8)x;
		assert_int_equal(ds_hash_kv_delete(h, k), DS_SUCCESS);
	}
	while (ds_hash_maintain(h) == DS_ERROR_BUSY)
		;
	assert_int_equal(h->nbuckets, 2);
	assert_true(h->shrinks > 0);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == 0);
}

struct walk_acc {
	__u32 range;
	unsigned char *seen;
	long n;
};

/* Each element once, with a key of the range and its key's tag. */
static int walk_one(const void *key, const void *value, void *ctx)
{
	struct walk_acc *a = ctx;
	const __u8 *k = key;
	__u64 w;
	__u32 i = k[0] | k[9] << 2 | k[19] << 5 | k[4] << 13;

	memcpy(&w, value, 8);
	if (i >= a->range || a->seen[i] || w >> 32 != i)
		fail_msg("walk: key %u seen %d tag %llu", i, i < a->range ? a->seen[i] : -1,
			 (unsigned long long)(w >> 32));
	a->seen[i] = 1;
	a->n++;
	return 0;
}

/*
 * @nops random inserts, deletes, lookups and updates on a wide table of
 * capacity 2 (it grows) and on a reference; every answer and value must
 * agree; then verify, walk, conservation.  @mask: the key hash kept
 * (0: every key has the same o; 7: eight split-order keys).
 */
static void kv_model(__u64 mask, unsigned long nops, __u32 range, __u64 seed)
{
	struct ds_hash_head *h = ds_hash_new_kv(2, KS, VS);
	unsigned char *present = calloc(range, 1);
	__u8 (*ref)[VS] = calloc(range, VS);
	__u8 k[KS], v[VS], out[VS];
	struct walk_acc acc = { range, calloc(range, 1), 0 };
	__u64 rng = seed, x, n = 0;
	unsigned long i;
	__u32 j;
	int p, rc;

	assert_non_null(h);
	assert_non_null(present);
	assert_non_null(ref);
	kv_mask = mask;
	for (i = 0; i < nops; i++) {
		x = wl_next(&rng);
		p = x % 100;
		j = (__u32)(x >> 32) % range;
		key_of(j, k);
		if (p < 35) {
			val_of(j, x, v);
			rc = ds_hash_kv_insert(h, k, v);
			assert_int_equal(rc, present[j] ? DS_ERROR_EXISTS : DS_SUCCESS);
			if (!present[j]) {
				present[j] = 1;
				memcpy(ref[j], v, VS);
				n++;
			}
		} else if (p < 60) {
			rc = ds_hash_kv_delete(h, k);
			assert_int_equal(rc, present[j] ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			n -= present[j];
			present[j] = 0;
		} else if (p < 75) {
			val_of(j, x, v);
			rc = ds_hash_kv_update(h, k, v);
			assert_int_equal(rc, present[j] ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (present[j])
				memcpy(ref[j], v, VS);
		} else {
			rc = ds_hash_kv_lookup(h, k, out);
			assert_int_equal(rc, present[j] ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
			if (present[j])
				assert_memory_equal(out, ref[j], VS);
		}
		if (!(i & 4095))
			assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	}
	for (j = 0; j < range; j++) {
		key_of(j, k);
		rc = ds_hash_kv_lookup(h, k, out);
		assert_int_equal(rc, present[j] ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
		if (present[j])
			assert_memory_equal(out, ref[j], VS);
	}
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	assert_true(ds_hash_kv_walk(h, walk_one, &acc) == (long)n);
	for (j = 0; j < range; j++)
		assert_int_equal(acc.seen[j], present[j]);
	assert_true(ds_hash_count(h) == (__s64)n);
	assert_true(h->grows > 0);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_true(unit_alloc_current() == (__s64)n);
	kv_mask = ~0ULL;
	free(present);
	free(ref);
	free(acc.seen);
}

static void test_hash_kv_model(void **state)
{
	(void)state;
	kv_model(~0ULL, unit_scale(100000), 4096, 11);
}

/* Every key of the table has the same split-order key: one sorted run. */
static void test_hash_kv_model_all_collide(void **state)
{
	(void)state;
	kv_model(0, unit_scale(20000), 256, 12);
}

/* Eight split-order keys: runs of equal o between dummies, across growth. */
static void test_hash_kv_model_collide(void **state)
{
	(void)state;
	kv_model(7, unit_scale(50000), 2048, 13);
}

#define NT 4
#define SHARED 512	/* keys every thread works on */
#define OWN 4096	/* keys of each thread alone */

struct kv_arg {
	struct ds_hash_head *h;
	int id;
	unsigned long nops;
	pthread_barrier_t *b;
	__s64 ins, del;
	__u64 bad;
	unsigned char own[OWN];	/* this thread's keys present */
};

/* Inserts, deletes, lookups and updates of shared and own keys; every
 * word read carries its key's tag; own keys follow the thread's model. */
static void *kv_worker(void *p)
{
	struct kv_arg *a = p;
	__u64 rng = 500 + a->id, x, w[3];
	__u8 k[KS], v[VS];
	unsigned long i;
	__u32 j;
	int rc, op, own;

	pthread_barrier_wait(a->b);
	for (i = 0; i < a->nops; i++) {
		x = wl_next(&rng);
		own = x & 1;
		j = own ? SHARED + a->id * OWN + (__u32)(x >> 40) % OWN : (__u32)(x >> 40) % SHARED;
		key_of(j, k);
		op = (x >> 8) % 10;
		val_of(j, x, v);
		if (op < 7) {
			/* Insert (op < 4) or delete; an own key's answer
			 * follows from the thread's model. */
			rc = op < 4 ? ds_hash_kv_insert(a->h, k, v) : ds_hash_kv_delete(a->h, k);
			a->ins += op < 4 && rc == DS_SUCCESS;
			a->del += op >= 4 && rc == DS_SUCCESS;
			if (own && (rc == DS_SUCCESS) != (a->own[j - SHARED - a->id * OWN] == (op >= 4)))
				a->bad++;
			if (own)
				a->own[j - SHARED - a->id * OWN] = op < 4;
		} else if (op < 8) {
			rc = ds_hash_kv_update(a->h, k, v);
		} else {
			rc = ds_hash_kv_lookup(a->h, k, w);
			if (rc == DS_SUCCESS && (w[0] >> 32 != j || w[1] >> 32 != j ||
						 w[2] >> 32 != j))
				a->bad++;
		}
		if (rc != DS_SUCCESS && !ds_rc_is_miss(rc))
			a->bad++;
	}
	return NULL;
}

struct count_acc {
	long n;
};

static int count_one(const void *key, const void *value, void *ctx)
{
	(void)key;
	(void)value;
	((struct count_acc *)ctx)->n++;
	return 0;
}

/*
 * NT threads on a wide table created with capacity 2 (it grows during the
 * run); afterwards no errors, verify passes, and the elements counted, the
 * elements walked, successful inserts - deletes and the allocator's
 * objects all agree; each thread's own keys are exactly those its model
 * says.
 */
static void test_hash_kv_stress(void **state)
{
	struct ds_hash_head *h = ds_hash_new_kv(2, KS, VS);
	struct kv_arg *a = calloc(NT, sizeof(*a));
	struct count_acc acc = { 0 };
	pthread_t t[NT];
	pthread_barrier_t b;
	__s64 live = 0;
	__u8 k[KS];
	__u32 j;
	int i;

	(void)state;
	assert_non_null(h);
	assert_non_null(a);
	kv_mask = ~0ULL;	/* the real hash, whatever a failed case left */
	pthread_barrier_init(&b, NULL, NT);
	for (i = 0; i < NT; i++) {
		a[i].h = h;
		a[i].id = i;
		a[i].nops = unit_scale(100000);
		a[i].b = &b;
		assert_int_equal(pthread_create(&t[i], NULL, kv_worker, &a[i]), 0);
	}
	for (i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&b);
	for (i = 0; i < NT; i++) {
		assert_int_equal(a[i].bad, 0);
		live += a[i].ins - a[i].del;
		for (j = 0; j < OWN; j++) {
			key_of(SHARED + i * OWN + j, k);
			assert_int_equal(ds_hash_kv_lookup(h, k, NULL),
					 a[i].own[j] ? DS_SUCCESS : DS_ERROR_NOT_FOUND);
		}
	}
	assert_true(h->grows >= 8);
	assert_int_equal(ds_quiesce(K, h), 0);
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	assert_true(ds_hash_count(h) == live);
	assert_true(ds_hash_kv_walk(h, count_one, &acc) == live);
	assert_true(acc.n == live);
	assert_true(unit_alloc_current() == live);
	free(a);
}

/* A collided wide table (one o for every key) of @n keys, verified. */
static struct ds_hash_head *kv_collided(__u32 n)
{
	struct ds_hash_head *h = ds_hash_new_kv(2, KS, VS);
	__u8 k[KS], v[VS];
	__u32 i;

	assert_non_null(h);
	kv_mask = 0;
	for (i = 0; i < n; i++) {
		key_of(i, k);
		val_of(i, 0, v);
		assert_int_equal(ds_hash_kv_insert(h, k, v), DS_SUCCESS);
	}
	kv_mask = ~0ULL;
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
	return h;
}

/* Two elements next to each other in the list. */
static struct ds_hash_node *kv_pair(struct ds_hash_head *h, struct ds_hash_node **m)
{
	__u64 link = h->seg0[0].next;
	struct ds_hash_node *n;

	while (link) {
		n = DS_HASH_PTR(link);
		if (!(link & DS_HASH_DUMMY) && n->next && !(n->next & DS_HASH_DUMMY)) {
			*m = DS_HASH_PTR(n->next);
			return n;
		}
		link = n->next;
	}
	fail_msg("no two elements in a row");
	return NULL;
}

static void kv_expect_corrupt(struct ds_hash_head *h, __u32 why)
{
	assert_int_equal(ds_hash_verify(h), DS_ERROR_CORRUPT);
	assert_int_equal(h->verify_reason, why);
}

/* Two keys of equal o swapped: order by key words broken. */
static void test_hash_kv_verify_catches_swap(void **state)
{
	struct ds_hash_head *h = kv_collided(64);
	struct ds_hash_node *n, *m;
	__u64 t[3];

	(void)state;
	n = kv_pair(h, &m);
	assert_true(n->o == m->o);
	memcpy(t, ds_hash_kv_key(n), KS);
	memcpy(ds_hash_kv_key(n), ds_hash_kv_key(m), KS);
	memcpy(ds_hash_kv_key(m), t, KS);
	kv_expect_corrupt(h, DS_CORRUPT_ORDER);
}

/* One key byte changed: the next key of equal o now sorts before it, or
 * it became a duplicate of it. */
static void test_hash_kv_verify_catches_key_byte(void **state)
{
	struct ds_hash_head *h = kv_collided(64);
	struct ds_hash_node *n, *m;
	__u8 *kb;

	(void)state;
	n = kv_pair(h, &m);
	kb = (__u8 *)ds_hash_kv_key(n);
	kb[19] = 0xff;		/* the highest byte of the last word */
	kv_expect_corrupt(h, DS_CORRUPT_ORDER);
	memcpy(ds_hash_kv_key(n), ds_hash_kv_key(m), KS);
	kv_expect_corrupt(h, DS_CORRUPT_DUPLICATE);
}

/* Sizes out of range in the head. */
static void test_hash_kv_verify_catches_sizes(void **state)
{
	struct ds_hash_head *h = kv_collided(4);

	(void)state;
	h->key_size = DS_HASH_KV_MAX_KEY + 8;
	kv_expect_corrupt(h, DS_CORRUPT_SHAPE);
	h->key_size = KS;
	h->value_size = 0;
	kv_expect_corrupt(h, DS_CORRUPT_SHAPE);
	h->value_size = VS;
	assert_int_equal(ds_hash_verify(h), DS_SUCCESS);
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hash_kv_api),
		T(test_hash_kv_model),
		T(test_hash_kv_model_all_collide),
		T(test_hash_kv_model_collide),
		T(test_hash_kv_stress),
		T(test_hash_kv_verify_catches_swap),
		T(test_hash_kv_verify_catches_key_byte),
		T(test_hash_kv_verify_catches_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
