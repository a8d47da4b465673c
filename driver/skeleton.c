// SPDX-License-Identifier: GPL-2.0
/*
 * skeleton - drive a libarena-ds structure from userspace threads, kernel
 * workers and kernel hooks at once; report, verify, check conservation.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <bpf/libbpf.h>

#include "skeleton.skel.h"
#include "report.h"
#include "history.h"
#include "relay.h"


#define MAX_THREADS 1024

enum wl_kind { WL_INSERT, WL_SEARCH, WL_DELETE, WL_MIXED, WL_RANGE, WL_RELAY, WL_MAX };
static const char *const wl_names[WL_MAX] = { "insert", "search", "delete", "mixed", "range",
					      "relay" };

/* -w relay without -o: no item limit, the run lasts -d seconds. */
#define RELAY_DEFAULT_OPS	1000000000000ULL

static struct env {
	struct run_cfg run;
	int workload;
	bool verify;
	bool stats;
	bool monitor;
	bool list_ds;
	enum hooks_mode hooks;
	__u64 arena_pages;
	const char *json;
	int json_fd;
	const char *history;
	__u64 capacity;		/* --capacity: hash table size at creation */
	bool ops_set;
	__u64 hook_budget;		/* 0: from the key range */
	__u64 op_budget;
	__u32 breaker;
} env = {
	.run = { .threads = 4, .ops = 1000, .key_range = 10000, .duration = 10,
		 .batch = 1000, .seed = 1, .pin = 64 },
	.workload = WL_MIXED,
	.stats = true,
	.json_fd = -1,
	.op_budget = 1 << 18,
	.breaker = 64,
};

/* Hook budget when --hook-budget is not given: a hook walks at most the
 * structure's elements (a list's hook keys sort last), capped so that no
 * hook run costs more than about a millisecond on a corrupted structure. */
#define SKEL_HOOK_BUDGET_MIN	4096
#define SKEL_HOOK_BUDGET_CAP	(1 << 16)
/* Seconds the workers get to return after the stop, before they are
 * reported stuck. */
#define SKEL_JOIN_GRACE		1.0
#define SKEL_JOIN_GRACE_MAX	30.0
/* Verify's loop budget in userspace: a walk of every node, not a cycle. */
#define SKEL_VERIFY_BUDGET	(1ULL << 26)

const char *argp_program_version = "skeleton (libarena-ds) 0.1";
error_t argp_err_exit_status = 2;
static const char doc[] =
"Drive a concurrent data structure in BPF arena memory from userspace threads,\n"
"kernel workers and kernel hooks at the same time.\n"
"\n"
"USAGE: skeleton [OPTION...]\n"
"\n"
"EXAMPLES:\n"
"  skeleton -t 4 -o 1000            # 4 threads x 1000 mixed ops on the list\n"
"  skeleton -t 8 -o 5000 -w insert  # insert-only workload\n"
"  skeleton -K -t 2 -o 100000 -v    # plus kernel workers, then verify\n"
"  skeleton -D help                 # the structures there are\n"
"  skeleton -m -d 5                 # print what kernel hooks produce for 5 s\n"
"  skeleton --json out.json -s      # also write the results as JSON\n"
"  skeleton -D list -K -t 2 -o 2000 -k 16 -v --history h.log\n"
"                                   # record, then check linearizability\n"
"  skeleton -D msqueue -w relay -d 5 -v\n"
"                                   # kernel -> threads -> kernel relay: latency per lane\n";

enum {
	OPT_SEED = 0x100, OPT_JSON, OPT_HOOKS, OPT_ARENA_PAGES, OPT_KWORKERS, OPT_BATCH,
	OPT_NO_STATS, OPT_HISTORY, OPT_HOOK_BUDGET, OPT_OP_BUDGET, OPT_BREAKER, OPT_CAPACITY,
	OPT_RATE, OPT_PIN,
};

