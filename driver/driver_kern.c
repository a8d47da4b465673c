// SPDX-License-Identifier: GPL-2.0
/*
 * driver_kern.c - load, probe, attach and run the BPF side of skeleton.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <libarena-ds/user.h>
#include "driver_kern.h"
#include "skeleton.skel.h"
#include "probe.skel.h"

const char *const hooks_mode_names[] = { "auto", "lsm", "tp", "off" };

/* libbpf's messages are kept, not printed: on failure we show the tail. */
#define LOGBUF_SIZE (64 * 1024)
static char logbuf[LOGBUF_SIZE];
static size_t loglen;
static bool log_verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int n;

	if (log_verbose && level != LIBBPF_DEBUG)
		return vfprintf(stderr, fmt, ap);
	if (loglen >= LOGBUF_SIZE - 256)
		loglen = 0;	/* keep the most recent part */
	n = vsnprintf(logbuf + loglen, LOGBUF_SIZE - loglen, fmt, ap);
	if (n > 0)
		loglen += (size_t)n < LOGBUF_SIZE - loglen ? (size_t)n : LOGBUF_SIZE - loglen - 1;
	return n;
}

static void log_reset(void)
{
	loglen = 0;
	logbuf[0] = 0;
}

/* Print the last @lines lines of what libbpf said. */
static void log_tail(int lines)
{
	char *p = logbuf + loglen;

	while (p > logbuf && lines > 0) {
		p--;
		if (*p == '\n' && p + 1 < logbuf + loglen)
			lines--;
	}
	if (*p == '\n')
		p++;
	fprintf(stderr, "%.*s", (int)(logbuf + loglen - p), p);
}

void kern_probe(struct kern_caps *caps)
{
	struct probe_bpf *p;

	memset(caps, 0, sizeof(*caps));
	libbpf_set_print(libbpf_log);

	p = probe_bpf__open();
	if (p) {
		bpf_program__set_autoload(p->progs.probe_tp_alloc, false);
		caps->lsm = probe_bpf__load(p) == 0;
		probe_bpf__destroy(p);
	}
	p = probe_bpf__open();
	if (p) {
		bpf_program__set_autoload(p->progs.probe_lsm, false);
		caps->tp_alloc = probe_bpf__load(p) == 0;
		probe_bpf__destroy(p);
	}
	log_reset();
}

const char *kern_page_path(const struct kern *k)
{
	return k->caps.tp_alloc ? "any context" : "reserve (sleepable-only kernel)";
}

static bool want_relay;

void kern_want_relay(bool on)
{
	want_relay = on;
}

static void set_hook_autoload(struct skeleton_bpf *s, enum hooks_mode m)
{
	bool lsm = m == HOOKS_LSM, tp = m == HOOKS_TP;

	bpf_program__set_autoload(s->progs.lsm_inode_create, lsm);
	bpf_program__set_autoload(s->progs.lsm_file_open, lsm);
	bpf_program__set_autoload(s->progs.lsm_task_free, lsm);
	bpf_program__set_autoload(s->progs.tp_openat, tp);
	bpf_program__set_autoload(s->progs.tp_process_exit, tp);
}

/* Explain a load failure in one line (plus the verifier's last words). */
static void explain_load_error(int err)
{
	if (strstr(logbuf, "failed to find valid kernel BTF") ||
	    strstr(logbuf, "kernel BTF is missing")) {
		fprintf(stderr, "skeleton: the kernel has no usable BTF (/sys/kernel/btf/vmlinux): "
			"CONFIG_DEBUG_INFO_BTF=y is needed\n");
		return;
	}
	if (strstr(logbuf, "map 'arena'") && strstr(logbuf, "failed to create")) {
		fprintf(stderr, "skeleton: the kernel cannot create BPF arena maps "
			"(needs Linux >= 6.9 with CONFIG_BPF_ARENA... %s)\n", strerror(-err));
		return;
	}
	if (strstr(logbuf, "-- BEGIN PROG LOAD LOG --")) {
		char name[64] = "?";
		char *p = strstr(logbuf, "prog '");

		if (p)
			sscanf(p, "prog '%63[^']'", name);
		fprintf(stderr, "skeleton: the verifier rejected program '%s' (%s); last lines of its log:\n",
			name, strerror(-err));
		log_tail(12);
		return;
	}
	if (err == -EPERM || err == -EACCES) {
		fprintf(stderr, "skeleton: BPF is not permitted here (%s): run as root "
			"(CAP_BPF + CAP_PERFMON + CAP_SYS_ADMIN)\n", strerror(-err));
		return;
	}
	fprintf(stderr, "skeleton: loading the BPF programs failed: %s\n", strerror(-err));
	log_tail(6);
}

