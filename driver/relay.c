// SPDX-License-Identifier: GPL-2.0
/*
 * relay.c - the relay workload (-w relay): kernel producers put items into
 * lane A, userspace movers take them out and put them into lane B, kernel
 * consumers drain lane B.  See relay.h for the item layout.
 *
 * Ending: producers stop after -o items each or at -d; movers stop when
 * every producer is done and lane A answers empty; consumers when every
 * mover is done and lane B answers empty.  So all three overlap for the
 * whole run and both lanes are drained at the end.  A stop (a signal)
 * ends producers and movers at once, each mover after placing the item it
 * holds; consumers drain until every mover is done, so nothing in hand is
 * dropped and what stays queued is counted as queued.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "skeleton.skel.h"
#include "relay.h"

/* SKELETON_RELAY_FAULT=drop|dup|swap (tests only): the mover that takes
 * producer 0's item RELAY_FAULT_AT drops it, puts it twice into lane B, or
 * puts it after the next item it moves. */
#define RELAY_FAULT_AT	100
enum { FAULT_NONE, FAULT_DROP, FAULT_DUP, FAULT_SWAP };
static const char *const fault_names[] = { "", "drop", "dup", "swap" };

struct mover {
	struct relay_hist lat_a;	/* enqueue into A -> dequeue here */
	__u64 last[RELAY_MAX_PRODUCERS];	/* last sequence number + 1 */
	__u64 moved, put;
	__u64 bad_key, stale, order_viol, viol_key, viol_prev;
	__u64 full_b, gave_up, empty, errors;
};

struct producer {
	__u64 seq;			/* items produced */
	__u64 full, window, errors, gave_up;
	__u64 bad, bad_seq, bad_seen;	/* checked at record reuse */
};

struct consumer {
	struct relay_cons_state *st;	/* arena */
	__u64 empty, errors;
};

static struct relay {
	int kind;
	void *lane_a, *lane_b;
	int np, nm, nc;
	__u64 cap;
	struct relay_rec *recs[RELAY_MAX_PRODUCERS];	/* arena, RELAY_RING each */
	struct producer prod[RELAY_MAX_PRODUCERS];
	struct consumer cons[RELAY_MAX_CONSUMERS];
	struct mover *mov;
	int producers_left, movers_left;
	int fault;
} R;

static double now_s(void)
{
	return arena_now_ns() / 1e9;
}

static bool all_done(int *left)
{
	return __atomic_load_n(left, __ATOMIC_ACQUIRE) == 0;
}

