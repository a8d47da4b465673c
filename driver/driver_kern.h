/* SPDX-License-Identifier: GPL-2.0 */
/*
 * driver_kern.h - the kernel half of the driver, seen from userspace:
 * probe what the kernel allows, open/load/attach the BPF skeleton, run its
 * SEC("syscall") programs, and tear everything down.
 */
#ifndef __DRIVER_KERN_H
#define __DRIVER_KERN_H

#include <stdbool.h>
#include "skeleton.h"

struct bpf_program;
struct skeleton_bpf;

enum hooks_mode { HOOKS_AUTO = 0, HOOKS_LSM, HOOKS_TP, HOOKS_OFF };

struct kern_caps {
	bool lsm;		/* sleepable LSM programs load */
	bool tp_alloc;		/* tracepoints may take arena pages */
};

struct kern {
	struct skeleton_bpf *skel;
	struct kern_caps caps;
	enum hooks_mode hooks;	/* in force after kern_load() */
	bool attached;
};

extern const char *const hooks_mode_names[];

/* Fill @caps by loading tiny probe programs.  Never fails hard. */
void kern_probe(struct kern_caps *caps);

/* The page path the non-sleepable hooks use on this kernel, for reports:
 * "any context" or "reserve (sleepable-only kernel)". */
const char *kern_page_path(const struct kern *k);

/* Load the relay programs (-w relay) too; call before kern_load(). */
void kern_want_relay(bool on);

/* Open and load the skeleton for structure @kind; pick the hook set.
 * Prints one clear line and returns negative on failure. */
int kern_load(struct kern *k, int kind, __u64 arena_pages, enum hooks_mode want);

/* Create the allocator and the structure (ds_init). */
int kern_init_ds(struct kern *k, __u64 arena_pages);

/* Attach the hook programs of the mode in force (no-op for HOOKS_OFF). */
int kern_attach_hooks(struct kern *k);

/* Run a SEC("syscall") program with @ctx as its context; returns its
 * retval or a negative errno. */
int kern_run(struct bpf_program *prog, void *ctx, size_t size);
/* The longest kern_run() so far, in seconds (a slow or emulated machine's
 * batches take long: the driver's stop grace follows it). */
double kern_run_max_s(void);

/* Run libarena_reclaim: give fully free pages back to the kernel (@flush:
 * empty idle caches first).  Returns pages returned or a negative errno. */
int kern_reclaim(struct kern *k, bool flush);

/* Sum the per-CPU hook counters into @out[SKEL_HOOK_MAX]. */
void kern_hook_counts(struct kern *k, struct skel_counts *out);

void kern_destroy(struct kern *k);

#endif /* __DRIVER_KERN_H */
