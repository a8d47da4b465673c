# SPDX-License-Identifier: GPL-2.0
# `make bench-alloc`: the allocator benchmark (alloc+free pairs per second
# per context; kernel, userspace and glibc; caches on and off).
# bench/alloc_bench.bpf.c is linked with libarena-ds.bpf.o, alloc_bench.c
# with libarena-ds.a; it prints the table and writes
# bench/alloc_results.json.  ALLOC_BENCH_ARGS passes options (e.g.
# --pairs 500000 --runs 3).

ALLOC_OUT := $(OUTPUT)/bench-alloc

.PHONY: bench-alloc bench-alloc-build

$(ALLOC_OUT)/alloc_bench.tmp.o: bench/alloc_bench.bpf.c $(OUTPUT)/vmlinux.h $(REGISTRY_INC)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ilib -Ibench -c $< -o $@

$(ALLOC_OUT)/alloc_bench.bpf.o: $(ALLOC_OUT)/alloc_bench.tmp.o $(LIB_BPF)
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(ALLOC_OUT)/alloc_bench: bench/alloc_bench.c $(ALLOC_OUT)/alloc_bench.skel.h $(LIB_A)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) -Ilib -I$(ALLOC_OUT) -Ibench $< -o $@ $(LIB_A) $(LDLIBS)

bench-alloc-build: $(ALLOC_OUT)/alloc_bench

bench-alloc: deps
	$(Q)$(MAKE) bench-alloc-build
	$(Q)$(ALLOC_OUT)/alloc_bench --json bench/alloc_results.json $(ALLOC_BENCH_ARGS)