static const struct argp_option opts[] = {
	{ "threads", 't', "N", 0, "Userspace threads (default 4; 0 with -K for kernel only)", 0 },
	{ "ops", 'o', "N", 0, "Operations per thread and per kernel worker (default 1000)", 0 },
	{ "keys", 'k', "N", 0, "Key range [0,N) (default 10000)", 0 },
	{ "duration", 'd', "SEC", 0, "Stop after SEC seconds at the latest (default 10)", 0 },
	{ "workload", 'w', "TYPE", 0, "insert, search, delete, mixed (default), range, or relay "
	  "(FIFO structures: kernel producers -> lane A -> threads -> lane B -> kernel consumers)", 0 },
	{ "verify", 'v', NULL, 0, "Verify the structure from both sides and check conservation", 0 },
	{ "stats", 's', NULL, 0, "Print statistics (default on)", 0 },
	{ "no-stats", OPT_NO_STATS, NULL, 0, "Do not print statistics", 0 },
	{ "kernel", 'K', NULL, 0, "Run kernel workers (SEC(\"syscall\") batches) alongside", 0 },
	{ "kworkers", OPT_KWORKERS, "N", 0, "Kernel workers with -K (default: number of CPUs)", 0 },
	{ "batch", OPT_BATCH, "N", 0, "Kernel operations per program run (default 1000)", 0 },
	{ "rate", OPT_RATE, "N", 0, "-w relay: offer N items per second in all (default 0: as fast as "
	  "they go), so latency is not queueing", 0 },
	{ "pin", OPT_PIN, "N", 0, "Threads run N operations per pinned EBR section "
	  "(arena_ebr_pin; default 64, 0 = each operation its own)", 0 },
	{ "ds", 'D', "NAME", 0, "Structure to drive (default list); 'help' lists them", 0 },
	{ "seed", OPT_SEED, "N", 0, "Seed of the key streams (default 1)", 0 },
	{ "json", OPT_JSON, "FILE", 0, "Write the results as JSON to FILE", 0 },
	{ "hooks", OPT_HOOKS, "MODE", 0, "Kernel hooks: auto (default), lsm, tp or off", 0 },
	{ "monitor", 'm', NULL, 0, "Print elements kernel hooks produce until -d or Ctrl-C", 0 },
	{ "arena-pages", OPT_ARENA_PAGES, "N", 0, "Arena size in pages (default 262144)", 0 },
	{ "capacity", OPT_CAPACITY, "N", 0, "hash: elements the table is sized for at creation "
	  "(default 4096); it grows and shrinks with the load from there", 0 },
	{ "history", 'L', "FILE", 0, "Record every operation of every context to FILE; "
	  "with -v also check the history for linearizability", 0 },
	{ "hook-budget", OPT_HOOK_BUDGET, "N", 0, "Loop steps one hook run may take "
	  "(default 4096 + 2 x keys, at most 65536); a spent budget answers BUSY", 0 },
	{ "op-budget", OPT_OP_BUDGET, "N", 0, "Loop steps one operation of a thread or kernel "
	  "worker may take (default 262144)", 0 },
	{ "breaker", OPT_BREAKER, "N", 0, "Hooks stop acting on the structure after N BUSY or "
	  "CORRUPT answers in a row (default 64; 0 never)", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show this help", 0 },
	{},
};

static int parse_u64(const char *s, __u64 min, __u64 max, __u64 *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	__u64 v;
	int i;

	switch (key) {
	case 't':
		if (parse_u64(arg, 0, MAX_THREADS, &v))
			argp_error(state, "-t wants a thread count from 0 to %d, not '%s'",
				   MAX_THREADS, arg);
		env.run.threads = v;
		break;
	case 'o':
		if (parse_u64(arg, 1, 1000000000000ULL, &v))
			argp_error(state, "-o wants a positive operation count, not '%s'", arg);
		env.run.ops = v;
		env.ops_set = true;
		break;
	case 'k':
		if (parse_u64(arg, 1, UINT_MAX, &v))
			argp_error(state, "-k wants a key range from 1 to %u, not '%s'", UINT_MAX, arg);
		env.run.key_range = v;
		break;
	case 'd':
		if (parse_u64(arg, 1, 86400, &v))
			argp_error(state, "-d wants seconds from 1 to 86400, not '%s'", arg);
		env.run.duration = v;
		break;
	case 'w':
		for (i = 0; i < WL_MAX; i++)
			if (!strcmp(arg, wl_names[i]))
				break;
		if (i == WL_MAX)
			argp_error(state, "-w: unknown workload '%s' (insert, search, delete, mixed, range, relay)",
				   arg);
		env.workload = i;
		break;
	case 'v':
		env.verify = true;
		break;
	case 's':
		env.stats = true;
		break;
	case OPT_NO_STATS:
		env.stats = false;
		break;
	case 'K':
		if (!env.run.kworkers)
			env.run.kworkers = -1;	/* resolved after parsing */
		break;
	case OPT_KWORKERS:
		if (parse_u64(arg, 1, 256, &v))
			argp_error(state, "--kworkers wants 1 to 256, not '%s'", arg);
		env.run.kworkers = v;
		break;
	case OPT_RATE:
		if (parse_u64(arg, 0, 100000000, &v))
			argp_error(state, "--rate wants 0 to 100000000 items per second, not '%s'", arg);
		env.run.rate = v;
		break;
	case OPT_PIN:
		if (parse_u64(arg, 0, 1000000, &v))
			argp_error(state, "--pin wants 0 to 1000000, not '%s'", arg);
		env.run.pin = v;
		break;
	case OPT_BATCH:
		if (parse_u64(arg, 1, 1000000, &v))
			argp_error(state, "--batch wants 1 to 1000000, not '%s'", arg);
		env.run.batch = v;
		break;
	case 'D':
		if (!strcmp(arg, "help")) {
			env.list_ds = true;
			break;
		}
		env.run.kind = ds_kind_by_name(arg);
		if (env.run.kind < 0)
			argp_error(state, "-D: unknown structure '%s' (see -D help)", arg);
		break;
	case OPT_SEED:
		if (parse_u64(arg, 0, ULLONG_MAX, &v))
			argp_error(state, "--seed wants a non-negative integer, not '%s'", arg);
		env.run.seed = v;
		break;
	case OPT_JSON:
		env.json = arg;	/* opened once the whole command line is good */
		break;
	case OPT_HOOK_BUDGET:
		if (parse_u64(arg, 16, 1ULL << 24, &v))
			argp_error(state, "--hook-budget wants 16 to %llu steps, not '%s'",
				   1ULL << 24, arg);
		env.hook_budget = v;
		break;
	case OPT_OP_BUDGET:
		if (parse_u64(arg, 16, 1ULL << 32, &v))
			argp_error(state, "--op-budget wants 16 to %llu steps, not '%s'",
				   1ULL << 32, arg);
		env.op_budget = v;
		break;
	case OPT_BREAKER:
		if (parse_u64(arg, 0, 1U << 30, &v))
			argp_error(state, "--breaker wants 0 to %u, not '%s'", 1U << 30, arg);
		env.breaker = v;
		break;
	case OPT_HOOKS:
		for (i = 0; i < 4; i++)
			if (!strcmp(arg, hooks_mode_names[i]))
				break;
		if (i == 4)
			argp_error(state, "--hooks: unknown mode '%s' (auto, lsm, tp, off)", arg);
		env.hooks = i;
		break;
	case 'm':
		env.monitor = true;
		break;
	case 'L':
		env.history = arg;	/* opened once the whole command line is good */
		break;
	case OPT_CAPACITY:
		if (parse_u64(arg, 1, DS_HASH_MAX_BUCKETS, &v))
			argp_error(state, "--capacity wants 1 to %u, not '%s'", DS_HASH_MAX_BUCKETS,
				   arg);
		env.capacity = v;
		break;
	case OPT_ARENA_PAGES:
		if (parse_u64(arg, 4, 1U << 20, &v))
			argp_error(state, "--arena-pages wants 4 to %u, not '%s'", 1U << 20, arg);
		env.arena_pages = v;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = { opts, parse_arg, NULL, doc, NULL, NULL, NULL };

/* A command line refused after parsing: the usage hint argp gives, exit 2. */
static void usage_hint(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", program_invocation_short_name);
}

static volatile sig_atomic_t signals_seen;
static volatile __u64 first_signal_ns;

/* The first SIGINT/SIGTERM ends the run (statistics, verify); another one
 * a second or more later ends the process at once (closing its descriptors
 * detaches the hooks).  Copies that come together (a wrapper such as
 * timeout(1) that signals the child and its process group) count once. */
static void on_signal(int sig)
{
	static const char msg[] = "\nskeleton: second signal: ending now\n";
	__u64 now = arena_now_ns();	/* clock_gettime: async-signal-safe */

	run_stop = 1;
	if (!signals_seen++) {
		first_signal_ns = now;
	} else if (now - first_signal_ns >= 1000000000ULL) {
		ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

		(void)n;
		_exit(128 + sig);
	}
}

/*
 * A worker that faults (a wild link planted in the arena, followed before
 * anything checked it) parks in the handler instead of killing the process:
 * the join then finds it stuck and the run ends with a FAIL that names the
 * address (end_stuck).  A fault in the main thread ends the process with
 * status 1 (its descriptors close, so the hooks detach).
 */
static volatile sig_atomic_t fault_seen;
static volatile unsigned long fault_addr;
static pid_t main_tid;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] = "skeleton: the main thread faulted on arena memory: "
				  "Verification: FAIL - corrupt\n";
	ssize_t n;

	(void)uc;
	fault_addr = (unsigned long)si->si_addr;
	fault_seen = sig;
	run_stop = 1;
	if (gettid() == main_tid) {
		n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)n;
		_exit(1);
	}
	for (;;)
		pause();
}

