// SPDX-License-Identifier: GPL-2.0
/*
 * verifier_stats.c - how much work the verifier does for each program of a
 * BPF object: load it with BPF_LOG_STATS and print, per program, the
 * instructions processed, the states and the verification time the kernel
 * reports.  Programs that cannot load here (LSM where trampolines are
 * refused) are left out and named.  `make verifier-stats` runs it on the
 * driver's object.
 *
 * USAGE: verifier_stats OBJECT.bpf.o [RODATA_INT_NAME=VALUE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#define LOG_SIZE (1 << 20)

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l; (void)f; (void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long insns, total_insns = 0, usec, total_usec = 0;
	struct bpf_object *obj;
	struct bpf_program *p;
	char *logs[256];
	int n = 0, i, err;

	if (argc < 2) {
		fprintf(stderr, "usage: verifier_stats OBJECT.bpf.o\n");
		return 2;
	}
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "verifier_stats: cannot open %s\n", argv[1]);
		return 2;
	}
	bpf_object__for_each_program(p, obj) {
		const char *sec = bpf_program__section_name(p);

		/* Trampoline programs cannot load everywhere; relay programs
		 * only with -w relay: leave both out, like the driver does. */
		if (!strncmp(sec, "lsm", 3) || !strncmp(sec, "fentry", 6) ||
		    !strncmp(bpf_program__name(p), "relay_", 6) ||
		    !strncmp(bpf_program__name(p), "san_", 4) || n >= 256) {
			bpf_program__set_autoload(p, false);
			continue;
		}
		logs[n] = calloc(1, LOG_SIZE);
		bpf_program__set_log_buf(p, logs[n], LOG_SIZE);
		bpf_program__set_log_level(p, 4);	/* BPF_LOG_STATS */
		n++;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "verifier_stats: loading %s failed: %d\n", argv[1], err);
		return 1;
	}
	printf("%-24s %12s %10s\n", "program", "insns", "usec");
	i = 0;
	bpf_object__for_each_program(p, obj) {
		char *s;

		if (!bpf_program__autoload(p))
			continue;
		s = strstr(logs[i], "processed ");
		insns = usec = 0;
		if (s)
			sscanf(s, "processed %llu insns", &insns);
		s = strstr(logs[i], "verification time ");
		if (s)
			sscanf(s, "verification time %llu usec", &usec);
		printf("%-24s %12llu %10llu\n", bpf_program__name(p), insns, usec);
		total_insns += insns;
		total_usec += usec;
		free(logs[i++]);
	}
	printf("%-24s %12llu %10llu\n", "TOTAL", total_insns, total_usec);
	bpf_object__close(obj);
	return 0;
}