static void finish(struct worker *w, int *left, double t0)
{
	w->secs = now_s() - t0;
	__atomic_sub_fetch(left, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
}

/* Put @key into lane B, retrying FULL (and transient faults) a bounded
 * number of times; the value is restamped at every attempt. */
static void mover_put(struct mover *m, __u64 key)
{
	struct ds_req r;
	__u64 tries;
	int rc;

	for (tries = 0;; tries++) {
		memset(&r, 0, sizeof(r));
		r.op = DS_OP_INSERT;
		r.key = key;
		r.value = arena_now_ns();
		rc = ds_dispatch(R.kind, R.lane_b, &r);
		if (rc == DS_SUCCESS) {
			m->put++;
			return;
		}
		if (rc == DS_ERROR_FULL)
			m->full_b++;
		else
			m->errors++;
		/* Not at run_stop: the item is in hand and the consumers
		 * drain lane B until every mover is done. */
		if (tries >= RUN_FULL_RETRY_MAX) {
			m->gave_up++;	/* the item is lost: verify says so */
			return;
		}
		sched_yield();
	}
}

static void *mover_thread(void *arg)
{
	struct worker *w = arg;
	struct mover *m = w->ctx;
	__u64 key, now, p, seq, held = 0;
	struct relay_rec *rec;
	struct ds_req r;
	int rc, copies, c;
	double t0;
	bool pdone;

	arena_set_thread_slot(w->id);
	run_gate_wait();
	t0 = now_s();
	while (!run_stop) {
		pdone = all_done(&R.producers_left);
		memset(&r, 0, sizeof(r));
		r.op = DS_OP_POP;
		rc = ds_dispatch(R.kind, R.lane_a, &r);
		if (rc != DS_SUCCESS) {
			if (rc != DS_ERROR_NOT_FOUND)
				m->errors++;
			else if (pdone)
				break;	/* nothing left to come */
			else
				m->empty++;
			sched_yield();
			continue;
		}
		now = arena_now_ns();
		key = r.out_key;
		p = RELAY_KEY_PROD(key);
		seq = RELAY_KEY_SEQ(key);
		if (RELAY_KEY_MOVER(key) || p >= (__u64)R.np || seq >= R.cap) {
			m->bad_key++;
			continue;
		}
		relay_hist_add(&m->lat_a, now > r.out_value ? now - r.out_value : 0);
		rec = &R.recs[p][seq & RELAY_RING_MASK];
		if (__atomic_load_n(&rec->seq, __ATOMIC_RELAXED) == seq)
			__atomic_fetch_add(&rec->seen, RELAY_SEEN_A, __ATOMIC_RELAXED);
		else
			m->stale++;	/* its record was reused: a late copy */
		/* Lane A is FIFO and a producer enqueues in sequence order, so
		 * the items one mover takes from one producer increase. */
		if (seq + 1 <= m->last[p]) {
			if (!m->order_viol) {
				m->viol_key = key;
				m->viol_prev = m->last[p] - 1;
			}
			m->order_viol++;
		}
		m->last[p] = seq + 1;
		m->moved++;
		copies = 1;
		if (R.fault && p == 0 && seq == RELAY_FAULT_AT) {
			copies = R.fault == FAULT_DUP ? 2 : 0;
			if (R.fault == FAULT_SWAP)
				held = RELAY_KEY(w->id + 1, p, seq);
		}
		for (c = 0; c < copies; c++)
			mover_put(m, RELAY_KEY(w->id + 1, p, seq));
		if (held && copies) {
			mover_put(m, held);
			held = 0;
		}
	}
	if (held)
		mover_put(m, held);
	finish(w, &R.movers_left, t0);
	return NULL;
}

static void *producer_thread(void *arg)
{
	struct worker *w = arg;
	struct producer *pr = w->ctx;
	struct skel_relay_args a;
	__u64 in_row = 0;
	double t0, deadline;
	int err;

	memset(&a, 0, sizeof(a));
	a.id = pr - R.prod;
	a.state = (__u64)(unsigned long)R.recs[a.id];
	a.end = R.cap;
	a.nops = w->cfg->batch;
	run_gate_wait();
	t0 = now_s();
	deadline = t0 + w->cfg->duration;
	while (!run_stop && a.seq < R.cap && now_s() < deadline) {
		if (w->cfg->rate > 0) {
			/* --rate: offer no more than this producer's share by
			 * now; the rest waits for its time. */
			double due = (now_s() - t0) * w->cfg->rate / R.np;
			__u64 behind = due > a.seq ? (__u64)due - a.seq : 0;

			if (!behind) {
				usleep(20);
				continue;
			}
			a.nops = behind < w->cfg->batch ? behind : w->cfg->batch;
		}
		a.done = 0;
		err = kern_run(w->kern->skel->progs.relay_produce, &a, sizeof(a));
		if (err < 0) {
			w->error = err;
			break;
		}
		pr->seq = a.seq;
		__atomic_store_n(&w->done, a.seq, __ATOMIC_RELAXED);
		if (a.done)
			in_row = 0;
		if (!a.stop)
			continue;
		if (a.stop == DS_ERROR_FULL)
			pr->full++;
		else if (a.stop == RELAY_STOP_WINDOW)
			pr->window++;
		else
			pr->errors++;
		if (++in_row > RUN_FULL_RETRY_MAX) {
			pr->gave_up++;	/* nothing moves: stop producing */
			break;
		}
		sched_yield();
	}
	pr->seq = a.seq;
	pr->bad = a.bad;
	pr->bad_seq = a.bad_seq;
	pr->bad_seen = a.bad_seen;
	finish(w, &R.producers_left, t0);
	return NULL;
}

static void *consumer_thread(void *arg)
{
	struct worker *w = arg;
	struct consumer *co = w->ctx;
	struct skel_relay_args a;
	double t0;
	bool mdone;
	int err;

	memset(&a, 0, sizeof(a));
	a.state = (__u64)(unsigned long)co->st;
	a.nops = w->cfg->batch;
	run_gate_wait();
	t0 = now_s();
	for (;;) {
		/* After a stop, keep draining until the movers have placed
		 * the items they hold (a full lane B would drop them). */
		mdone = all_done(&R.movers_left);
		if (run_stop && mdone)
			break;
		a.done = 0;
		err = kern_run(w->kern->skel->progs.relay_consume, &a, sizeof(a));
		if (err < 0) {
			w->error = err;
			break;
		}
		if (!a.stop)
			continue;
		if (a.stop != DS_ERROR_NOT_FOUND)
			co->errors++;
		else if (mdone)
			break;
		else
			co->empty++;
		sched_yield();
	}
	/* No consumer counts itself into a "left" counter: nobody waits. */
	w->secs = now_s() - t0;
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

int relay_check(const struct ds_metadata *md, int movers, int producers)
{
	char fifo[128] = "";
	int k;

	if (!(md->caps & DS_CAP_FIFO)) {
		for (k = 0; k < DS_KIND_MAX; k++)
			if (ds_metadata_of(k)->caps & DS_CAP_FIFO)
				snprintf(fifo + strlen(fifo), sizeof(fifo) - strlen(fifo), "%s%s",
					 fifo[0] ? ", " : "", ds_metadata_of(k)->name);
		fprintf(stderr, "skeleton: -w relay needs a FIFO structure (%s); %s is not one\n",
			fifo, md->name);
		return -1;
	}
	if (movers < 1 || movers > RELAY_MAX_MOVERS) {
		fprintf(stderr, "skeleton: -w relay needs 1 to %d mover threads (-t), not %d\n",
			RELAY_MAX_MOVERS, movers);
		return -1;
	}
	if (producers < 1 || producers > RELAY_MAX_PRODUCERS) {
		fprintf(stderr, "skeleton: -w relay takes 1 to %d kernel producers (--kworkers), not %d\n",
			RELAY_MAX_PRODUCERS, producers);
		return -1;
	}
	if ((md->caps & DS_CAP_SPSC) && (movers != 1 || producers != 1)) {
		fprintf(stderr, "skeleton: -w relay on %s allows one producer and one consumer per "
			"lane: use -t 1 and --kworkers 1, not -t %d --kworkers %d\n",
			md->name, movers, producers);
		return -1;
	}
	return 0;
}

static void *arena_zeroed(__u64 bytes)
{
	/* Fresh arena pages come zeroed from the kernel. */
	return arena_malloc_pages(bytes);
}

int relay_prepare(struct kern *k, const struct run_cfg *cfg, struct worker *w)
{
	struct skeleton_bpf *s = k->skel;
	const char *fault = getenv("SKELETON_RELAY_FAULT");
	int i;

	memset(&R, 0, sizeof(R));
	R.kind = cfg->kind;
	R.nm = cfg->threads;
	R.np = R.nc = cfg->kworkers / 2;
	R.cap = cfg->ops;
	R.lane_a = s->bss->ds_head;
	R.lane_b = ds_create(cfg->kind);
	R.mov = calloc(R.nm, sizeof(*R.mov));
	if (!R.lane_b || !R.mov)
		return -ENOMEM;
	for (i = 0; i < R.np; i++) {
		R.recs[i] = arena_zeroed(RELAY_RING * sizeof(struct relay_rec));
		if (!R.recs[i])
			return -ENOMEM;
		s->bss->relay_recs[i] = (__u64)(unsigned long)R.recs[i];
	}
	for (i = 0; i < R.nc; i++) {
		R.cons[i].st = arena_zeroed(sizeof(struct relay_cons_state));
		if (!R.cons[i].st)
			return -ENOMEM;
	}
	s->bss->relay_lane_b = R.lane_b;
	s->bss->relay_cap = R.cap;
	s->bss->relay_nprod = R.np;
	s->bss->relay_nmovers = R.nm;
	for (i = FAULT_DROP; fault && i <= FAULT_SWAP; i++)
		if (!strcmp(fault, fault_names[i]))
			R.fault = i;
	if (R.fault)
		printf("skeleton: test fault: the mover of producer 0's item %d %s\n",
		       RELAY_FAULT_AT, R.fault == FAULT_DROP ? "drops it" : R.fault == FAULT_DUP ?
		       "puts it twice into lane B" : "puts it after its next item");

	for (i = 0; i < R.nm + R.np + R.nc; i++) {
		memset(&w[i].mix, 0, sizeof(w[i].mix));
		w[i].ops = 0;
		w[i].producer = w[i].retry_full = w[i].drain = false;
		if (i < R.nm) {
			w[i].fn = mover_thread;
			w[i].ctx = &R.mov[i];
			w[i].role = "mover";
		} else if (i < R.nm + R.np) {
			w[i].fn = producer_thread;
			w[i].ctx = &R.prod[i - R.nm];
			w[i].role = "producer";
			w[i].ops = R.cap;
		} else {
			w[i].fn = consumer_thread;
			w[i].ctx = &R.cons[i - R.nm - R.np];
			w[i].role = "consumer";
		}
	}
	R.producers_left = R.np;
	R.movers_left = R.nm;
	return 0;
}

static void hist_merge(struct relay_hist *dst, const struct relay_hist *src)
{
	int i;

	dst->n += src->n;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
	for (i = 0; i < RELAY_NBUCKETS; i++)
		dst->b[i] += src->b[i];
}

/* The value below which a fraction @q of the samples lie: the upper edge
 * of its bucket (at most 6.25 % above), never above the maximum seen. */
static __u64 hist_quantile(const struct relay_hist *h, double q)
{
	__u64 want, seen = 0, v;
	int i;

	if (!h->n)
		return 0;
	want = (__u64)(q * h->n + 0.999999);
	if (!want)
		want = 1;
	for (i = 0; i < RELAY_NBUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			v = relay_bucket_high(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

static void lane_fill(struct relay_lane *l, const struct relay_hist *h, __u64 items,
		      double secs)
{
	l->items = items;
	l->items_per_s = secs > 0 ? items / secs : 0;
	l->p50 = hist_quantile(h, 0.50);
	l->p90 = hist_quantile(h, 0.90);
	l->p99 = hist_quantile(h, 0.99);
	l->max = h->max;
	l->mean = h->n ? h->sum / h->n : 0;
}

/* The per-thread tables show what each worker did. */
static void fill_counts(struct worker *w)
{
	struct skel_counts *c = &w->counts;

	memset(c, 0, sizeof(*c));
	if (w->fn == mover_thread) {
		struct mover *m = w->ctx;

		c->calls[DS_OP_POP] = c->ok[DS_OP_POP] = m->moved + m->bad_key;
		c->calls[DS_OP_INSERT] = m->put + m->full_b + m->errors;
		c->ok[DS_OP_INSERT] = m->put;
		c->miss = m->full_b;
		c->err[ds_err_index(DS_ERROR_BUSY)] = m->errors;
	} else if (w->fn == producer_thread) {
		struct producer *p = w->ctx;

		c->calls[DS_OP_INSERT] = p->seq + p->full + p->errors;
		c->ok[DS_OP_INSERT] = p->seq;
		c->miss = p->full;
		c->err[ds_err_index(DS_ERROR_BUSY)] = p->errors;
	} else {
		struct consumer *co = w->ctx;

		c->calls[DS_OP_POP] = c->ok[DS_OP_POP] = co->st->items;
		c->err[ds_err_index(DS_ERROR_BUSY)] = co->errors;
	}
}

void relay_finish(struct kern *k, const struct run_cfg *cfg, struct worker *w,
		  struct relay_result *o)
{
	static struct relay_hist ha, hb, he;
	struct relay_result pending = {};	/* first item still on its way */
	bool pending_seen = false;
	struct ds_stats st;
	__u64 s, seq, na, nb, lost_q;
	int i, p;

	(void)k;
	memset(o, 0, sizeof(*o));
	memset(&ha, 0, sizeof(ha));
	memset(&hb, 0, sizeof(hb));
	memset(&he, 0, sizeof(he));
	o->producers = R.np;
	o->movers = R.nm;
	o->consumers = R.nc;
	for (i = 0; i < cfg->threads + cfg->kworkers; i++) {
		fill_counts(&w[i]);
		if (w[i].secs > o->secs)
			o->secs = w[i].secs;
	}
	for (p = 0; p < R.np; p++) {
		o->produced += R.prod[p].seq;
		o->full_a += R.prod[p].full;
		o->window_stalls += R.prod[p].window;
		o->errors += R.prod[p].errors;
	}
	for (i = 0; i < R.nm; i++) {
		struct mover *m = &R.mov[i];

		o->moved += m->moved;
		o->full_b += m->full_b;
		o->full_b_gave_up += m->gave_up;
		o->empty_a += m->empty;
		o->errors += m->errors;
		o->bad_keys += m->bad_key;
		o->order_viol_a += m->order_viol;
		hist_merge(&ha, &m->lat_a);
	}
	for (i = 0; i < R.nc; i++) {
		struct relay_cons_state *cs = R.cons[i].st;

		o->consumed += cs->items;
		o->empty_b += R.cons[i].empty;
		o->errors += R.cons[i].errors;
		o->bad_keys += cs->bad_key;
		o->order_viol_b += cs->order_viol;
		hist_merge(&hb, &cs->lat_b);
		hist_merge(&he, &cs->lat_e2e);
	}
	lane_fill(&o->lane_a, &ha, o->moved, o->secs);
	lane_fill(&o->lane_b, &hb, o->consumed, o->secs);
	lane_fill(&o->e2e, &he, he.n, o->secs);
	/* The side records: items older than a ring were checked by their
	 * producer when it reused the record; the last ring's worth is
	 * checked here.  Late copies (stale) are duplicates. */
	for (i = 0; i < R.nm; i++)
		o->duplicated += R.mov[i].stale;
	for (i = 0; i < R.nc; i++)
		o->duplicated += R.cons[i].st->stale;
	for (p = 0; p < R.np; p++) {
		struct producer *pr = &R.prod[p];

		if (pr->bad) {
			if ((pr->bad_seen & 0xffffffffULL) > 1 || (pr->bad_seen >> 32) > 1)
				o->duplicated += pr->bad;
			else
				o->lost += pr->bad;
			if (!o->have_bad) {
				o->have_bad = true;
				o->bad_prod = p;
				o->bad_seq = pr->bad_seq;
				o->bad_seen = pr->bad_seen;
			}
		}
		for (seq = 0; seq < RELAY_RING; seq++) {
			struct relay_rec *rec = &R.recs[p][seq];

			if (seq >= pr->seq || rec->seq >= pr->seq) {
				/* Never used, or written for an attempt that did
				 * not go in (lane A full or busy when the
				 * producer stopped): no item, nobody may have
				 * counted it. */
				if (rec->seen)
					o->bad_keys++;
				continue;
			}
			s = rec->seen;
			na = s & 0xffffffffULL;
			nb = s >> 32;
			if (na == 1 && nb == 1)
				continue;
			if (na <= 1 && !nb) {
				/* Still on its way: counted against the lanes
				 * below, not lost by itself. */
				if (na)
					o->queued_b++;
				else
					o->queued_a++;
				if (!pending_seen || rec->seq < pending.bad_seq) {
					pending_seen = true;
					pending.bad_prod = p;
					pending.bad_seq = rec->seq;
					pending.bad_seen = s;
				}
				continue;
			}
			if (!na || !nb)
				o->lost++;
			else
				o->duplicated++;
			if (!o->have_bad || rec->seq < o->bad_seq) {
				o->have_bad = true;
				o->bad_prod = p;
				o->bad_seq = rec->seq;
				o->bad_seen = s;
			}
		}
	}
	ds_get_stats(R.kind, R.lane_a, &st);
	o->elements_a = st.current_elements;
	ds_get_stats(R.kind, R.lane_b, &st);
	o->elements_b = st.current_elements;
	/* Queued items the lanes do not hold are lost (a mover that gave up
	 * one leaves it "out of A, not out of B" with lane B not holding it). */
	lost_q = (o->queued_a > (__u64)(o->elements_a > 0 ? o->elements_a : 0) ?
		  o->queued_a - (o->elements_a > 0 ? o->elements_a : 0) : 0) +
		 (o->queued_b > (__u64)(o->elements_b > 0 ? o->elements_b : 0) ?
		  o->queued_b - (o->elements_b > 0 ? o->elements_b : 0) : 0);
	o->lost += lost_q;
	if (lost_q && !o->have_bad && pending_seen) {
		o->have_bad = true;
		o->bad_prod = pending.bad_prod;
		o->bad_seq = pending.bad_seq;
		o->bad_seen = pending.bad_seen;
	}
	snprintf(o->fault, sizeof(o->fault), "%s", fault_names[R.fault]);
}

/* Verify one lane from userspace and from the kernel. */
static int lane_verify(struct kern *k, const char *name, void *head, bool b, char *msg,
		       size_t n)
{
	struct ds_req r = { .op = DS_OP_VERIFY };
	struct skel_verify_args va = {};
	int rc, err;

	if (ds_quiesce(R.kind, head)) {
		snprintf(msg, n, "lane %s: retired nodes still held back after all contexts stopped",
			 name);
		return 0;
	}
	rc = ds_dispatch(R.kind, head, &r);
	if (rc != DS_SUCCESS) {
		snprintf(msg, n, "lane %s: userspace verify: %s (%s)", name, ds_strerror(rc),
			 ds_corrupt_str(ds_verify_reason(R.kind, head)));
		return 0;
	}
	/* The two programs take the same argument layout. */
	_Static_assert(sizeof(struct skel_verify_args) == sizeof(struct skel_relay_verify_args),
		       "verify args");
	err = kern_run(b ? k->skel->progs.relay_verify : k->skel->progs.ds_verify, &va,
		       sizeof(va));
	if (err < 0 || va.rc != DS_SUCCESS) {
		snprintf(msg, n, "lane %s: kernel verify: %s (%s)", name,
			 err < 0 ? strerror(-err) : ds_strerror(va.rc), ds_corrupt_str(va.reason));
		return 0;
	}
	return 1;
}

int relay_verify(struct kern *k, const struct run_cfg *cfg, const struct relay_result *o,
		 char *msg, size_t n)
{
	const struct ds_metadata *md = ds_metadata_of(cfg->kind);
	struct arena_stats mem;
	char what[160];
	int i;

	if (o->lost || o->duplicated) {
		if (o->have_bad)
			snprintf(what, sizeof(what), "; first: producer %llu item %llu left lane A "
				 "%llu times and lane B %llu times", (unsigned long long)o->bad_prod,
				 (unsigned long long)o->bad_seq,
				 (unsigned long long)(o->bad_seen & 0xffffffffULL),
				 (unsigned long long)(o->bad_seen >> 32));
		else
			snprintf(what, sizeof(what), "; late copies of items already done");
		snprintf(msg, n, "exactly once: %llu item(s) lost, %llu duplicated%s",
			 (unsigned long long)o->lost, (unsigned long long)o->duplicated, what);
		return 0;
	}
	if (o->bad_keys) {
		snprintf(msg, n, "exactly once: %llu items with a key no producer sent",
			 (unsigned long long)o->bad_keys);
		return 0;
	}
	if (o->produced != o->moved + o->queued_a || o->moved != o->consumed + o->queued_b) {
		snprintf(msg, n, "exactly once: produced %llu, moved %llu, consumed %llu "
			 "(still queued: A %llu, B %llu)",
			 (unsigned long long)o->produced, (unsigned long long)o->moved,
			 (unsigned long long)o->consumed, (unsigned long long)o->queued_a,
			 (unsigned long long)o->queued_b);
		return 0;
	}
	for (i = 0; i < R.nm; i++)
		if (R.mov[i].order_viol) {
			__u64 key = R.mov[i].viol_key;

			snprintf(msg, n, "order: mover %d took producer %llu's item %llu after item %llu "
				 "from lane A (%llu violations in all)", i,
				 (unsigned long long)RELAY_KEY_PROD(key),
				 (unsigned long long)RELAY_KEY_SEQ(key),
				 (unsigned long long)R.mov[i].viol_prev,
				 (unsigned long long)o->order_viol_a);
			return 0;
		}
	for (i = 0; i < R.nc; i++)
		if (R.cons[i].st->order_viol) {
			__u64 key = R.cons[i].st->viol_key;

			snprintf(msg, n, "order: consumer %d got producer %llu's item %llu via mover %llu "
				 "after item %llu from lane B (%llu violations in all)", i,
				 (unsigned long long)RELAY_KEY_PROD(key),
				 (unsigned long long)RELAY_KEY_SEQ(key),
				 (unsigned long long)RELAY_KEY_MOVER(key) - 1,
				 (unsigned long long)R.cons[i].st->viol_prev,
				 (unsigned long long)o->order_viol_b);
			return 0;
		}
	if (!lane_verify(k, "A", R.lane_a, false, msg, n) ||
	    !lane_verify(k, "B", R.lane_b, true, msg, n))
		return 0;
	/* An ended (interrupted) run may leave items on their way: the lanes
	 * must hold exactly those. */
	if ((__u64)o->elements_a != o->queued_a || (__u64)o->elements_b != o->queued_b) {
		snprintf(msg, n, "lanes at the end: A holds %lld, B holds %lld, but %llu items "
			 "were still to leave A and %llu to leave B",
			 (long long)o->elements_a, (long long)o->elements_b,
			 (unsigned long long)o->queued_a, (unsigned long long)o->queued_b);
		return 0;
	}
	arena_stats_read(&mem);
	if (!(md->caps & DS_CAP_INLINE) &&
	    (__s64)mem.current != 2LL * md->fixed_objects + o->elements_a + o->elements_b) {
		snprintf(msg, n, "allocator: %lld objects held after the run, expected %lld "
			 "(two lanes' %u fixed each + %lld queued items)", (long long)mem.current,
			 2LL * md->fixed_objects + o->elements_a + o->elements_b,
			 md->fixed_objects, (long long)(o->elements_a + o->elements_b));
		return 0;
	}
	if (o->elements_a || o->elements_b)
		snprintf(msg, n, "%llu items: every finished one left lane A and lane B exactly "
			 "once, the %llu still queued (A %lld, B %lld) are held by the lanes; order "
			 "kept; both lanes verified (user + kernel)",
			 (unsigned long long)o->produced,
			 (unsigned long long)(o->elements_a + o->elements_b),
			 (long long)o->elements_a, (long long)o->elements_b);
	else
		snprintf(msg, n, "%llu items each left lane A and lane B exactly once; order kept "
			 "per producer at every mover and per (producer, mover) at every consumer; "
			 "both lanes verified (user + kernel) and empty",
			 (unsigned long long)o->produced);
	return 1;
}

static void lane_row(FILE *f, const char *name, const struct relay_lane *l)
{
	fprintf(f, "%-18s %10llu %11.0f %9.1f %9.1f %9.1f %10.1f %9.1f\n", name,
		(unsigned long long)l->items, l->items_per_s, l->p50 / 1e3, l->p90 / 1e3,
		l->p99 / 1e3, l->max / 1e3, l->mean / 1e3);
}

void relay_print(FILE *f, const struct relay_result *r)
{
	fprintf(f, "\nRelay: %d kernel producer%s -> lane A -> %d mover thread%s -> lane B -> "
		"%d kernel consumer%s\n", r->producers, r->producers == 1 ? "" : "s", r->movers,
		r->movers == 1 ? "" : "s", r->consumers, r->consumers == 1 ? "" : "s");
	fprintf(f, "%-18s %10s %11s %9s %9s %9s %10s %9s\n", "Lane", "Items", "Items/sec",
		"p50(us)", "p90(us)", "p99(us)", "max(us)", "mean(us)");
	fprintf(f, "%.*s\n", 92, "----------------------------------------------------------"
		"----------------------------------------------------------");
	lane_row(f, "A (kernel->user)", &r->lane_a);
	lane_row(f, "B (user->kernel)", &r->lane_b);
	lane_row(f, "end-to-end", &r->e2e);
	fprintf(f, "  produced %llu, moved %llu, consumed %llu in %.2f s\n",
		(unsigned long long)r->produced, (unsigned long long)r->moved,
		(unsigned long long)r->consumed, r->secs);
	fprintf(f, "  producers: %llu FULL retries, %llu window stalls (%d items in flight at most)\n",
		(unsigned long long)r->full_a, (unsigned long long)r->window_stalls, RELAY_RING);
	fprintf(f, "  movers: %llu lane-B FULL retries (%llu gave up), %llu empty polls; "
		"consumers: %llu empty polls; faults %llu\n",
		(unsigned long long)r->full_b, (unsigned long long)r->full_b_gave_up,
		(unsigned long long)r->empty_a, (unsigned long long)r->empty_b,
		(unsigned long long)r->errors);
	if (r->queued_a || r->queued_b)
		fprintf(f, "  still queued at the end (not lost): lane A %llu, lane B %llu\n",
			(unsigned long long)r->queued_a, (unsigned long long)r->queued_b);
	fprintf(f, "  lost %llu, duplicated %llu, order violations A %llu / B %llu%s%s\n",
		(unsigned long long)r->lost, (unsigned long long)r->duplicated,
		(unsigned long long)r->order_viol_a, (unsigned long long)r->order_viol_b,
		r->fault[0] ? "; injected test fault: " : "", r->fault);
}

static void lane_json(FILE *f, const char *name, const struct relay_lane *l, bool last)
{
	fprintf(f, "      \"%s\": {\"items\": %llu, \"items_per_sec\": %.0f, \"latency_ns\": "
		"{\"p50\": %llu, \"p90\": %llu, \"p99\": %llu, \"max\": %llu, \"mean\": %llu}}%s\n",
		name, (unsigned long long)l->items, l->items_per_s, (unsigned long long)l->p50,
		(unsigned long long)l->p90, (unsigned long long)l->p99, (unsigned long long)l->max,
		(unsigned long long)l->mean, last ? "" : ",");
}

void relay_json(FILE *f, const struct relay_result *r)
{
	fprintf(f, "  \"relay\": {\n    \"producers\": %d, \"movers\": %d, \"consumers\": %d,\n"
		"    \"produced\": %llu, \"moved\": %llu, \"consumed\": %llu, \"seconds\": %.6f,\n",
		r->producers, r->movers, r->consumers, (unsigned long long)r->produced,
		(unsigned long long)r->moved, (unsigned long long)r->consumed, r->secs);
	fprintf(f, "    \"lanes\": {\n");
	lane_json(f, "A", &r->lane_a, false);
	lane_json(f, "B", &r->lane_b, false);
	lane_json(f, "end_to_end", &r->e2e, true);
	fprintf(f, "    },\n    \"full_retries_a\": %llu, \"window_stalls\": %llu, "
		"\"full_retries_b\": %llu, \"full_gave_up_b\": %llu,\n"
		"    \"empty_polls_a\": %llu, \"empty_polls_b\": %llu, \"faults\": %llu,\n"
		"    \"lost\": %llu, \"duplicated\": %llu, \"bad_keys\": %llu,\n"
		"    \"order_violations_a\": %llu, \"order_violations_b\": %llu,\n"
		"    \"elements_a\": %lld, \"elements_b\": %lld\n  },\n",
		(unsigned long long)r->full_a, (unsigned long long)r->window_stalls,
		(unsigned long long)r->full_b, (unsigned long long)r->full_b_gave_up,
		(unsigned long long)r->empty_a, (unsigned long long)r->empty_b,
		(unsigned long long)r->errors, (unsigned long long)r->lost,
		(unsigned long long)r->duplicated, (unsigned long long)r->bad_keys,
		(unsigned long long)r->order_viol_a, (unsigned long long)r->order_viol_b,
		(long long)r->elements_a, (long long)r->elements_b);
}