static void fault_net(void)
{
	struct sigaction sa = {};

	main_tid = gettid();
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* Open the --json and --history files: only after the command line was
 * accepted, so a rejected one truncates nothing.  0 or -1 after a line. */
static int open_outputs(void)
{
	int fd;

	if (env.json) {
		env.json_fd = open(env.json, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (env.json_fd < 0) {
			fprintf(stderr, "skeleton: --json: cannot write '%s': %s\n", env.json,
				strerror(errno));
			return -1;
		}
	}
	if (env.history) {
		fd = open(env.history, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			fprintf(stderr, "skeleton: --history: cannot write '%s': %s\n",
				env.history, strerror(errno));
			return -1;
		}
		close(fd);
	}
	return 0;
}

static void list_structures(void)
{
	const struct ds_metadata *md;
	int k;

	printf("%-10s %s\n", "NAME", "DESCRIPTION / PROGRESS GUARANTEE");
	for (k = 0; k < DS_KIND_MAX; k++) {
		md = ds_metadata_of(k);
		printf("%-10s %s\n%-10s   progress: %s\n", md->name, md->description, "",
		       md->progress);
	}
}

/* The operation mix of a workload, fitted to what the structure can do. */
static struct skel_mix workload_mix(int wl, const struct ds_metadata *md)
{
	struct skel_mix m = {};
	bool keyed = md->caps & DS_CAP_KEYED;

	switch (wl) {
	case WL_INSERT:
		m.insert = 100;
		break;
	case WL_SEARCH:
		if (!keyed)
			m.insert = 50, m.pop = 50;
		break;
	case WL_DELETE:
		m.delete = 100;
		break;
	case WL_RANGE:
		m.insert = 30;
		m.delete = 20;
		m.range = md->caps & DS_CAP_RANGE ? 10 : 0;
		break;
	default:
		/* The guide's mix: 50% insert, 30% search, 20% delete. */
		m.insert = 50;
		m.delete = 20;
		/* Queues and stacks: removals are pops, which return the
		 * element, so a recorded history can be checked. */
		if (!keyed)
			m.delete = 0, m.pop = 50;
	}
	if (!keyed && wl == WL_RANGE)
		m.range = 0;
	return m;
}

/*
 * The hash sizes itself (ds_hash.h): created with --capacity (re-initialised
 * here, before anything else runs on it) and grown to that size; during the
 * run the main thread's housekeeping finishes the resizes that kernel hooks
 * could only ask for (they cannot take pages).
 */
static __u32 hash_created;	/* buckets at creation */

static int hash_setup(void *head)
{
	struct ds_hash_head *h = head;
	int rc = DS_SUCCESS, i;

	if (env.run.kind != DS_KIND_hash)
		return 0;
	if (env.capacity)
		ds_hash_init_cap(h, env.capacity);
	for (i = 0; i < 4096; i++) {
		rc = ds_hash_maintain(h);
		if (rc != DS_ERROR_BUSY)
			break;
	}
	hash_created = h->nbuckets;
	if (rc != DS_SUCCESS) {
		fprintf(stderr, "skeleton: hash table of capacity %llu: %s\n",
			(unsigned long long)env.capacity, ds_strerror(rc));
		return -1;
	}
	return 0;
}

static void hash_housekeeping(void *head)
{
	if (env.run.kind == DS_KIND_hash)
		ds_hash_maintain(head);
}

/* The report's line on the table's size. */
static void hash_note(void *head, struct run_result *res)
{
	static char buf[200];
	struct ds_hash_head *h = head;

	if (env.run.kind != DS_KIND_hash)
		return;
	snprintf(buf, sizeof(buf), "Hash table: %u buckets, load factor %.2f (created with %u; "
		 "%s; %llu doublings, %llu halvings, largest %u)", h->nbuckets,
		 (double)ds_hash_count(h) / h->nbuckets, hash_created,
		 h->max_buckets > hash_created ? "grew" : "did not grow",
		 (unsigned long long)h->grows, (unsigned long long)h->shrinks, h->max_buckets);
	res->ds_note = buf;
}

/* search and delete workloads start from a half-full structure. */
static int prefill(struct run_result *res, void *head)
{
	struct ds_req r;
	__u64 k;
	int rc;

	if (env.workload != WL_SEARCH && env.workload != WL_DELETE)
		return 0;
	for (k = 0; k < env.run.key_range && !run_stop; k += 2) {
		memset(&r, 0, sizeof(r));
		r.op = DS_OP_INSERT;
		r.key = k;
		r.value = k * 2 + 1;
		rc = ds_dispatch(env.run.kind, head, &r);
		skel_count(&res->prefill, DS_OP_INSERT, rc);
		if (rc == DS_ERROR_NOMEM)
			break;
	}
	return 0;
}

#ifdef ARENA_SANITIZE
#include "san_plant.h"

/*
 * Test-only: SKELETON_SAN_PLANT=<user|kernel>-<kind> plants one memory bug
 * (san_plant.h) before the workers start.  san_plant_parse() reads it
 * before anything is loaded: 0, or -1 after one line on bad input.
 */
static struct san_plant_args plant;
static bool plant_kernel;

static int san_plant_parse(void)
{
	static const char *const names[SAN_PLANT_MAX] = SAN_PLANT_NAMES;
	const char *v = getenv("SKELETON_SAN_PLANT"), *kind;
	int i;

	if (!v || !*v)
		return 0;
	plant_kernel = !strncmp(v, "kernel-", 7);
	if (!plant_kernel && strncmp(v, "user-", 5))
		goto bad;
	kind = v + (plant_kernel ? 7 : 5);
	for (i = 1; i < SAN_PLANT_MAX && strcmp(kind, names[i]); i++)
		;
	if (i == SAN_PLANT_MAX)
		goto bad;
	plant.kind = i;
	return 0;
bad:
	fprintf(stderr, "skeleton: SKELETON_SAN_PLANT wants <user|kernel>-<overflow|underflow|"
		"uaf|double-free|invalid-free>, not '%s'\n", v);
	return -1;
}

static int san_plant_run(struct kern *k)
{
	static const char *const names[SAN_PLANT_MAX] = SAN_PLANT_NAMES;
	int err;

	if (!plant.kind)
		return 0;
	if (plant_kernel) {
		err = kern_run(k->skel->progs.san_plant_prog, &plant, sizeof(plant));
		if (err < 0)
			plant.rc = err;
	} else {
		plant.rc = san_plant(plant.kind);
	}
	if (plant.rc) {
		fprintf(stderr, "skeleton: planting the %s bug failed\n", names[plant.kind]);
		return -1;
	}
	printf("skeleton: planted bug: %s, from %s (SKELETON_SAN_PLANT)\n", names[plant.kind],
	       plant_kernel ? "the kernel" : "userspace");
	return 0;
}

/* -v: any sanitizer violation is a FAIL.  Returns 1 if clean. */
static int san_verdict(struct run_result *res)
{
	static const char *const names[ARENA_SAN_NR_KINDS] = ARENA_SAN_KIND_NAMES;
	size_t n;
	int k;

	if (!res->san.total)
		return 1;
	n = snprintf(res->verify_msg, sizeof(res->verify_msg), "sanitizer: %llu violations:",
		     (unsigned long long)res->san.total);
	for (k = 0; k < ARENA_SAN_NR_KINDS && n < sizeof(res->verify_msg); k++)
		if (res->san.count[k])
			n += snprintf(res->verify_msg + n, sizeof(res->verify_msg) - n, " %s=%llu",
				      names[k], (unsigned long long)res->san.count[k]);
	return 0;
}
#else
static int san_plant_parse(void)
{
	return 0;
}

static int san_plant_run(struct kern *k)
{
	(void)k;
	return 0;
}

static int san_verdict(struct run_result *res)
{
	(void)res;
	return 1;
}
#endif

static bool tty_out;

/* Test-only: SKELETON_TEST_INFLIGHT makes one hook run look in flight
 * forever (tests/cli/test_reliability.sh checks the bounded wait). */
static bool test_inflight;

/*
 * Test-only: SKELETON_TEST_PIN=<bpffs path> pins the arena map there and
 * prints the structure's head address, so a second process can map the
 * arena and corrupt a live structure (tests/cli/test_corrupt.sh).  The pin
 * is removed when the driver ends.
 */
static char test_pin[256];

static int test_pin_arena(struct kern *k, void *head)
{
	const char *p = getenv("SKELETON_TEST_PIN");
	int err;

	test_inflight = getenv("SKELETON_TEST_INFLIGHT") != NULL;
	if (!p || !*p)
		return 0;
	err = bpf_map__pin(k->skel->maps.arena, p);
	if (err) {
		fprintf(stderr, "skeleton: SKELETON_TEST_PIN: cannot pin the arena at %s: %s\n", p,
			strerror(-err));
		return -1;
	}
	snprintf(test_pin, sizeof(test_pin), "%s", p);
	printf("skeleton: test: arena pinned at %s, head %p, pages %u\n", p, head,
	       bpf_map__max_entries(k->skel->maps.arena));
	fflush(stdout);
	return 0;
}

/*
 * Smallest --arena-pages each structure starts in: measured (4 KiB pages,
 * `-t 1 -o 10 --hooks off`, by bisection) as the head, the allocator's
 * state, a first page of nodes and what init preallocates (btree and pq
 * take many pages at once).  Structures not listed: SKEL_MIN_PAGES_DEFAULT.
 */
#define SKEL_MIN_PAGES_DEFAULT 64
static const struct { const char *name; __u32 pages; } min_pages[] = {
	{ "list", 19 }, { "tree", 17 }, { "msqueue", 19 }, { "stack", 19 },
	{ "hash", 55 }, { "skiplist", 27 }, { "mpmc", 49 }, { "spsc", 33 },
	{ "deque", 33 }, { "btree", 1202 }, { "pq", 273 },
};

static int arena_pages_check(const struct ds_metadata *md)
{
	__u32 need = SKEL_MIN_PAGES_DEFAULT;
	size_t i;

	for (i = 0; i < sizeof(min_pages) / sizeof(min_pages[0]); i++)
		if (!strcmp(min_pages[i].name, md->name))
			need = min_pages[i].pages;
	if (!env.arena_pages || env.arena_pages >= need)
		return 0;
	fprintf(stderr, "skeleton: --arena-pages %llu is too small for %s: it needs at least %u "
		"pages\n", (unsigned long long)env.arena_pages, md->name, need);
	return -1;
}

static void progress(const struct run_result *res, double t0)
{
	const struct run_cfg *c = res->cfg;
	__u64 total = run_total_ops(c, res->w);
	__u64 done = run_progress(c, res->w);
	double el = arena_now_ns() / 1e9 - t0;

	if (!tty_out || el < 1.0)
		return;
	fprintf(stderr, "\r  %5.1fs  %llu/%llu ops (%.0f%%)  %.2f Mops/s   ", el,
		(unsigned long long)done, (unsigned long long)total,
		total ? 100.0 * done / total : 0.0, done / el / 1e6);
}

/* Keep the page reserve stocked for the non-sleepable hooks, and give
 * fully free pages back every SKEL_RECLAIM_EVERY calls. */
#define SKEL_RECLAIM_EVERY 10
#define SKEL_RECLAIM_MAX_RUNS 256
static void housekeeping(struct kern *k)
{
	static unsigned int calls;

	if (arena_reserve_pages() < SKEL_RESERVE_LOW)
		ds_user_refill(SKEL_RESERVE_TARGET);
	if (++calls % SKEL_RECLAIM_EVERY == 0) {
		/* The reclaimer runs in BPF, which cannot ask whether a
		 * thread still exists: guard words of dead ones first. */
		arena_reap_dead_guards();
		kern_reclaim(k, false);
	}
}

/* Everything stopped: flush the caches and return what is free (a second
 * run frees what the first quarantined, should a guard have been held). */
static void reclaim_all(struct kern *k)
{
	struct arena_stats s;
	int i, rc;

	/* A run sorts a bounded number of free objects and puts back a
	 * bounded number of parked ones: go on while runs still return pages
	 * or leave work for the next one. */
	for (i = 0; i < SKEL_RECLAIM_MAX_RUNS; i++) {
		rc = kern_reclaim(k, true);
		arena_stats_read(&s);
		if (rc <= 0 && i >= 2 && !s.reclaim_pending)
			break;
	}
}

/*
 * LIBARENA_TOUCH_RETURNED=1 (tests): read a page the allocator gave back to
 * the kernel, in this process (a fork()ed child cannot use the arena
 * mapping at all), under a SIGSEGV handler, and say what happened.  With
 * BPF_F_SEGV_ON_FAULT the read faults; without, the kernel quietly maps a
 * fresh zero page and the read "works".
 */
static sigjmp_buf uar_jmp;

static void uar_segv(int sig)
{
	siglongjmp(uar_jmp, sig);
}

static void uar_probe(void)
{
	const char *e = getenv("LIBARENA_TOUCH_RETURNED");
	struct sigaction sa = { .sa_handler = uar_segv }, old_segv, old_bus;
	volatile __u64 *p;
	volatile __u64 v = 0;
	int sig;

	if (!e || !atoi(e))
		return;
	p = (volatile __u64 *)arena_last_returned_page();
	if (!p) {
		printf("use-after-return probe: no page was given back\n");
		return;
	}
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	sig = sigsetjmp(uar_jmp, 1);
	if (!sig)
		v = *p;
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	if (sig)
		printf("use-after-return probe: returned page %p: the read faulted (%s)\n",
		       (void *)p, strsignal(sig));
	else
		printf("use-after-return probe: returned page %p: read without a fault (%llu)\n",
		       (void *)p, (unsigned long long)v);
}

/* Allocator, structure and reclamation state after the run. */
static void collect_state(struct run_result *res, void *head)
{
	struct arena_ebr *ebr = ds_ebr_of(env.run.kind, head);

	arena_stats_read(&res->mem);
	ds_get_stats(env.run.kind, head, &res->ds);
	res->has_ebr = ebr != NULL;
	if (ebr)
		arena_ebr_stats_read(ebr, &res->ebr);
}

/* The userspace verify of the structure at @head, on the verify budget (a
 * public call's budget is its own: arm it right before each). */
static int user_verify(void *head)
{
	struct ds_req r = { .op = DS_OP_VERIFY };

	arena_loop_arm(SKEL_VERIFY_BUDGET);
	return ds_dispatch(env.run.kind, head, &r);
}

/* Verify from userspace and from the kernel, then check conservation. */
static int verify_all(struct kern *k, struct run_result *res, void *head)
{
	const struct ds_metadata *md = ds_metadata_of(env.run.kind);
	struct skel_verify_args va = {};
	int urc, err, i;
	__s64 counted = 0;

	/* What the contexts say they added, and the counters' view, first:
	 * a FAIL below then still reports expected against found. */
	for (i = 0; i < env.run.threads + env.run.kworkers; i++)
		counted += counts_net(&res->w[i].counts);
	for (i = 0; i < SKEL_HOOK_MAX; i++)
		counted += counts_net(&res->hooks_c[i]);
	counted += counts_net(&res->prefill);
	res->expected = counted;
	res->has_expected = 1;
	arena_loop_arm(SKEL_VERIFY_BUDGET);
	collect_state(res, head);
	/* A walk of every node may take many steps; a cycle still ends. */
	arena_loop_arm(SKEL_VERIFY_BUDGET);
	if (ds_quiesce(env.run.kind, head)) {
		collect_state(res, head);
		snprintf(res->verify_msg, sizeof(res->verify_msg),
			 "retired nodes still held back after all contexts stopped "
			 "(%u records active, %llu stalls, last on record %d)",
			 res->ebr.active, (unsigned long long)res->ebr.stalls,
			 (int)res->ebr.stall_slot - 1);
		return 0;
	}
	collect_state(res, head);
	if (res->has_ebr && res->ebr.corrupt) {
		snprintf(res->verify_msg, sizeof(res->verify_msg),
			 "userspace verify: %s (EBR limbo list: %llu wild links, not followed)",
			 ds_strerror(DS_ERROR_CORRUPT), (unsigned long long)res->ebr.corrupt);
		return 0;
	}
	urc = user_verify(head);
	if (urc == DS_ERROR_BUSY) {
		snprintf(res->verify_msg, sizeof(res->verify_msg),
			 "userspace verify: corrupt (the walk did not end within %llu steps: a cycle?)",
			 SKEL_VERIFY_BUDGET);
		return 0;
	}
	if (urc != DS_SUCCESS) {
		snprintf(res->verify_msg, sizeof(res->verify_msg), "userspace verify: %s (%s)",
			 ds_strerror(urc), ds_corrupt_str(ds_verify_reason(env.run.kind, head)));
		return 0;
	}
	err = kern_run(k->skel->progs.ds_verify, &va, sizeof(va));
	/*
	 * BUSY from the kernel after the userspace walk above ended: the
	 * structure needs more steps than one BPF program run may take
	 * (may_goto's budget, a few million loop steps), not a cycle, which
	 * the userspace walk would have met.  Said, not failed.
	 */
	if (!err && va.rc == DS_ERROR_BUSY && user_verify(head) == DS_SUCCESS) {
		res->kernel_verify_partial = 1;
		va.rc = DS_SUCCESS;
	}
	if (err < 0 || va.rc != DS_SUCCESS) {
		snprintf(res->verify_msg, sizeof(res->verify_msg), "kernel verify: %s (%s)",
			 err < 0 ? strerror(-err) : va.rc == DS_ERROR_BUSY ?
			 "corrupt" : ds_strerror(va.rc),
			 va.rc == DS_ERROR_BUSY ? "the walk did not end: a cycle?" :
			 ds_corrupt_str(va.reason));
		return 0;
	}
	arena_san_stats_read(&res->san);	/* ds_verify has walked the free lists */
	if (!san_verdict(res))
		return 0;
	/* Pages back to the kernel, then walk every node again: a page given
	 * back under a live node would show here. */
	reclaim_all(k);
	uar_probe();
	urc = user_verify(head);
	if (urc != DS_SUCCESS) {
		snprintf(res->verify_msg, sizeof(res->verify_msg),
			 "userspace verify after page return: %s (%s)", ds_strerror(urc),
			 ds_corrupt_str(ds_verify_reason(env.run.kind, head)));
		return 0;
	}
	collect_state(res, head);
	if (counted != res->ds.current_elements) {
		snprintf(res->verify_msg, sizeof(res->verify_msg),
			 "conservation: contexts added %lld elements, structure holds %lld",
			 (long long)counted, (long long)res->ds.current_elements);
		return 0;
	}
	if (!(md->caps & DS_CAP_INLINE) &&
	    (__s64)res->mem.current != counted + (__s64)md->fixed_objects) {
		snprintf(res->verify_msg, sizeof(res->verify_msg),
			 "conservation: %lld elements but %lld allocator objects (expected %lld: "
			 "elements + %u fixed)",
			 (long long)counted, (long long)res->mem.current,
			 (long long)counted + md->fixed_objects, md->fixed_objects);
		return 0;
	}
	snprintf(res->verify_msg, sizeof(res->verify_msg),
		 "%s; inserts - deletes = %lld = elements%s",
		 res->kernel_verify_partial ?
		 "user verify ok, kernel verify ok as far as one BPF run's loop budget goes" :
		 "user + kernel verify ok",
		 (long long)counted, md->caps & DS_CAP_INLINE ? " (stored inline)" :
		 md->fixed_objects ? " = allocator current - fixed" : " = allocator current");
	return 1;
}

static const char *comm_of(__u32 pid, char *buf, size_t n)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, n, f)) {
		if (f)
			fclose(f);
		return "?";
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/* Monitor mode: pop and print what the hooks produce. */
static void monitor(struct kern *k, void *head, struct run_result *res)
{
	double t0 = arena_now_ns() / 1e9;
	struct ds_req r;
	char comm[32];
	__u64 n = 0;
	int rc;

	printf("%-8s %-16s %-20s %s\n", "PID", "COMM", "TIMESTAMP(ns)", "AGE(ms)");
	fflush(stdout);
	while (!run_stop && arena_now_ns() / 1e9 - t0 < env.run.duration) {
		memset(&r, 0, sizeof(r));
		r.op = DS_OP_POP;
		rc = ds_dispatch(env.run.kind, head, &r);
		skel_count(&res->prefill, DS_OP_POP, rc);
		if (rc == DS_SUCCESS) {
			__u32 pid = (__u32)(r.out_key & 0xffffffffU);

			printf("%-8u %-16s %-20llu %.1f\n", pid, comm_of(pid, comm, sizeof(comm)),
			       (unsigned long long)r.out_value,
			       (arena_now_ns() - r.out_value) / 1e6);
			fflush(stdout);
			n++;
			continue;
		}
		housekeeping(k);
		usleep(20000);
	}
	printf("monitor: %llu elements received\n", (unsigned long long)n);
}

/* Drainers (role structures) may run a little past -d to empty the
 * structure; everything else stops at -d. */
static double drain_grace(const struct worker *w)
{
	int i;

	for (i = 0; i < env.run.threads + env.run.kworkers; i++)
		if (w[i].drain)
			return 1.0;
	return 0.0;
}

/* How long the workers get to return after the stop: SKEL_JOIN_GRACE, or
 * three of the longest kernel batches seen (a worker finishes the batch it
 * is in; under emulation one takes seconds), at most SKEL_JOIN_GRACE_MAX. */
static double join_grace(void)
{
	double g = 3 * kern_run_max_s() + 0.5;

	if (g < SKEL_JOIN_GRACE)
		return SKEL_JOIN_GRACE;
	return g < SKEL_JOIN_GRACE_MAX ? g : SKEL_JOIN_GRACE_MAX;
}

/* Workers that did not return after the stop: say which, detach the hooks
 * and end the process (they still run, so nothing can be verified or
 * torn down under them).  Exit status 1. */
static void end_stuck(struct kern *k, struct worker *w, int stuck, double grace)
{
	int i;

	k->skel->bss->hooks_on = 0;
	if (k->attached)
		skeleton_bpf__detach(k->skel);
	fprintf(stderr, "skeleton: %d worker%s did not stop within %.1f s of the stop; "
		"ending without verify:\n", stuck, stuck > 1 ? "s" : "", grace);
	for (i = 0; i < env.run.threads + env.run.kworkers; i++)
		if (w[i].stuck)
			fprintf(stderr, "  stuck: %s %d (%s), %llu ops done\n",
				w[i].kernel ? "kernel worker" : "thread", w[i].id, w[i].role,
				(unsigned long long)__atomic_load_n(&w[i].done, __ATOMIC_RELAXED));
	if (fault_seen)
		printf("Verification: FAIL - corrupt: a worker faulted at %#lx following "
		       "an arena link (%s)\n", (unsigned long)fault_addr,
		       fault_seen == SIGBUS ? "SIGBUS" : "SIGSEGV");
	else
		printf("Verification: FAIL - run stuck: %d worker%s did not stop\n", stuck,
		       stuck > 1 ? "s" : "");
	fflush(stdout);
	fflush(stderr);
	if (test_pin[0])
		unlink(test_pin);
	_exit(1);
}

/* Hook runs still in flight after detach: wait (bounded) for them to end.
 * Returns 0, or -1 (after one line) if some never did. */
#define SKEL_DRAIN_WAIT_MS 2000
static int hooks_drain(struct kern *k)
{
	__s64 n = 0;
	int ms;

	for (ms = 0; ms <= SKEL_DRAIN_WAIT_MS; ms++) {
		n = __atomic_load_n(&k->skel->bss->hook_inflight, __ATOMIC_ACQUIRE);
		if (n <= 0)
			return 0;
		usleep(1000);
	}
	fprintf(stderr, "skeleton: %lld hook run%s still in flight %d ms after detach: "
		"hook counts may be incomplete\n", (long long)n, n > 1 ? "s" : "",
		SKEL_DRAIN_WAIT_MS);
	return -1;
}

/* What the hooks' loop budget and breaker did. */
static void breaker_report(struct kern *k)
{
	struct skeleton_bpf__bss *b = k->skel->bss;
	struct skeleton_bpf__data *d = k->skel->data;

	if (!b->hook_busy && !b->hook_tripped)
		return;
	printf("skeleton: hooks answered BUSY/CORRUPT %llu times (budget %llu steps per run)",
	       (unsigned long long)b->hook_busy, (unsigned long long)d->hook_budget);
	if (b->hook_tripped)
		printf("; breaker tripped after %u in a row: %llu hook runs skipped",
		       d->hook_breaker_limit, (unsigned long long)b->hook_skipped);
	printf("\n");
}

/* One run of the driver: what main()'s steps hand on to each other. */
struct session {
	const struct ds_metadata *md;
	struct kern k;
	void *head;
	struct worker *w;
	struct run_result res;
	struct relay_result relay;
};

/*
 * Step 1: the command line and what it implies, checked before anything is
 * loaded.  Returns -1 to go on, or the exit status (0 after -D help, 2 for
 * bad input, with one line said).
 */
static int configure(int argc, char **argv, struct session *s)
{
	const struct ds_metadata *md;
	int err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err || san_plant_parse())
		return 2;
	if (env.list_ds) {
		list_structures();
		return 0;
	}
	md = s->md = ds_metadata_of(env.run.kind);
	if (env.workload == WL_RELAY && !env.monitor) {
		/* Producers and consumers are always kernel programs: -K adds
		 * nothing, --kworkers N asks for N of each. */
		int producers = env.run.kworkers > 0 ? env.run.kworkers : 1;

		if (env.history) {
			fprintf(stderr, "skeleton: -w relay does not record histories (--history); "
				"it checks order and exactly-once itself with -v\n");
			return 2;
		}
		if (relay_check(md, env.run.threads, producers))
			return 2;
		env.run.kworkers = 2 * producers;
		env.hooks = HOOKS_OFF;
		if (!env.ops_set)
			env.run.ops = RELAY_DEFAULT_OPS;
	}
	if (env.run.kworkers < 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		env.run.kworkers = n > 0 ? (n < 8 ? n : 8) : 2;
	}
	if (!env.monitor && env.run.threads + env.run.kworkers == 0) {
		fprintf(stderr, "skeleton: nothing to run: -t 0 needs -K\n"
			"Try 'skeleton --help' for more information.\n");
		return 2;
	}
	if (env.monitor && !(md->caps & DS_CAP_POP)) {
		fprintf(stderr, "skeleton: -m needs a structure with pop; %s has none\n", md->name);
		return 2;
	}
	if (env.monitor) {
		/* The main thread is the only reader; no workers run. */
		env.run.threads = 0;
		env.run.kworkers = 0;
	}
	if (env.monitor && env.hooks == HOOKS_OFF) {
		fprintf(stderr, "skeleton: -m needs kernel hooks; drop --hooks off\n");
		return 2;
	}
	if (env.monitor && (md->caps & (DS_CAP_SPSC | DS_CAP_OWNER))) {
		/* Hooks insert from every CPU at once: not one producer, not
		 * one owner. */
		fprintf(stderr, "skeleton: -m cannot drive %s: hooks insert from every CPU, "
			"and %s allows %s; pick a multi-producer structure (e.g. -D msqueue)\n",
			md->name, md->name, md->caps & DS_CAP_SPSC ? "one producer only" :
			"inserts by its owner only");
		usage_hint();
		return 2;
	}
	if (env.run.rate && (env.workload != WL_RELAY || env.monitor)) {
		fprintf(stderr, "skeleton: --rate paces the relay's producers: use it with -w relay\n");
		usage_hint();
		return 2;
	}
	if (env.workload == WL_RANGE && !env.monitor && !(md->caps & DS_CAP_RANGE)) {
		fprintf(stderr, "skeleton: -w range: %s has no range operation "
			"(structures with range: see -D help)\n", md->name);
		usage_hint();
		return 2;
	}
	env.run.mix = workload_mix(env.workload, md);
	env.run.caps = md->caps;
	if ((md->caps & (DS_CAP_SPSC | DS_CAP_OWNER)) && !env.monitor) {
		/* Hooks would add producers the roles do not allow. */
		env.hooks = HOOKS_OFF;
		if (env.run.threads + env.run.kworkers < 2) {
			fprintf(stderr, "skeleton: %s needs two workers (e.g. -t 2, or -t 1 -K)\n",
				md->name);
			return 2;
		}
	}
	if (arena_pages_check(md) || open_outputs()) {
		usage_hint();
		return 2;
	}
	run_test_hang = getenv("SKELETON_TEST_HANG") != NULL;
	arena_loop_user_budget = env.op_budget;
	if (!env.hook_budget) {
		env.hook_budget = SKEL_HOOK_BUDGET_MIN + 2ULL * env.run.key_range;
		if (env.hook_budget > SKEL_HOOK_BUDGET_CAP)
			env.hook_budget = SKEL_HOOK_BUDGET_CAP;
	}
	return -1;
}