int kern_load(struct kern *k, int kind, __u64 arena_pages, enum hooks_mode want)
{
	struct skeleton_bpf *s;
	int err;

	log_verbose = getenv("SKELETON_LIBBPF_DEBUG") != NULL;
	libbpf_set_print(libbpf_log);
	if (geteuid() != 0 && access("/sys/kernel/btf/vmlinux", R_OK) == 0) {
		/* Let the kernel decide (CAP_BPF may be enough), but most
		 * failures below are this. */
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		fprintf(stderr, "skeleton: the kernel has no BTF at /sys/kernel/btf/vmlinux "
			"(CONFIG_DEBUG_INFO_BTF=y is needed)\n");
		return -ENOENT;
	}
	memset(k, 0, sizeof(*k));
	kern_probe(&k->caps);
	switch (want) {
	case HOOKS_AUTO:
		k->hooks = k->caps.lsm ? HOOKS_LSM : HOOKS_TP;
		break;
	case HOOKS_LSM:
		if (!k->caps.lsm) {
			fprintf(stderr, "skeleton: --hooks lsm: this kernel refuses LSM BPF programs "
				"(BPF trampolines not permitted); use --hooks auto or tp\n");
			return -EOPNOTSUPP;
		}
		k->hooks = HOOKS_LSM;
		break;
	default:
		k->hooks = want;
	}

	s = skeleton_bpf__open();
	if (!s) {
		err = -errno;
		fprintf(stderr, "skeleton: cannot open the BPF object: %s\n", strerror(errno));
		return err;
	}
	s->rodata->ds_kind = kind;
	s->rodata->tp_may_alloc = k->caps.tp_alloc;
	s->rodata->own_tgid = getpid();
	if (arena_pages)
		bpf_map__set_max_entries(s->maps.arena, arena_pages);
	/* LIBARENA_SEGV_ON_FAULT=1 (tests): a userspace access to an arena
	 * page the kernel does not hold (one the allocator gave back) faults
	 * instead of silently mapping a fresh zero page.  Sanitizer builds
	 * have the flag compiled in. */
	if (getenv("LIBARENA_SEGV_ON_FAULT") && atoi(getenv("LIBARENA_SEGV_ON_FAULT")))
		bpf_map__set_map_flags(s->maps.arena,
				       bpf_map__map_flags(s->maps.arena) | BPF_F_SEGV_ON_FAULT);
	set_hook_autoload(s, k->hooks);
	/* Only a relay run pays for verifying the relay programs. */
	bpf_program__set_autoload(s->progs.relay_produce, want_relay);
	bpf_program__set_autoload(s->progs.relay_consume, want_relay);
	bpf_program__set_autoload(s->progs.relay_verify, want_relay);
	log_reset();
	err = skeleton_bpf__load(s);
	if (err) {
		explain_load_error(err);
		skeleton_bpf__destroy(s);
		return err;
	}
	k->skel = s;
	return 0;
}

static __u64 kern_run_max_ns;	/* the longest program run so far */

int kern_run(struct bpf_program *prog, void *ctx, size_t size)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = size);
	__u64 t0 = arena_now_ns(), d, m;
	int err;

	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	if (err)
		return -errno;
	d = arena_now_ns() - t0;
	m = __atomic_load_n(&kern_run_max_ns, __ATOMIC_RELAXED);
	while (d > m && !__atomic_compare_exchange_n(&kern_run_max_ns, &m, d, false,
						     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return (int)opts.retval;
}

double kern_run_max_s(void)
{
	return __atomic_load_n(&kern_run_max_ns, __ATOMIC_RELAXED) / 1e9;
}

int kern_reclaim(struct kern *k, bool flush)
{
	if (!k || !k->skel)
		return -EINVAL;
	return ds_user_reclaim(flush);
}

int kern_init_ds(struct kern *k, __u64 arena_pages)
{
	struct skel_init_args a = { .max_pages = arena_pages ? arena_pages : ARENA_MAX_PAGES };
	int err;

	err = kern_run(k->skel->progs.ds_init, &a, sizeof(a));
	if (err < 0) {
		fprintf(stderr, "skeleton: running ds_init failed: %s\n", strerror(-err));
		return err;
	}
	if (a.rc != DS_SUCCESS) {
		fprintf(stderr, "skeleton: creating the structure failed: %s\n", ds_strerror(a.rc));
		return -ENOMEM;
	}
	/* From here on userspace shares the allocator the kernel set up. */
	return ds_user_attach(k->skel->obj, SKEL_RESERVE_LOW);
}

int kern_attach_hooks(struct kern *k)
{
	int err;

	if (k->hooks == HOOKS_OFF)
		return 0;
	err = skeleton_bpf__attach(k->skel);
	if (err) {
		fprintf(stderr, "skeleton: attaching the %s hooks failed: %s%s\n",
			hooks_mode_names[k->hooks], strerror(-err),
			k->hooks == HOOKS_TP ? " (is tracefs mounted at /sys/kernel/tracing?)" : "");
		return err;
	}
	k->attached = true;
	return 0;
}

void kern_hook_counts(struct kern *k, struct skel_counts *out)
{
	int ncpu = libbpf_num_possible_cpus(), cpu, j;
	struct skel_counts *vals;
	__u32 src;

	memset(out, 0, sizeof(*out) * SKEL_HOOK_MAX);
	if (ncpu <= 0 || !k->skel)
		return;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return;
	for (src = 0; src < SKEL_HOOK_MAX; src++) {
		if (bpf_map__lookup_elem(k->skel->maps.hook_counts, &src, sizeof(src), vals,
					 sizeof(*vals) * ncpu, 0))
			continue;
		for (cpu = 0; cpu < ncpu; cpu++) {
			for (j = 0; j < 8; j++) {
				out[src].calls[j] += vals[cpu].calls[j];
				out[src].ok[j] += vals[cpu].ok[j];
				out[src].err[j] += vals[cpu].err[j];
			}
			out[src].miss += vals[cpu].miss;
		}
	}
	free(vals);
}

void kern_destroy(struct kern *k)
{
	ds_user_detach();
	/* Detaches every link and closes every program: nothing stays. */
	skeleton_bpf__destroy(k->skel);
	k->skel = NULL;
	k->attached = false;
}
