# SPDX-License-Identifier: GPL-2.0
# `make bench`: the benchmark harness.  bench/bench.bpf.c is linked with
# libarena-ds.bpf.o into its object and skeleton, bench/bench.c with
# libarena-ds.a into $(OUTPUT)/bench/bench; bench/run.py runs it and writes
# the table, bench/results.json and bench/throughput.svg.
# BENCH_QUICK=1: short runs.

BENCH_OUT := $(OUTPUT)/bench
BENCH_BIG := $(BENCH_OUT)/big
BENCH_BIG_DEF := -DDS_HASH_BUCKETS=262144
BENCH_LIBS := -lck $(shell pkg-config --libs liburcu liburcu-cds 2>/dev/null || echo -lurcu -lurcu-common -lurcu-cds)

.PHONY: bench bench-build

# bench_variant(dir, library BPF object, library archive, extra flags)
define bench_variant
$(1)/bench.tmp.o: bench/bench.bpf.c $(OUTPUT)/vmlinux.h $(REGISTRY_INC)
	$$(call msg,BPF,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CLANG) $$(BPF_CFLAGS) $(4) -Ilib -Ibench -c $$< -o $$@

$(1)/bench.bpf.o: $(1)/bench.tmp.o $(2)
	$$(call msg,GEN-OBJ,$$@)
	$$(Q)$$(BPFTOOL) gen object $$@ $$^

$(1)/bench: bench/bench.c $(1)/bench.skel.h $(BENCH_OUT)/graph.skel.h $(3)
	$$(call msg,BINARY,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $(4) -I$(1) -I$(BENCH_OUT) -Ibench $$< -o $$@ $(3) $$(LDLIBS) $$(BENCH_LIBS)
endef
$(eval $(call bench_variant,$(BENCH_OUT),$(LIB_BPF),$(LIB_A),))

# The same harness with the arena hash sized like the BPF map at the large
# key range (DS_HASH_BUCKETS = 262144 instead of the default 4096): the
# library built again with that size; only the large-range hash figures are
# taken from it.
$(eval $(call lib_variant,big,$(BENCH_BIG_DEF)))
BIG_BPF_OBJS := $(patsubst lib/%.c,$(OUTPUT)/lib/bpf-big/%.o,$(LIB_BPF_SRCS))
$(OUTPUT)/lib/bpf-big/%.o: lib/%.c $(OUTPUT)/vmlinux.h $(REGISTRY_INC)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(BENCH_BIG_DEF) -Ilib -c $< -o $@
$(OUTPUT)/lib/bpf-big/libarena-ds.bpf.o: $(BIG_BPF_OBJS)
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^
$(eval $(call bench_variant,$(BENCH_BIG),$(OUTPUT)/lib/bpf-big/libarena-ds.bpf.o,$(OUTPUT)/lib/big/libarena-ds.a,$(BENCH_BIG_DEF)))

# The kernel's bpf_rbtree_* / bpf_list_* peers: their own object (no arena).
$(BENCH_OUT)/graph.tmp.o: bench/graph.bpf.c bench/bench.h $(OUTPUT)/vmlinux.h $(REGISTRY_INC)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $@
$(BENCH_OUT)/graph.bpf.o: $(BENCH_OUT)/graph.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

bench-build: $(BENCH_OUT)/bench $(BENCH_BIG)/bench

# tests/cli/test_bench.sh runs the plan and a quick figure or two: the
# bench is built by `make test` too, so a change that breaks it shows.
test-build: $(BENCH_OUT)/bench

# `make bench` runs the allocator benchmark (bench/alloc.mk) last; with
# BENCH_QUICK=1 on fewer pairs and the minimum of runs.  DS=<name>: only
# that structure (and the peers it is compared with).
bench: deps
	$(Q)$(MAKE) bench-build bench-alloc-build
	$(Q)$(if $(DS),BENCH_ONLY=$(DS)) python3 bench/run.py $(BENCH_OUT)/bench $(BENCH_BIG)/bench
	$(Q)$(MAKE) bench-alloc $(if $(BENCH_QUICK),ALLOC_BENCH_ARGS="--pairs 200000 --runs 3")

# Verifier work per program of the driver's object (instructions processed
# and verification time, as the kernel reports them).
$(BENCH_OUT)/verifier_stats: bench/verifier_stats.c
	$(call msg,BINARY,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

.PHONY: verifier-stats
verifier-stats: $(BENCH_OUT)/verifier_stats $(OUTPUT)/skeleton.bpf.o
	$(Q)$(BENCH_OUT)/verifier_stats $(OUTPUT)/skeleton.bpf.o