/*
 * Process-wide set-up before anything loads: the terminal, and the signals
 * (one that arrives while the programs load still ends the run with its
 * statistics) and the fault net.
 */
static void setup_process(void)
{
	tty_out = isatty(STDERR_FILENO) && isatty(STDOUT_FILENO);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fault_net();
}

/*
 * Step 2: open and load the BPF side (hooks chosen by what the kernel
 * allows), create the allocator and the structure, set the budgets.
 * Returns 0, or the exit status.
 */
static int load(struct session *s)
{
	const struct ds_metadata *md = s->md;
	struct kern *k = &s->k;
	int err;

	kern_want_relay(env.workload == WL_RELAY && !env.monitor);
	err = kern_load(k, env.run.kind, env.arena_pages, env.hooks);
	if (err)
		return err == -EOPNOTSUPP ? 2 : 1;	/* 2: --hooks lsm where LSM is refused */
	if (kern_init_ds(k, env.arena_pages))
		return 1;
	s->head = k->skel->bss->ds_head;
	k->skel->data->hook_budget = env.hook_budget;
	k->skel->data->op_budget = env.op_budget;
	k->skel->data->hook_breaker_limit = env.breaker;
	if (test_pin_arena(k, s->head) || hash_setup(s->head))
		return 1;
	s->res.cfg = &env.run;
	s->res.ds_name = md->name;
	s->res.workload = env.monitor ? "monitor" : wl_names[env.workload];
	s->res.hooks = hooks_mode_names[k->hooks];
	printf("skeleton: %s on %s, hooks: %s%s\n", md->name,
	       env.run.kworkers ? "userspace threads + kernel workers" : "userspace threads",
	       hooks_mode_names[k->hooks],
	       k->hooks == HOOKS_TP && env.hooks == HOOKS_AUTO ?
	       " (LSM programs refused by this kernel: tracepoint fallback)" : "");
	s->res.page_path = kern_page_path(k);
	printf("page alloc: %s\n", s->res.page_path);
	fflush(stdout);
	return 0;
}

