// SPDX-License-Identifier: GPL-2.0
/*
 * lincheck.c - linearizability checker for recorded histories.
 *
 * The search is Wing & Gong's: repeatedly pick an operation that may take
 * effect next (no pending response precedes its call), apply it to a model
 * of the sequential specification, and backtrack when some operation's
 * response is reached before that operation could be placed.  Lowe's
 * improvement keeps every (set of placed operations, model state) pair the
 * search has reached in a hash set, so a configuration is never explored
 * twice.  Calls and responses sit in one doubly linked list ordered by
 * time; placing an operation unlinks its two entries, backtracking links
 * them back (in reverse order, so each entry's own links still point at the
 * right neighbours).
 *
 * Set histories without pop are split by key first (P-compositionality:
 * a set is linearizable iff each key's sub-history is), which keeps every
 * search small.  A failing search is then shrunk to the shortest prefix,
 * by response time, that still has no valid order.
 *
 * See docs/LINCHECK.md for the file format and the limits.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lincheck.h"

/* ------------------------------------------------------------------ */
/* Names                                                               */

static const char *const lin_result_names[] = {
	[LIN_OK] = "PASS", [LIN_FAIL] = "FAIL", [LIN_ERROR] = "ERROR",
	[LIN_UNKNOWN] = "UNKNOWN",
};
static const char *const lin_model_names[] = { "set", "queue", "stack" };
static const char *const lin_search_names[] = { "scan", "peek", "ignore" };
static const char *const lin_elem_names[] = { "value", "key", "both" };

static const struct {
	int rc;
	const char *name;
} lin_rc_names[] = {
	{ DS_SUCCESS, "success" },
	{ DS_ERROR_INVALID, "invalid" },
	{ DS_ERROR_NOMEM, "nomem" },
	{ DS_ERROR_NOT_FOUND, "not_found" },
	{ DS_ERROR_EXISTS, "exists" },
	{ DS_ERROR_CORRUPT, "corrupt" },
	{ DS_ERROR_BUSY, "busy" },
	{ DS_ERROR_FULL, "full" },
};

const char *lincheck_result_str(int result)
{
	if (result >= LIN_OK && result <= LIN_UNKNOWN)
		return lin_result_names[result];
	return "?";
}

static int lin_parse_name(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

const char *lincheck_model_str(int model)
{
	return model >= 0 && model < LIN_MODEL_MAX ? lin_model_names[model] : "?";
}

int lincheck_model_parse(const char *s)
{
	return lin_parse_name(s, lin_model_names, LIN_MODEL_MAX);
}

const char *lincheck_search_str(int search)
{
	return search >= 0 && search < LIN_SEARCH_MAX ? lin_search_names[search] : "?";
}

int lincheck_search_parse(const char *s)
{
	return lin_parse_name(s, lin_search_names, LIN_SEARCH_MAX);
}

const char *lincheck_elem_str(int elem)
{
	return elem >= 0 && elem < LIN_ELEM_MAX ? lin_elem_names[elem] : "?";
}

int lincheck_elem_parse(const char *s)
{
	return lin_parse_name(s, lin_elem_names, LIN_ELEM_MAX);
}

const char *lincheck_rc_str(long long rc)
{
	size_t i;

	for (i = 0; i < sizeof(lin_rc_names) / sizeof(lin_rc_names[0]); i++)
		if (lin_rc_names[i].rc == rc)
			return lin_rc_names[i].name;
	return "?";
}

const char *lincheck_ctx_str(unsigned long long ctx, char *buf, size_t len)
{
	static const char kinds[] = "ukh";
	unsigned long long kind = ctx >> 32;

	if (kind < 3)
		snprintf(buf, len, "%c%llu", kinds[kind], ctx & 0xffffffffULL);
	else
		snprintf(buf, len, "%llu", ctx);
	return buf;
}

static const char *lin_op_str(unsigned long long op)
{
	switch (op) {
	case DS_OP_INSERT:	return "insert";
	case DS_OP_DELETE:	return "delete";
	case DS_OP_SEARCH:	return "search";
	case DS_OP_POP:		return "pop";
	default:		return "?";
	}
}

/* ------------------------------------------------------------------ */
/* Histories and files                                                 */

void lincheck_history_init(struct lin_history *h)
{
	memset(h, 0, sizeof(*h));
	h->model = LIN_MODEL_NONE;
	h->search = LIN_SEARCH_NONE;
	h->elem = LIN_ELEM_NONE;
}

void lincheck_history_free(struct lin_history *h)
{
	free(h->ops);
	lincheck_history_init(h);
}

int lincheck_history_add(struct lin_history *h, const struct lin_op *op)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct lin_op *ops = realloc(h->ops, cap * sizeof(*ops));

		if (!ops)
			return -1;
		h->ops = ops;
		h->cap = cap;
	}
	h->ops[h->n++] = *op;
	return 0;
}

#define LIN_HEADER "# lincheck history v1"

int lincheck_write(FILE *f, const struct lin_history *h)
{
	char cbuf[32];
	size_t i;

	fprintf(f, LIN_HEADER);
	if (h->model >= 0)
		fprintf(f, " model=%s", lincheck_model_str(h->model));
	if (h->search >= 0)
		fprintf(f, " search=%s", lincheck_search_str(h->search));
	if (h->elem >= 0)
		fprintf(f, " elem=%s", lincheck_elem_str(h->elem));
	fprintf(f, "\n# ctx op key value rc out_key out_value call_ns ret_ns\n");
	for (i = 0; i < h->n; i++) {
		const struct lin_op *o = &h->ops[i];
		const char *rc = lincheck_rc_str(o->rc);
		char rcbuf[24];

		if (rc[0] == '?') {
			snprintf(rcbuf, sizeof(rcbuf), "%lld", (long long)o->rc);
			rc = rcbuf;
		}
		fprintf(f, "%s ", lincheck_ctx_str(o->ctx, cbuf, sizeof(cbuf)));
		if (lin_op_str(o->op)[0] == '?')
			fprintf(f, "%llu", (unsigned long long)o->op);
		else
			fprintf(f, "%s", lin_op_str(o->op));
		fprintf(f, " %llu %llu %s %llu %llu %llu ", (unsigned long long)o->key,
			(unsigned long long)o->value, rc, (unsigned long long)o->out_key,
			(unsigned long long)o->out_value, (unsigned long long)o->call_ns);
		if (o->ret_ns == LIN_PENDING)
			fprintf(f, "-\n");
		else
			fprintf(f, "%llu\n", (unsigned long long)o->ret_ns);
	}
	return ferror(f) ? -1 : 0;
}

static int lin_parse_u64(const char *s, unsigned long long *v)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

static int lin_parse_ctx(const char *s, unsigned long long *v)
{
	unsigned long long n;
	const char *p = strchr("ukh", s[0]);

	if (s[0] && p) {
		if (lin_parse_u64(s + 1, &n) || n > 0xffffffffULL)
			return -1;
		*v = ((unsigned long long)(p - "ukh") << 32) | n;
		return 0;
	}
	return lin_parse_u64(s, v);
}

static int lin_parse_op(const char *s, unsigned long long *v)
{
	unsigned long long op;

	for (op = DS_OP_INSERT; op <= DS_OP_POP; op++) {
		if (!strcmp(s, lin_op_str(op))) {
			*v = op;
			return 0;
		}
	}
	return lin_parse_u64(s, v);
}

static int lin_parse_rc(const char *s, long long *v)
{
	size_t i;
	char *end;

	for (i = 0; i < sizeof(lin_rc_names) / sizeof(lin_rc_names[0]); i++) {
		if (!strcmp(s, lin_rc_names[i].name)) {
			*v = lin_rc_names[i].rc;
			return 0;
		}
	}
	errno = 0;
	*v = strtoll(s, &end, 0);
	return errno || !*s || *end ? -1 : 0;
}

