# SPDX-License-Identifier: GPL-2.0
# `make bench-alloc`: the allocator benchmark (alloc+free pairs per second
# per context; kernel, userspace and glibc; caches on and off).  Builds
# bench/alloc_bench.bpf.c into its own BPF object and skeleton and
# bench/alloc_bench.c into $(OUTPUT)/bench-alloc/alloc_bench, runs it, prints
# the table and writes bench/alloc_results.json.  ALLOC_BENCH_ARGS passes
# options (e.g. --pairs 500000 --runs 3).

ALLOC_OUT := $(OUTPUT)/bench-alloc

.PHONY: bench-alloc bench-alloc-build

$(ALLOC_OUT):
	$(Q)mkdir -p $@

$(ALLOC_OUT)/alloc_bench.bpf.o: bench/alloc_bench.bpf.c bench/alloc_bench.h $(HEADERS) $(OUTPUT)/vmlinux.h | $(ALLOC_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $(@:.bpf.o=.tmp.bpf.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.bpf.o=.tmp.bpf.o)

$(ALLOC_OUT)/alloc_bench.skel.h: $(ALLOC_OUT)/alloc_bench.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(ALLOC_OUT)/alloc_bench: bench/alloc_bench.c bench/alloc_bench.h bench/bench_user.h $(ALLOC_OUT)/alloc_bench.skel.h $(HEADERS) | $(ALLOC_OUT)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) -I$(ALLOC_OUT) -Ibench $< -o $@ $(LDLIBS)

bench-alloc-build: $(ALLOC_OUT)/alloc_bench

bench-alloc: deps $(ALLOC_OUT)/alloc_bench
	$(Q)$(ALLOC_OUT)/alloc_bench --json bench/alloc_results.json $(ALLOC_BENCH_ARGS)