/* Step 3: attach the hooks and switch them on.  Returns 0 or 1. */
static int attach(struct session *s)
{
	s->k.skel->data->hook_exit_delete = !env.monitor;
	if (kern_attach_hooks(&s->k))
		return 1;
	s->k.skel->bss->hooks_on = s->k.hooks != HOOKS_OFF;
	return 0;
}

/* Print who plays which role (role structures and the relay). */
static void print_roles(const struct worker *w)
{
	int n = env.run.threads + env.run.kworkers, i;

	printf("skeleton: roles:");
	for (i = 0; i < n; i++)
		printf("%s %s %d = %s", i ? "," : "",
		       w[i].kernel ? "kernel worker" : "thread", w[i].id, w[i].role);
	printf("\n");
	fflush(stdout);
}

/*
 * Step 4: the run itself: the monitor, or every worker until done (or -d,
 * or a signal), with housekeeping and progress meanwhile; then the hooks
 * off, detached and drained.  Returns 0, or 1 when something failed.
 */
static int run(struct session *s)
{
	struct run_result *res = &s->res;
	struct kern *k = &s->k;
	void *head = s->head;
	struct worker *w;
	int err, stuck, ret = 0, i;
	double grace;
	double t0 = arena_now_ns() / 1e9;

	if (env.monitor) {
		monitor(k, head, res);
	} else {
		prefill(res, head);
		if (san_plant_run(k))
			return -1;
		w = s->w = calloc(env.run.threads + env.run.kworkers, sizeof(*w));
		if (!w) {
			fprintf(stderr, "skeleton: out of memory\n");
			return -1;
		}
		res->w = w;
		run_assign_roles(&env.run, w);
		if (env.workload == WL_RELAY && relay_prepare(k, &env.run, w)) {
			fprintf(stderr, "skeleton: no arena memory for the relay's second lane and "
				"records (fewer -o, or a larger --arena-pages)\n");
			return -1;
		}
		if (env.history && history_prepare(k, &env.run, w)) {
			fprintf(stderr, "skeleton: no memory for the history buffers "
				"(fewer -o, or a larger --arena-pages)\n");
			return -1;
		}
		if ((env.run.caps & (DS_CAP_SPSC | DS_CAP_OWNER)) || env.workload == WL_RELAY)
			print_roles(w);
		err = run_start(&env.run, k, head, w);
		if (err)
			fprintf(stderr, "skeleton: starting threads failed: %s\n", strerror(-err));
		for (;;) {
			/* Every worker done (consumers drain after their
			 * producers), or the hard bound. */
			if (run_finished(&env.run, w) || run_stop ||
			    arena_now_ns() / 1e9 - t0 > env.run.duration + drain_grace(w))
				break;
			housekeeping(k);
			hash_housekeeping(head);
			progress(res, t0);
			usleep(10000);
		}
		run_stop = 1;
		grace = join_grace();
		stuck = run_join(&env.run, w, arena_now_ns() / 1e9 + grace);
		if (tty_out)
			fprintf(stderr, "\r%70s\r", "");
		if (stuck)
			end_stuck(k, w, stuck, grace);	/* does not return */
		if (err)
			return -1;
		for (i = 0; i < env.run.kworkers; i++)
			if (w[env.run.threads + i].error) {
				fprintf(stderr, "skeleton: kernel worker %d failed: %s\n", i,
					strerror(-w[env.run.threads + i].error));
				return -1;
			}
	}
	res->secs = arena_now_ns() / 1e9 - t0;

	/* Hooks off and detached, and every hook run that had started
	 * finished, before counting: nothing changes after. */
	k->skel->bss->hooks_on = 0;
	if (k->attached) {
		skeleton_bpf__detach(k->skel);
		k->attached = false;
	}
	if (test_inflight)
		__sync_fetch_and_add(&k->skel->bss->hook_inflight, 1);
	if (hooks_drain(k))
		ret = 1;
	kern_hook_counts(k, res->hooks_c);
	res->hook_direct_pages = k->skel->bss->hook_direct_pages;
	breaker_report(k);
	return ret;
}