/* "model=set search=ignore elem=both" after the header's fixed text. */
static int lin_parse_header_opts(char *s, struct lin_history *h, char *err, size_t errlen)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(s, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		char *eq = strchr(tok, '=');
		int v = -1;

		if (!eq)
			goto bad;
		*eq++ = 0;
		if (!strcmp(tok, "model"))
			v = h->model = lincheck_model_parse(eq);
		else if (!strcmp(tok, "search"))
			v = h->search = lincheck_search_parse(eq);
		else if (!strcmp(tok, "elem"))
			v = h->elem = lincheck_elem_parse(eq);
		if (v < 0)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "line 1: bad header option '%s'", tok);
	return -1;
}

int lincheck_read(FILE *f, struct lin_history *h, char *err, size_t errlen)
{
	char line[512];
	size_t lineno = 0;
	int seen_header = 0;

	while (fgets(line, sizeof(line), f)) {
		char *tok[10], *save = NULL, *p;
		struct lin_op o;
		unsigned long long ret;
		long long rc;
		int n = 0;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "line %zu: too long", lineno);
			return -1;
		}
		if (!seen_header) {
			if (strncmp(line, LIN_HEADER, strlen(LIN_HEADER))) {
				snprintf(err, errlen, "line %zu: expected '%s'", lineno, LIN_HEADER);
				return -1;
			}
			seen_header = 1;
			if (lin_parse_header_opts(line + strlen(LIN_HEADER), h, err, errlen))
				return -1;
			continue;
		}
		p = line + strspn(line, " \t\r\n");
		if (!*p || *p == '#')
			continue;
		for (p = strtok_r(p, " \t\r\n", &save); p && n < 10;
		     p = strtok_r(NULL, " \t\r\n", &save))
			tok[n++] = p;
		if (n != 9) {
			snprintf(err, errlen, "line %zu: expected 9 fields, got %s", lineno,
				 n == 10 ? "more" : "fewer");
			return -1;
		}
		memset(&o, 0, sizeof(o));
		if (lin_parse_ctx(tok[0], (unsigned long long *)&o.ctx)) {
			snprintf(err, errlen, "line %zu: bad context '%s'", lineno, tok[0]);
			return -1;
		}
		if (lin_parse_op(tok[1], (unsigned long long *)&o.op)) {
			snprintf(err, errlen, "line %zu: bad op '%s'", lineno, tok[1]);
			return -1;
		}
		if (lin_parse_rc(tok[4], &rc)) {
			snprintf(err, errlen, "line %zu: bad result '%s'", lineno, tok[4]);
			return -1;
		}
		o.rc = rc;
		if (lin_parse_u64(tok[2], (unsigned long long *)&o.key) ||
		    lin_parse_u64(tok[3], (unsigned long long *)&o.value) ||
		    lin_parse_u64(tok[5], (unsigned long long *)&o.out_key) ||
		    lin_parse_u64(tok[6], (unsigned long long *)&o.out_value) ||
		    lin_parse_u64(tok[7], (unsigned long long *)&o.call_ns)) {
			snprintf(err, errlen, "line %zu: bad number", lineno);
			return -1;
		}
		if (!strcmp(tok[8], "-")) {
			o.ret_ns = LIN_PENDING;
		} else if (lin_parse_u64(tok[8], &ret) || ret == LIN_PENDING || ret < o.call_ns) {
			snprintf(err, errlen, "line %zu: bad response time '%s'", lineno, tok[8]);
			return -1;
		} else {
			o.ret_ns = ret;
		}
		if (lincheck_history_add(h, &o)) {
			snprintf(err, errlen, "line %zu: out of memory", lineno);
			return -1;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "read error");
		return -1;
	}
	if (!seen_header) {
		snprintf(err, errlen, "empty file (no '%s' header)", LIN_HEADER);
		return -1;
	}
	return 0;
}

int lincheck_load(const char *path, struct lin_history *h, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int ret;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ret = lincheck_read(f, h, err, errlen);
	fclose(f);
	return ret;
}

int lincheck_save(const char *path, const struct lin_history *h)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = lincheck_write(f, h);
	if (fclose(f))
		ret = -1;
	return ret;
}

static int lin_idx_cmp_call(const void *a, const void *b, void *arg)
{
	const struct lin_history *h = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	__u64 cx = h->ops[x].call_ns, cy = h->ops[y].call_ns;

	if (cx != cy)
		return cx < cy ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * Knossos and Porcupine want one process per sequential thread of calls.
 * A context's operations normally do not overlap; when they do (a hook
 * firing on two CPUs), the overlapping one gets a fresh process number so
 * the export stays well formed.  Returns an array of process ids.
 */
static unsigned long long *lin_processes(const struct lin_history *h)
{
	unsigned long long *proc = calloc(h->n ? h->n : 1, sizeof(*proc));
	struct lane { unsigned long long ctx, busy_until, id; } *lanes;
	size_t *order, i, j, nl = 0;
	unsigned long long next_id = 0;

	lanes = calloc(h->n ? h->n : 1, sizeof(*lanes));
	order = calloc(h->n ? h->n : 1, sizeof(*order));
	if (!proc || !lanes || !order) {
		free(proc);
		free(lanes);
		free(order);
		return NULL;
	}
	/* In call order, each lane (process) is free again once its last
	 * operation has returned. */
	for (i = 0; i < h->n; i++)
		order[i] = i;
	qsort_r(order, h->n, sizeof(*order), lin_idx_cmp_call, (void *)h);
	for (i = 0; i < h->n; i++) {
		const struct lin_op *o = &h->ops[order[i]];

		for (j = 0; j < nl; j++)
			if (lanes[j].ctx == o->ctx && lanes[j].busy_until < o->call_ns)
				break;
		if (j == nl) {
			lanes[nl].ctx = o->ctx;
			lanes[nl].id = next_id++;
			nl++;
		}
		lanes[j].busy_until = o->ret_ns;
		proc[order[i]] = lanes[j].id;
	}
	free(lanes);
	free(order);
	return proc;
}

/* Export events (invocations and completions) in time order. */
struct lin_event {
	unsigned long long t;
	size_t idx;
	int is_ret;
};

static int lin_event_cmp(const void *a, const void *b)
{
	const struct lin_event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->is_ret != y->is_ret)
		return x->is_ret ? 1 : -1;	/* calls first: concurrent */
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static struct lin_event *lin_events(const struct lin_history *h, size_t *n)
{
	struct lin_event *ev = calloc(2 * h->n + 1, sizeof(*ev));
	size_t i, k = 0;

	if (!ev)
		return NULL;
	for (i = 0; i < h->n; i++) {
		ev[k++] = (struct lin_event){ h->ops[i].call_ns, i, 0 };
		if (h->ops[i].ret_ns != LIN_PENDING)
			ev[k++] = (struct lin_event){ h->ops[i].ret_ns, i, 1 };
	}
	qsort(ev, k, sizeof(*ev), lin_event_cmp);
	*n = k;
	return ev;
}

static int lin_model_of(const struct lin_history *h, int model)
{
	if (model >= 0)
		return model;
	return h->model >= 0 ? h->model : LIN_MODEL_SET;
}