/*
 * Step 5: histories, verify from both sides (or the relay's checks) and
 * conservation, then the report and the JSON.  Returns 0, or 1 when a
 * check failed.
 */
static int report(struct session *s)
{
	struct run_result *res = &s->res;
	struct kern *k = &s->k;
	struct worker *w = s->w;
	void *head = s->head;
	int err, ret = 0;

	if (env.history && w) {
		double cost;

		err = history_finish(k, &env.run, w, env.history, env.verify, &cost);
		if (err < 0 || (env.verify && err))
			ret = 1;
	}
	if (env.workload == WL_RELAY && w && !env.monitor) {
		arena_loop_arm(SKEL_VERIFY_BUDGET);	/* lanes are walked whole */
		relay_finish(k, &env.run, w, &s->relay);
		res->relay = &s->relay;
		if (env.verify) {
			res->verified = relay_verify(k, &env.run, &s->relay, res->verify_msg,
						     sizeof(res->verify_msg));
			if (!res->verified)
				ret = 1;
		}
		arena_stats_read(&res->mem);
		ds_get_stats(env.run.kind, head, &res->ds);
	} else if (env.verify) {
		res->verified = verify_all(k, res, head);
		if (!res->verified)
			ret = 1;
	} else {
		arena_loop_arm(SKEL_VERIFY_BUDGET);
		ds_quiesce(env.run.kind, head);
		reclaim_all(k);
		if (ARENA_SAN_ENABLED)
			arena_san_check_all();	/* all quiet: check the freed objects */
		collect_state(res, head);
	}
	arena_san_stats_read(&res->san);
	hash_note(head, res);
	if (env.stats)
		report_print(stdout, res);
	else if (res->verified >= 0)
		printf("Verification: %s%s%s\n", res->verified ? "PASS" : "FAIL",
		       res->verify_msg[0] ? " - " : "", res->verify_msg);
	if (env.json) {
		err = report_json(env.json, res);
		if (err) {
			fprintf(stderr, "skeleton: writing %s failed: %s\n", env.json, strerror(-err));
			ret = 1;
		}
	}
	return ret;
}

/* Step 6: nothing stays attached, loaded, pinned or open. */
static void cleanup(struct session *s)
{
	int i;

	if (test_pin[0])
		unlink(test_pin);
	if (s->k.skel)
		kern_destroy(&s->k);
	if (env.json_fd >= 0)
		close(env.json_fd);
	for (i = 0; s->w && i < env.run.threads; i++)
		free(s->w[i].hist);
	free(s->w);
}

/* The bootstrap lifecycle, one step a line. */
int main(int argc, char **argv)
{
	static struct session s = { .res = { .verified = -1 } };
	int ret;

	ret = configure(argc, argv, &s);
	if (ret >= 0)
		return ret;
	setup_process();
	ret = load(&s);
	if (!ret)
		ret = attach(&s);
	if (!ret) {
		ret = run(&s);
		ret = ret < 0 ? 1 : report(&s) | ret;
	}
	cleanup(&s);
	return ret;
}