int lincheck_export_edn(FILE *f, const struct lin_history *h, int model)
{
	static const char *const qf[] = {
		[DS_OP_INSERT] = "enqueue", [DS_OP_DELETE] = "dequeue",
		[DS_OP_SEARCH] = "read", [DS_OP_POP] = "dequeue",
	};
	unsigned long long *proc;
	struct lin_event *ev;
	size_t n, i;

	model = lin_model_of(h, model);
	proc = lin_processes(h);
	ev = lin_events(h, &n);
	if (!proc || !ev) {
		free(proc);
		free(ev);
		return -1;
	}
	fprintf(f, ";; lincheck export, model %s; Knossos history (one op map per line)\n",
		lincheck_model_str(model));
	for (i = 0; i < n; i++) {
		const struct lin_op *o = &h->ops[ev[i].idx];
		const char *fn, *type = ":invoke";
		int ok = o->rc == DS_SUCCESS;
		char val[96];

		if (o->op < DS_OP_INSERT || o->op > DS_OP_POP)
			continue;
		if (model == LIN_MODEL_SET)
			fn = lin_op_str(o->op);
		else
			fn = model == LIN_MODEL_STACK && o->op != DS_OP_SEARCH ?
			     (o->op == DS_OP_INSERT ? "push" : "pop") : qf[o->op];
		if (ev[i].is_ret)
			type = ok || o->rc == DS_ERROR_NOT_FOUND || o->rc == DS_ERROR_EXISTS ?
			       ":ok" : ":fail";
		/* Values: what the op was given on :invoke, what it saw on :ok. */
		if (o->op == DS_OP_INSERT)
			snprintf(val, sizeof(val), "[%llu %llu]", (unsigned long long)o->key,
				 (unsigned long long)o->value);
		else if (!ev[i].is_ret)
			snprintf(val, sizeof(val), o->op == DS_OP_POP ? "nil" : "%llu",
				 (unsigned long long)o->key);
		else if (!ok)
			snprintf(val, sizeof(val), "nil");
		else if (o->op == DS_OP_POP)
			snprintf(val, sizeof(val), "[%llu %llu]", (unsigned long long)o->out_key,
				 (unsigned long long)o->out_value);
		else if (o->op == DS_OP_SEARCH)
			snprintf(val, sizeof(val), "[%llu %llu]", (unsigned long long)o->key,
				 (unsigned long long)o->out_value);
		else
			snprintf(val, sizeof(val), "%llu", (unsigned long long)o->key);
		fprintf(f, "{:process %llu, :type %s, :f :%s, :value %s, :time %llu, :rc :%s}\n",
			proc[ev[i].idx], type, fn, val, ev[i].t,
			ev[i].is_ret ? lincheck_rc_str(o->rc) : "pending");
	}
	/* Operations that never returned stay :invoke only: Knossos treats
	 * them as indeterminate, as lincheck does. */
	free(proc);
	free(ev);
	return ferror(f) ? -1 : 0;
}

int lincheck_export_json(FILE *f, const struct lin_history *h, int model)
{
	unsigned long long *proc = lin_processes(h);
	size_t i;
	int first = 1;

	if (!proc)
		return -1;
	model = lin_model_of(h, model);
	fprintf(f, "[\n");
	for (i = 0; i < h->n; i++) {
		const struct lin_op *o = &h->ops[i];

		if (o->op < DS_OP_INSERT || o->op > DS_OP_POP)
			continue;
		/* porcupine.Operation: ClientId, Input, Call, Output, Return.
		 * A pending op's Return is the largest int64 (Porcupine's
		 * convention for "never returned" histories). */
		fprintf(f, "%s  {\"ClientId\": %llu, \"Input\": {\"Op\": \"%s\", \"Key\": %llu, "
			"\"Value\": %llu}, \"Call\": %llu, \"Output\": {\"Rc\": \"%s\", "
			"\"Key\": %llu, \"Value\": %llu}, \"Return\": %llu}",
			first ? "" : ",\n", proc[i], lin_op_str(o->op),
			(unsigned long long)o->key, (unsigned long long)o->value,
			(unsigned long long)o->call_ns,
			o->ret_ns == LIN_PENDING ? "pending" : lincheck_rc_str(o->rc),
			(unsigned long long)o->out_key, (unsigned long long)o->out_value,
			o->ret_ns == LIN_PENDING ? (unsigned long long)INT64_MAX :
			(unsigned long long)o->ret_ns);
		first = 0;
	}
	fprintf(f, "\n]\n");
	(void)model;
	free(proc);
	return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Sequential models with undo                                         */

struct lin_kv {
	__u64 key, value;
};

/*
 * Model state.  queue: buf[head, tail) oldest first; stack: buf[0, tail)
 * top last; set: buf[0, tail) sorted by key.  h1/h2 are two independent
 * hashes of the contents kept up to date on every change.  For a queue
 * and a stack each element is hashed with its absolute position: with the
 * set of placed operations fixed, the number of elements added and
 * removed is fixed too, so equal states have equal positions.
 */
struct lin_state {
	int model;
	int anon;		/* removals without output take anonymous elements only */
	struct lin_kv *buf;
	size_t cap, head, tail;
	__u64 h1, h2;
};

enum { LIN_U_NONE, LIN_U_PUSH, LIN_U_POP_HEAD, LIN_U_POP_TAIL, LIN_U_SET_ADD, LIN_U_SET_DEL };

struct lin_undo {
	int kind;
	size_t pos;
	struct lin_kv kv;
};

static inline __u64 lin_mix(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static inline void lin_elem_hash(const struct lin_state *s, struct lin_kv kv, size_t pos,
				 __u64 *a, __u64 *b)
{
	__u64 p = s->model == LIN_MODEL_SET ? 0 : (__u64)pos + 1;
	__u64 k = lin_mix(kv.key ^ 0x9e3779b97f4a7c15ULL) ^ lin_mix(kv.value + 0x632be59bd9b4e019ULL);

	*a = lin_mix(k + p * 0xd6e8feb86659fd93ULL);
	*b = lin_mix(k ^ lin_mix(p + 0x8cb92ba72f3d8dd7ULL) ^ 0xa0761d6478bd642fULL);
}

static inline void lin_hash_add(struct lin_state *s, struct lin_kv kv, size_t pos)
{
	__u64 a, b;

	lin_elem_hash(s, kv, pos, &a, &b);
	s->h1 += a;
	s->h2 += b;
}

static inline void lin_hash_sub(struct lin_state *s, struct lin_kv kv, size_t pos)
{
	__u64 a, b;

	lin_elem_hash(s, kv, pos, &a, &b);
	s->h1 -= a;
	s->h2 -= b;
}

/* Binary search: index of key in the sorted set, or where it would go. */
static size_t lin_set_find(const struct lin_state *s, __u64 key, int *found)
{
	size_t lo = 0, hi = s->tail;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->buf[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->tail && s->buf[lo].key == key;
	return lo;
}

static void lin_set_add(struct lin_state *s, size_t pos, struct lin_kv kv, struct lin_undo *u)
{
	memmove(&s->buf[pos + 1], &s->buf[pos], (s->tail - pos) * sizeof(kv));
	s->buf[pos] = kv;
	s->tail++;
	lin_hash_add(s, kv, 0);
	u->kind = LIN_U_SET_ADD;
	u->pos = pos;
}

static void lin_set_del(struct lin_state *s, size_t pos, struct lin_undo *u)
{
	u->kind = LIN_U_SET_DEL;
	u->pos = pos;
	u->kv = s->buf[pos];
	lin_hash_sub(s, u->kv, 0);
	memmove(&s->buf[pos], &s->buf[pos + 1], (s->tail - pos - 1) * sizeof(u->kv));
	s->tail--;
}

static void lin_push(struct lin_state *s, struct lin_kv kv, struct lin_undo *u)
{
	s->buf[s->tail] = kv;
	lin_hash_add(s, kv, s->tail);
	s->tail++;
	u->kind = LIN_U_PUSH;
}

static void lin_pop_head(struct lin_state *s, struct lin_undo *u)
{
	u->kind = LIN_U_POP_HEAD;
	u->kv = s->buf[s->head];
	lin_hash_sub(s, u->kv, s->head);
	s->head++;
}

static void lin_pop_tail(struct lin_state *s, struct lin_undo *u)
{
	s->tail--;
	u->kind = LIN_U_POP_TAIL;
	u->kv = s->buf[s->tail];
	lin_hash_sub(s, u->kv, s->tail);
}

static void lin_undo(struct lin_state *s, const struct lin_undo *u)
{
	switch (u->kind) {
	case LIN_U_PUSH:
		s->tail--;
		lin_hash_sub(s, s->buf[s->tail], s->tail);
		break;
	case LIN_U_POP_HEAD:
		s->head--;
		s->buf[s->head] = u->kv;
		lin_hash_add(s, u->kv, s->head);
		break;
	case LIN_U_POP_TAIL:
		s->buf[s->tail] = u->kv;
		lin_hash_add(s, u->kv, s->tail);
		s->tail++;
		break;
	case LIN_U_SET_ADD:
		lin_hash_sub(s, s->buf[u->pos], 0);
		memmove(&s->buf[u->pos], &s->buf[u->pos + 1],
			(s->tail - u->pos - 1) * sizeof(u->kv));
		s->tail--;
		break;
	case LIN_U_SET_DEL:
		memmove(&s->buf[u->pos + 1], &s->buf[u->pos], (s->tail - u->pos) * sizeof(u->kv));
		s->buf[u->pos] = u->kv;
		s->tail++;
		lin_hash_add(s, u->kv, 0);
		break;
	}
}

/* An operation prepared for the search. */
struct lin_sop {
	size_t idx;		/* history index */
	__u64 call, ret;	/* ret: LIN_PENDING if none */
	__u64 zob;		/* random bits for the placed-set hash */
};

struct lin_ctx {
	const struct lin_history *h;
	const struct lin_options *o;
	struct lin_report *r;
	struct timespec deadline;
	int has_deadline;
	int out_of_budget;	/* set once time ran out */
};

/* An element no pop ever returns: see lin_priorities(). */
#define LIN_ANON (~0ULL)

static int lin_elem_match(const struct lin_ctx *c, const struct lin_op *op, struct lin_kv kv)
{
	if (kv.key == LIN_ANON && kv.value == LIN_ANON)
		return 0;
	switch (c->o->elem) {
	case LIN_ELEM_KEY:	return op->out_key == kv.key;
	case LIN_ELEM_VALUE:	return op->out_value == kv.value;
	default:		return op->out_key == kv.key && op->out_value == kv.value;
	}
}

/*
 * Apply op to the state if the sequential specification allows its
 * recorded result; return 1 and fill u (undo) if so.  A pending op has no
 * result: it takes effect however the specification says.
 */
static int lin_apply(const struct lin_ctx *c, struct lin_state *s, const struct lin_op *op,
		     int pending, int anon, struct lin_undo *u)
{
	struct lin_kv kv = { op->key, op->value };
	long long rc = op->rc;
	size_t pos, n = s->tail - s->head;
	int found;

	u->kind = LIN_U_NONE;
	if (pending && op->op == DS_OP_SEARCH)
		return 1;	/* cut off by a window: nothing to check */
	if (s->model == LIN_MODEL_SET) {
		switch (op->op) {
		case DS_OP_INSERT:
			pos = lin_set_find(s, op->key, &found);
			if (found)
				return pending || rc == DS_ERROR_EXISTS;
			if (!pending && rc != DS_SUCCESS)
				return 0;
			lin_set_add(s, pos, kv, u);
			return 1;
		case DS_OP_DELETE:
			pos = lin_set_find(s, op->key, &found);
			if (!found)
				return pending || rc == DS_ERROR_NOT_FOUND;
			if (!pending && rc != DS_SUCCESS)
				return 0;
			lin_set_del(s, pos, u);
			return 1;
		case DS_OP_SEARCH:
			pos = lin_set_find(s, op->key, &found);
			if (!found)
				return rc == DS_ERROR_NOT_FOUND;
			return rc == DS_SUCCESS && op->out_value == s->buf[pos].value;
		case DS_OP_POP:
			if (!n)
				return pending || rc == DS_ERROR_NOT_FOUND;
			if (!pending && (rc != DS_SUCCESS || op->out_key != s->buf[0].key ||
					 op->out_value != s->buf[0].value))
				return 0;
			lin_set_del(s, 0, u);
			return 1;
		}
		return 0;
	}

	/* Queue (front = head) and stack (front = tail - 1). */
	switch (op->op) {
	case DS_OP_INSERT:
		if (!pending && rc != DS_SUCCESS)
			return 0;
		if (anon)
			kv.key = kv.value = LIN_ANON;
		lin_push(s, kv, u);
		return 1;
	case DS_OP_DELETE:
	case DS_OP_POP:
		if (!n)
			return pending || rc == DS_ERROR_NOT_FOUND;
		pos = s->model == LIN_MODEL_QUEUE ? s->head : s->tail - 1;
		/* An element some pop returns is removed by that pop. */
		if (s->anon && (op->op == DS_OP_DELETE || pending) &&
		    (s->buf[pos].key != LIN_ANON || s->buf[pos].value != LIN_ANON))
			return pending;
		if (!pending && (rc != DS_SUCCESS ||
				 (op->op == DS_OP_POP && !lin_elem_match(c, op, s->buf[pos]))))
			return 0;
		if (s->model == LIN_MODEL_QUEUE)
			lin_pop_head(s, u);
		else
			lin_pop_tail(s, u);
		return 1;
	case DS_OP_SEARCH:
		if (c->o->search == LIN_SEARCH_PEEK) {
			if (!n)
				return rc == DS_ERROR_NOT_FOUND;
			pos = s->model == LIN_MODEL_QUEUE ? s->head : s->tail - 1;
			return rc == DS_SUCCESS && op->out_value == s->buf[pos].value;
		}
		/* scan from the front */
		if (s->model == LIN_MODEL_QUEUE) {
			for (pos = s->head; pos < s->tail; pos++)
				if (s->buf[pos].key == op->key)
					return rc == DS_SUCCESS && op->out_value == s->buf[pos].value;
		} else {
			for (pos = s->tail; pos-- > 0;)
				if (s->buf[pos].key == op->key)
					return rc == DS_SUCCESS && op->out_value == s->buf[pos].value;
		}
		return rc == DS_ERROR_NOT_FOUND;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Memo: the set of (placed operations, state) pairs already explored   */

/*
 * The placed set is stored compactly: every operation before the first
 * unplaced one is placed and every one after the last placed one is not,
 * so only the words between them are kept.  States of up to
 * LIN_MEMO_EXACT elements are stored whole; longer ones by their two
 * independent 64-bit hashes (see docs/LINCHECK.md).
 */
#define LIN_MEMO_EXACT 8

struct lin_memo {
	__u64 *pool;		/* entries, back to back */
	size_t pool_n, pool_cap;
	size_t *slots;		/* pool offset + 1, 0 = empty */
	size_t nslots, count;
	size_t bytes;		/* current allocation */
};

static void lin_memo_free(struct lin_memo *m)
{
	free(m->pool);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static void lin_memo_reset(struct lin_memo *m)
{
	if (m->slots)
		memset(m->slots, 0, m->nslots * sizeof(*m->slots));
	m->pool_n = 0;
	m->count = 0;
}

/* Entry layout: [hash][h2][lo_word<<32 | nwords][nelem][words...][kv...]. */
static __u64 lin_memo_hash(__u64 zob, const struct lin_state *s)
{
	return lin_mix(zob ^ lin_mix(s->h1 + s->tail - s->head));
}

static int lin_memo_equal(const __u64 *e, __u64 hash, const struct lin_state *s,
			  const __u64 *bits, size_t lo, size_t nw)
{
	size_t n = s->tail - s->head;

	if (e[0] != hash || e[1] != s->h2 || e[2] != ((__u64)lo << 32 | nw) || e[3] != n)
		return 0;
	if (memcmp(&e[4], &bits[lo], nw * sizeof(__u64)))
		return 0;
	if (n <= LIN_MEMO_EXACT && memcmp(&e[4 + nw], &s->buf[s->head], n * sizeof(struct lin_kv)))
		return 0;
	return 1;
}

/* 1: added (new), 0: seen before, -1: out of memory or over the limit. */
static int lin_memo_add(struct lin_memo *m, size_t limit, __u64 zob, const struct lin_state *s,
			const __u64 *bits, size_t lo, size_t hi)
{
	__u64 hash = lin_memo_hash(zob, s);
	size_t nw = hi - lo + 1, n = s->tail - s->head, need, i;

	if (m->count * 2 >= m->nslots) {
		size_t ns = m->nslots ? m->nslots * 2 : 1024, *sl;

		if (limit && m->bytes + ns * sizeof(*sl) > limit)
			return -1;
		sl = calloc(ns, sizeof(*sl));
		if (!sl)
			return -1;
		for (i = 0; i < m->nslots; i++) {
			size_t off = m->slots[i], j;

			if (!off)
				continue;
			for (j = m->pool[off - 1] & (ns - 1); sl[j]; j = (j + 1) & (ns - 1))
				;
			sl[j] = off;
		}
		m->bytes += (ns - m->nslots) * sizeof(*sl);
		free(m->slots);
		m->slots = sl;
		m->nslots = ns;
	}
	for (i = hash & (m->nslots - 1); m->slots[i]; i = (i + 1) & (m->nslots - 1))
		if (lin_memo_equal(&m->pool[m->slots[i] - 1], hash, s, bits, lo, nw))
			return 0;
	need = 4 + nw + (n <= LIN_MEMO_EXACT ? 2 * n : 0);
	if (m->pool_n + need > m->pool_cap) {
		size_t nc = m->pool_cap ? m->pool_cap * 2 : 4096;
		__u64 *p;

		while (nc < m->pool_n + need)
			nc *= 2;
		if (limit && m->bytes + (nc - m->pool_cap) * sizeof(__u64) > limit)
			return -1;
		p = realloc(m->pool, nc * sizeof(__u64));
		if (!p)
			return -1;
		m->bytes += (nc - m->pool_cap) * sizeof(__u64);
		m->pool = p;
		m->pool_cap = nc;
	}
	{
		__u64 *e = &m->pool[m->pool_n];

		e[0] = hash;
		e[1] = s->h2;
		e[2] = (__u64)lo << 32 | nw;
		e[3] = n;
		memcpy(&e[4], &bits[lo], nw * sizeof(__u64));
		if (n <= LIN_MEMO_EXACT)
			memcpy(&e[4 + nw], &s->buf[s->head], n * sizeof(struct lin_kv));
	}
	m->slots[i] = m->pool_n + 1;
	m->pool_n += need;
	m->count++;
	return 1;
}

/* ------------------------------------------------------------------ */
/* The search                                                           */

static void lin_deadline_set(struct lin_ctx *c)
{
	double t = c->o->timeout_s;

	c->has_deadline = t > 0;
	if (!c->has_deadline)
		return;
	clock_gettime(CLOCK_MONOTONIC, &c->deadline);
	c->deadline.tv_sec += (time_t)t;
	c->deadline.tv_nsec += (long)((t - (double)(time_t)t) * 1e9);
	if (c->deadline.tv_nsec >= 1000000000L) {
		c->deadline.tv_sec++;
		c->deadline.tv_nsec -= 1000000000L;
	}
}

static int lin_time_up(struct lin_ctx *c)
{
	struct timespec now;

	if (c->out_of_budget)
		return 1;
	if (!c->has_deadline)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > c->deadline.tv_sec ||
	    (now.tv_sec == c->deadline.tv_sec && now.tv_nsec >= c->deadline.tv_nsec)) {
		c->out_of_budget = 1;
		snprintf(c->r->why, sizeof(c->r->why), "time limit (%.3g s) reached",
			 c->o->timeout_s);
		return 1;
	}
	return 0;
}

struct lin_ent {
	__u64 t;
	__u32 op;		/* index into the partition's ops */
	__u32 is_ret;
};

static int lin_ent_cmp(const void *a, const void *b)
{
	const struct lin_ent *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	/* A call at the same time as a response: treat them as concurrent. */
	if (x->is_ret != y->is_ret)
		return x->is_ret ? 1 : -1;
	return x->op < y->op ? -1 : x->op > y->op;
}

struct lin_frame {
	__u32 call_ent;		/* list entry of the placed call */
	__u32 cand;		/* its index in the candidate order */
	__u32 prev_max;		/* highest placed op before this one, +1 */
	struct lin_undo undo;
};

static int lin_u64_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* Pop outputs, to find which pop took an element (search order only). */
struct lin_took {
	__u64 elem;
	__u64 when;	/* call time of the pop */
};

static int lin_took_cmp(const void *a, const void *b)
{
	const struct lin_took *x = a, *y = b;

	if (x->elem != y->elem)
		return x->elem < y->elem ? -1 : 1;
	return x->when < y->when ? -1 : x->when > y->when;
}

static __u64 lin_elem_id(const struct lin_ctx *c, __u64 key, __u64 value)
{
	switch (c->o->elem) {
	case LIN_ELEM_KEY:	return key;
	case LIN_ELEM_VALUE:	return value;
	default:		return lin_mix(key ^ 0x51afd7ed558ccd35ULL) ^ value;
	}
}

/*
 * The order in which the operations that may go next are tried.  Any
 * order is correct; a good one finds a valid order without backtracking.
 * Sets: call order.  Queues and stacks: removals first (by call time),
 * then insertions in the order their elements were taken out (by the call
 * time of the pop that returned them): the queue's
 * element that left first goes in first, the stack's element that left
 * last goes in first.  Elements never taken out go last (queue) or first
 * (stack).
 *
 * Also a symmetry reduction (sets flags bit 1): when searches are not
 * checked, an element that no pop returns (dropped by a delete, or never
 * removed) is only ever counted, never looked at, so all such elements are
 * stored as one anonymous value.  States that differ only in the order of
 * anonymous elements then meet in the memo.  When inserted elements are
 * unique, *anon_removals is set: an element some pop returns can only be
 * removed by that pop, so deletes (and pending pops) take anonymous
 * elements only, which cuts wrong branches at once.
 */
static int lin_priorities(const struct lin_ctx *c, const struct lin_sop *ops, size_t n,
			  __u64 *prio, unsigned char *flags, int *anon_removals)
{
	struct lin_took *took;
	size_t i, nt = 0, nd = 0, kd = 0;
	int anon_ok = c->o->search == LIN_SEARCH_IGNORE;
	__u64 *dels;

	if (c->o->model == LIN_MODEL_SET) {
		for (i = 0; i < n; i++)
			prio[i] = i;
		return 0;
	}
	took = calloc(n + 1, sizeof(*took));
	dels = calloc(n + 1, sizeof(*dels));
	if (!took || !dels) {
		free(took);
		free(dels);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct lin_op *op = &c->h->ops[ops[i].idx];

		if (op->op == DS_OP_INSERT && op->key == LIN_ANON && op->value == LIN_ANON)
			anon_ok = 0;
		if (op->op == DS_OP_POP && op->rc == DS_SUCCESS && ops[i].ret != LIN_PENDING)
			took[nt++] = (struct lin_took){
				lin_elem_id(c, op->out_key, op->out_value), ops[i].call };
	}
	/* Element ids of inserts: are they unique? */
	for (i = 0; i < n; i++) {
		const struct lin_op *op = &c->h->ops[ops[i].idx];

		if (op->op == DS_OP_INSERT)
			dels[nd++] = lin_elem_id(c, op->key, op->value);
	}
	qsort(dels, nd, sizeof(*dels), lin_u64_cmp);
	*anon_removals = anon_ok;
	for (i = 1; i < nd; i++)
		if (dels[i] == dels[i - 1])
			*anon_removals = 0;
	nd = 0;
	qsort(took, nt, sizeof(*took), lin_took_cmp);
	/* Successful deletes (removals without output), in call order. */
	for (i = 0; i < n; i++) {
		const struct lin_op *op = &c->h->ops[ops[i].idx];

		if (op->op == DS_OP_DELETE && op->rc == DS_SUCCESS && ops[i].ret != LIN_PENDING)
			dels[nd++] = ops[i].call;
	}
	for (i = 0; i < n; i++) {
		const struct lin_op *op = &c->h->ops[ops[i].idx];
		size_t lo = 0, hi = nt;
		__u64 id, when;

		if (op->op != DS_OP_INSERT) {
			prio[i] = ops[i].call >> 1;
			continue;
		}
		id = lin_elem_id(c, op->key, op->value);
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (took[mid].elem < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* Elements no pop returned: guess that deletes took them in
		 * insertion order. */
		if (lo < nt && took[lo].elem == id) {
			when = took[lo].when >> 1;
		} else {
			if (anon_ok)
				flags[i] |= 2;
			when = kd < nd ? dels[kd++] >> 1 : LIN_PENDING >> 1;
		}
		if (c->o->model == LIN_MODEL_STACK)
			when = (LIN_PENDING >> 1) - when;
		prio[i] = (1ULL << 63) | when;
	}
	free(dels);
	free(took);
	return 0;
}

/*
 * Is the sub-history ops[0..n) (sorted by call time) linearizable?
 * Operations whose response is after cut (or missing) are treated as
 * pending.  Returns LIN_OK, LIN_FAIL or LIN_UNKNOWN.
 */
static int lin_search(struct lin_ctx *c, struct lin_memo *memo, const struct lin_sop *ops,
		      size_t n, __u64 cut)
{
	size_t ne = 2 * n, i, top = 0, nw = (n + 63) / 64, remaining = 0, bytes, nc, ci = 0;
	struct lin_ent *ent = calloc(ne + 1, sizeof(*ent));
	__u32 *next = calloc(ne + 2, sizeof(__u32)), *prev = calloc(ne + 2, sizeof(__u32));
	__u32 *ret_of = calloc(n + 1, sizeof(__u32)), *cand = calloc(n + 1, sizeof(__u32));
	__u64 *bits = calloc(nw + 1, sizeof(__u64)), *prio = calloc(n + 1, sizeof(__u64));
	struct lin_frame *stack = calloc(n + 1, sizeof(*stack));
	struct lin_kv *buf = calloc(n + 1, sizeof(*buf));
	unsigned char *pend = calloc(n + 1, 1);
	struct lin_state s = { .model = c->o->model, .buf = buf, .cap = n };
	__u64 zob = 0, steps = 0;
	__u32 maxp1 = 0, e;
	int res = LIN_UNKNOWN;

	bytes = (ne + 1) * sizeof(*ent) + 2 * (ne + 2) * sizeof(__u32) +
		(n + 1) * (2 * sizeof(__u32) + sizeof(__u64)) + (nw + 1) * 8 +
		(n + 1) * (sizeof(*stack) + sizeof(*buf) + 1);
	if (!ent || !next || !prev || !ret_of || !cand || !bits || !prio || !stack || !buf ||
	    !pend || lin_priorities(c, ops, n, prio, pend, &s.anon)) {
		snprintf(c->r->why, sizeof(c->r->why), "out of memory");
		goto out;
	}
	if (c->o->mem_limit && bytes > c->o->mem_limit) {
		snprintf(c->r->why, sizeof(c->r->why), "memory limit (%zu bytes) reached",
			 c->o->mem_limit);
		goto out;
	}
	lin_memo_reset(memo);

	/* Entries 1..ne in time order; 0 is the list head. */
	ne = 0;
	for (i = 0; i < n; i++) {
		pend[i] |= ops[i].ret == LIN_PENDING || ops[i].ret > cut;
		if (!(pend[i] & 1))
			remaining++;
		ent[ne++] = (struct lin_ent){ ops[i].call, (__u32)i, 0 };
		ent[ne++] = (struct lin_ent){ pend[i] & 1 ? LIN_PENDING : ops[i].ret, (__u32)i, 1 };
	}
	qsort(ent, ne, sizeof(*ent), lin_ent_cmp);
	memmove(ent + 1, ent, ne * sizeof(*ent));
	for (i = 0; i <= ne; i++) {
		next[i] = i == ne ? 0 : (__u32)(i + 1);
		prev[i] = i == 0 ? (__u32)ne : (__u32)(i - 1);
		if (i && ent[i].is_ret)
			ret_of[ent[i].op] = (__u32)i;
	}

	while (remaining) {
		if ((++steps & 1023) == 0 && lin_time_up(c))
			goto out;
		/*
		 * Candidates: the calls listed before the first response
		 * (the list always starts with a call: a response leaves
		 * with its call).  Recomputed after backtracking too: the
		 * list is then exactly as it was, so is the order.
		 */
		nc = 0;
		for (e = next[0]; e && !ent[e].is_ret; e = next[e]) {
			size_t j = nc++;
			__u32 oe = ent[e].op;

			while (j && (prio[ent[cand[j - 1]].op] > prio[oe] ||
				     (prio[ent[cand[j - 1]].op] == prio[oe] &&
				      ent[cand[j - 1]].op > oe))) {
				cand[j] = cand[j - 1];
				j--;
			}
			cand[j] = e;
		}
		for (; ci < nc; ci++) {
			const struct lin_sop *so;
			struct lin_undo u;
			size_t lo, hi;
			__u32 oi, lo_ent;
			int added;

			e = cand[ci];
			oi = ent[e].op;
			so = &ops[oi];
			if (!lin_apply(c, &s, &c->h->ops[so->idx], pend[oi] & 1, pend[oi] & 2, &u))
				continue;
			bits[oi / 64] |= 1ULL << (oi % 64);
			zob ^= so->zob;
			/*
			 * Words of the placed set worth storing: from the first
			 * unplaced op (the first call still listed) to the last
			 * placed one.
			 */
			hi = (maxp1 > oi + 1 ? maxp1 - 1 : oi) / 64;
			lo_ent = next[0];
			if (lo_ent == e) {
				lo_ent = next[e];
				if (lo_ent == ret_of[oi])
					lo_ent = next[lo_ent];
			}
			lo = lo_ent && !ent[lo_ent].is_ret ? ent[lo_ent].op / 64 : hi;
			if (lo > hi)
				lo = hi;
			added = lin_memo_add(memo, c->o->mem_limit, zob, &s, bits, lo, hi);
			if (added < 0) {
				snprintf(c->r->why, sizeof(c->r->why),
					 c->o->mem_limit ? "memory limit (%zu bytes) reached" :
					 "out of memory", c->o->mem_limit);
				goto out;
			}
			if (added) {
				stack[top].call_ent = e;
				stack[top].cand = (__u32)ci;
				stack[top].prev_max = maxp1;
				stack[top].undo = u;
				top++;
				if (oi + 1 > maxp1)
					maxp1 = oi + 1;
				/* Unlink the call and its response. */
				next[prev[e]] = next[e];
				prev[next[e]] = prev[e];
				next[prev[ret_of[oi]]] = next[ret_of[oi]];
				prev[next[ret_of[oi]]] = prev[ret_of[oi]];
				if (!(pend[oi] & 1))
					remaining--;
				break;
			}
			bits[oi / 64] &= ~(1ULL << (oi % 64));
			zob ^= so->zob;
			lin_undo(&s, &u);
		}
		if (ci < nc) {
			ci = 0;		/* placed one: fresh candidates */
			continue;
		}
		/* Nothing can go next: take the last placed op back. */
		if (!top) {
			res = LIN_FAIL;
			goto out;
		}
		top--;
		e = stack[top].call_ent;
		{
			__u32 oi = ent[e].op;

			lin_undo(&s, &stack[top].undo);
			bits[oi / 64] &= ~(1ULL << (oi % 64));
			zob ^= ops[oi].zob;
			maxp1 = stack[top].prev_max;
			/* Relink response, then call (reverse order of unlinking). */
			next[prev[ret_of[oi]]] = ret_of[oi];
			prev[next[ret_of[oi]]] = ret_of[oi];
			next[prev[e]] = e;
			prev[next[e]] = e;
			if (!(pend[oi] & 1))
				remaining++;
		}
		ci = stack[top].cand + 1;
	}
	res = LIN_OK;
out:
	c->r->steps += steps;
	c->r->memo_entries += memo->count;
	if (bytes + memo->bytes > c->r->peak_mem)
		c->r->peak_mem = bytes + memo->bytes;
	free(ent);
	free(next);
	free(prev);
	free(ret_of);
	free(cand);
	free(bits);
	free(prio);
	free(stack);
	free(buf);
	free(pend);
	return res;
}

/* ------------------------------------------------------------------ */
/* Preparing partitions and the top level                              */

static int lin_usable(const struct lin_options *o, const struct lin_op *op)
{
	int pending = op->ret_ns == LIN_PENDING;

	if (op->op < DS_OP_INSERT || op->op > DS_OP_POP)
		return 0;
	if (op->op == DS_OP_SEARCH &&
	    (pending || (o->model != LIN_MODEL_SET && o->search == LIN_SEARCH_IGNORE)))
		return 0;
	if (pending)
		return 1;
	/* Results that leave the structure unchanged whatever its state. */
	switch (op->rc) {
	case DS_SUCCESS:
	case DS_ERROR_NOT_FOUND:
	case DS_ERROR_EXISTS:
		return 1;
	case DS_ERROR_FULL:
	case DS_ERROR_NOMEM:
	case DS_ERROR_BUSY:
	case DS_ERROR_INVALID:
	case DS_ERROR_CORRUPT:
		return 0;
	default:
		return 1;	/* unknown code: the model rejects it */
	}
}

static int lin_sop_cmp_key(const void *a, const void *b, void *arg)
{
	const struct lin_history *h = arg;
	const struct lin_sop *x = a, *y = b;
	__u64 kx = h->ops[x->idx].key, ky = h->ops[y->idx].key;

	if (kx != ky)
		return kx < ky ? -1 : 1;
	if (x->call != y->call)
		return x->call < y->call ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int lin_sop_cmp_call(const void *a, const void *b, void *arg)
{
	const struct lin_sop *x = a, *y = b;

	(void)arg;
	if (x->call != y->call)
		return x->call < y->call ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}


/* Shortest failing prefix of a failing partition, by binary search over its
 * response times (a prefix of a linearizable history is linearizable, so
 * failure is monotone in the cut).  Fills the report's window. */
static void lin_minimise(struct lin_ctx *c, struct lin_memo *memo, const struct lin_sop *ops,
			 size_t n, int has_key, __u64 key)
{
	__u64 *rets = calloc(n + 1, sizeof(__u64)), cut;
	size_t nr = 0, lo, hi, i, w;
	int minimal = 0;

	if (!rets)
		return;
	for (i = 0; i < n; i++)
		if (ops[i].ret != LIN_PENDING)
			rets[nr++] = ops[i].ret;
	qsort(rets, nr, sizeof(*rets), lin_u64_cmp);
	/* Invariant: the cut at rets[hi] fails; below lo nothing is known
	 * to fail. */
	lo = 0;
	hi = nr ? nr - 1 : 0;
	if (!c->o->no_minimise) {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int res = lin_search(c, memo, ops, n, rets[mid]);

			if (res == LIN_FAIL) {
				hi = mid;
			} else if (res == LIN_OK) {
				lo = mid + 1;
			} else {
				c->out_of_budget = 0;	/* keep what we have */
				c->r->why[0] = 0;
				break;
			}
		}
		minimal = lo == hi;
	}
	cut = nr ? rets[hi] : LIN_PENDING;
	for (i = 0, w = 0; i < n; i++)
		if (ops[i].call <= cut)
			w++;
	if (c->r->window && c->r->window_n <= w) {
		free(rets);
		return;	/* an earlier partition gave a smaller window */
	}
	free(c->r->window);
	c->r->window = calloc(w + 1, sizeof(size_t));
	if (!c->r->window) {
		c->r->window_n = 0;
		free(rets);
		return;
	}
	c->r->window_n = 0;
	c->r->culprit = ops[0].idx;
	for (i = 0; i < n; i++) {
		if (ops[i].call > cut)
			continue;
		c->r->window[c->r->window_n++] = ops[i].idx;
		if (ops[i].ret == cut)
			c->r->culprit = ops[i].idx;
	}
	c->r->window_cut_ns = cut;
	c->r->window_minimal = minimal;
	c->r->has_key = has_key;
	c->r->fail_key = key;
	c->r->partition_n = n;
	free(rets);
}

void lincheck_options_init(struct lin_options *o, int model)
{
	memset(o, 0, sizeof(*o));
	o->model = model;
	o->search = LIN_SEARCH_IGNORE;
	o->elem = LIN_ELEM_BOTH;
	o->timeout_s = 60;
	o->mem_limit = (size_t)1 << 30;
	o->max_minimise = 8;
}

static double lin_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int lincheck_check(const struct lin_history *h, const struct lin_options *opt,
		   struct lin_report *r)
{
	struct lin_options o = *opt;
	struct lin_memo memo = { 0 };
	struct lin_ctx c = { .h = h, .o = &o, .r = r };
	struct lin_sop *ops;
	size_t i, n = 0, start, minimised = 0;
	int has_pop = 0;
	double t_start = lin_now();

	memset(r, 0, sizeof(*r));
	r->ops_total = h->n;
	if (o.model < 0)
		o.model = h->model;
	if (o.model < 0)
		o.model = LIN_MODEL_SET;
	if (o.search < 0)
		o.search = h->search >= 0 ? h->search : LIN_SEARCH_IGNORE;
	if (o.elem < 0)
		o.elem = h->elem >= 0 ? h->elem : LIN_ELEM_BOTH;
	if (!o.max_minimise)
		o.max_minimise = 8;
	r->model = o.model;
	if (o.model >= LIN_MODEL_MAX || o.search >= LIN_SEARCH_MAX || o.elem >= LIN_ELEM_MAX) {
		r->result = LIN_ERROR;
		snprintf(r->why, sizeof(r->why), "bad options");
		return r->result;
	}
	if (h->n >= UINT32_MAX / 2) {
		r->result = LIN_ERROR;
		snprintf(r->why, sizeof(r->why), "history too long");
		return r->result;
	}
	lin_deadline_set(&c);
	r->t0_ns = h->n ? h->ops[0].call_ns : 0;
	ops = calloc(h->n + 1, sizeof(*ops));
	if (!ops) {
		r->result = LIN_UNKNOWN;
		snprintf(r->why, sizeof(r->why), "out of memory");
		return r->result;
	}
	for (i = 0; i < h->n; i++) {
		const struct lin_op *op = &h->ops[i];

		if (op->call_ns < r->t0_ns)
			r->t0_ns = op->call_ns;
		if (op->ret_ns != LIN_PENDING && op->ret_ns < op->call_ns) {
			r->result = LIN_ERROR;
			snprintf(r->why, sizeof(r->why),
				 "operation %zu returns before it is called", i);
			free(ops);
			return r->result;
		}
		if (op->ret_ns == LIN_PENDING)
			r->ops_pending++;
		if (!lin_usable(&o, op)) {
			r->ops_ignored++;
			continue;
		}
		if (op->op == DS_OP_POP)
			has_pop = 1;
		ops[n].idx = i;
		ops[n].call = op->call_ns;
		ops[n].ret = op->ret_ns;
		ops[n].zob = lin_mix(i * 0x9e3779b97f4a7c15ULL + 0x1234567ULL) | 1;
		n++;
	}
	r->ops_checked = n;
	r->partitioned = o.model == LIN_MODEL_SET && !has_pop && !o.no_partition;
	qsort_r(ops, n, sizeof(*ops), r->partitioned ? lin_sop_cmp_key : lin_sop_cmp_call,
		(void *)h);

	r->result = LIN_OK;
	for (start = 0; start < n;) {
		size_t end = start + 1;
		__u64 key = h->ops[ops[start].idx].key;
		int res;

		if (r->partitioned)
			while (end < n && h->ops[ops[end].idx].key == key)
				end++;
		else
			end = n;
		r->partitions++;
		/* Each partition's placed-set hash uses its own op indices. */
		for (i = start; i < end; i++)
			ops[i].zob = lin_mix((i - start) * 0x9e3779b97f4a7c15ULL + 0x1234567ULL) | 1;
		res = lin_time_up(&c) ? LIN_UNKNOWN :
		      lin_search(&c, &memo, ops + start, end - start, LIN_PENDING - 1);
		if (res == LIN_FAIL) {
			r->partitions_done++;
			if (r->partitions_failed < LIN_MAX_FAIL_KEYS)
				r->fail_keys[r->partitions_failed] = key;
			r->partitions_failed++;
			r->fail_keys_n = r->partitions_failed;
			if (minimised < o.max_minimise) {
				minimised++;
				lin_minimise(&c, &memo, ops + start, end - start,
					     r->partitioned, key);
			}
		} else if (res == LIN_OK) {
			r->partitions_done++;
		} else {
			r->partitions_unknown++;
			if (!r->why[0])
				snprintf(r->why, sizeof(r->why), "search budget ran out");
			/* Without a deadline (memory limit only) go on with the
			 * other partitions: one may still fail. */
		}
		start = end;
	}
	if (r->partitions_failed)
		r->result = LIN_FAIL;
	else if (r->partitions_unknown)
		r->result = LIN_UNKNOWN;
	if (r->result != LIN_UNKNOWN)
		r->why[0] = 0;
	if (r->fail_keys_n > LIN_MAX_FAIL_KEYS)
		r->fail_keys_n = r->partitions_failed;
	lin_memo_free(&memo);
	free(ops);
	r->elapsed_s = lin_now() - t_start;
	return r->result;
}

void lincheck_report_free(struct lin_report *r)
{
	free(r->window);
	r->window = NULL;
	r->window_n = 0;
}

static void lin_print_op(FILE *f, const struct lin_history *h, const struct lin_report *r,
			 size_t idx)
{
	const struct lin_op *o = &h->ops[idx];
	char cbuf[32], res[64], args[64], end[32];
	const char *rc = lincheck_rc_str(o->rc);

	lincheck_ctx_str(o->ctx, cbuf, sizeof(cbuf));
	if (o->op == DS_OP_INSERT)
		snprintf(args, sizeof(args), "%llu=%llu", (unsigned long long)o->key,
			 (unsigned long long)o->value);
	else if (o->op == DS_OP_POP)
		snprintf(args, sizeof(args), "-");
	else
		snprintf(args, sizeof(args), "%llu", (unsigned long long)o->key);
	if (o->ret_ns == LIN_PENDING || o->ret_ns > r->window_cut_ns)
		snprintf(res, sizeof(res), "(pending)");
	else if (o->rc == DS_SUCCESS && o->op == DS_OP_POP)
		snprintf(res, sizeof(res), "success %llu=%llu", (unsigned long long)o->out_key,
			 (unsigned long long)o->out_value);
	else if (o->rc == DS_SUCCESS && o->op == DS_OP_SEARCH)
		snprintf(res, sizeof(res), "success =%llu", (unsigned long long)o->out_value);
	else if (rc[0] == '?')
		snprintf(res, sizeof(res), "rc %lld", (long long)o->rc);
	else
		snprintf(res, sizeof(res), "%s", rc);
	if (o->ret_ns == LIN_PENDING)
		snprintf(end, sizeof(end), "-");
	else
		snprintf(end, sizeof(end), "%llu", (unsigned long long)(o->ret_ns - r->t0_ns));
	fprintf(f, "  %c %-6s %-7s %-22s %-26s %14llu %14s\n", idx == r->culprit ? '>' : ' ',
		cbuf, lin_op_str(o->op), args, res,
		(unsigned long long)(o->call_ns - r->t0_ns), end);
}

void lincheck_report_print(FILE *f, const struct lin_history *h, const struct lin_report *r,
			   size_t max_lines)
{
	size_t i, from = 0;

	fprintf(f, "lincheck: %s (model %s, %zu ops: %zu checked, %zu ignored, %zu pending; ",
		lincheck_result_str(r->result), lincheck_model_str(r->model), r->ops_total,
		r->ops_checked, r->ops_ignored, r->ops_pending);
	if (r->partitioned)
		fprintf(f, "%zu key partitions", r->partitions);
	else
		fprintf(f, "one partition");
	fprintf(f, "; %llu steps, %llu states, peak %zu KiB, %.3f s)\n", r->steps,
		r->memo_entries, r->peak_mem / 1024, r->elapsed_s);
	if (r->result == LIN_UNKNOWN || r->result == LIN_ERROR)
		fprintf(f, "  %s: %s (%zu of %zu partitions decided)\n",
			r->result == LIN_ERROR ? "error" : "unknown", r->why, r->partitions_done,
			r->partitions);
	if (r->result != LIN_FAIL)
		return;
	if (r->partitioned) {
		fprintf(f, "  %zu of %zu keys have no valid order:", r->partitions_failed,
			r->partitions);
		for (i = 0; i < r->fail_keys_n && i < LIN_MAX_FAIL_KEYS; i++)
			fprintf(f, " %llu", r->fail_keys[i]);
		fprintf(f, "%s\n", r->partitions_failed > LIN_MAX_FAIL_KEYS ? " ..." : "");
	}
	if (!r->window)
		return;
	fprintf(f, "  smallest window: %zu op%s", r->window_n, r->window_n == 1 ? "" : "s");
	if (r->has_key)
		fprintf(f, " on key %llu", r->fail_key);
	fprintf(f, " (of %zu), no valid order once '>' returns%s\n", r->partition_n,
		r->window_minimal ? "; one response earlier there is one" : "");
	fprintf(f, "    %-6s %-7s %-22s %-26s %14s %14s\n", "ctx", "op", "args", "result",
		"start(ns)", "end(ns)");
	if (max_lines && r->window_n > max_lines) {
		from = r->window_n - max_lines;
		/* The culprit may have started long before the ops shown:
		 * never cut it off. */
		for (i = 0; i < from; i++)
			if (r->window[i] == r->culprit)
				lin_print_op(f, h, r, r->window[i]);
		fprintf(f, "    ... %zu earlier operations\n", from);
	}
	for (i = from; i < r->window_n; i++)
		lin_print_op(f, h, r, r->window[i]);
}
