# SPDX-License-Identifier: GPL-2.0
# `make bench`: the benchmark harness (issue 7).  Builds bench/bench.bpf.c
# into its own BPF object and skeleton and bench/bench.c into
# $(OUTPUT)/bench/bench, then bench/run.py runs it and writes the table,
# bench/results.json and bench/throughput.svg.  BENCH_QUICK=1: short runs.

BENCH_OUT := $(OUTPUT)/bench
BENCH_BIG := $(BENCH_OUT)/big
BENCH_BIG_DEF := -DDS_HASH_BUCKETS=262144
BENCH_LIBS := -lck $(shell pkg-config --libs liburcu liburcu-cds 2>/dev/null || echo -lurcu -lurcu-common -lurcu-cds)

.PHONY: bench bench-build

$(BENCH_OUT):
	$(Q)mkdir -p $@

$(BENCH_OUT)/bench.bpf.o: bench/bench.bpf.c bench/bench.h $(HEADERS) $(OUTPUT)/vmlinux.h | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $(@:.bpf.o=.tmp.bpf.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.bpf.o=.tmp.bpf.o)

$(BENCH_OUT)/bench.skel.h: $(BENCH_OUT)/bench.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BENCH_OUT)/bench: bench/bench.c bench/bench.h bench/bench_user.h $(BENCH_OUT)/bench.skel.h $(BENCH_OUT)/graph.skel.h $(HEADERS) | $(BENCH_OUT)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BENCH_OUT) -Ibench $< -o $@ $(LDLIBS) $(BENCH_LIBS)

bench-build: $(BENCH_OUT)/bench $(BENCH_BIG)/bench

# `make bench` runs the allocator benchmark (bench/alloc.mk) last; with
# BENCH_QUICK=1 on fewer pairs and the minimum of runs.
bench: $(BENCH_OUT)/bench $(BENCH_BIG)/bench
	$(Q)python3 bench/run.py $(BENCH_OUT)/bench $(BENCH_BIG)/bench
	$(Q)$(MAKE) --no-print-directory bench-alloc \
		$(if $(BENCH_QUICK),ALLOC_BENCH_ARGS="--pairs 200000 --runs 3")

# The same harness with the arena hash sized like the BPF map at the large
# key range (DS_HASH_BUCKETS = 262144 instead of the default 4096): only
# the large-range hash figures are taken from it.

$(BENCH_BIG):
	$(Q)mkdir -p $@

$(BENCH_BIG)/bench.bpf.o: bench/bench.bpf.c bench/bench.h $(HEADERS) $(OUTPUT)/vmlinux.h | $(BENCH_BIG)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(BENCH_BIG_DEF) -Ibench -c $< -o $(@:.bpf.o=.tmp.bpf.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.bpf.o=.tmp.bpf.o)

$(BENCH_BIG)/bench.skel.h: $(BENCH_BIG)/bench.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BENCH_BIG)/bench: bench/bench.c bench/bench.h bench/bench_user.h $(BENCH_BIG)/bench.skel.h $(BENCH_OUT)/graph.skel.h $(HEADERS) | $(BENCH_BIG)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(BENCH_BIG_DEF) -I$(BENCH_BIG) -I$(BENCH_OUT) -Ibench $< -o $@ $(LDLIBS) $(BENCH_LIBS)

# The kernel's bpf_rbtree_* / bpf_list_* peers: their own object (no arena).
$(BENCH_OUT)/graph.bpf.o: bench/graph.bpf.c bench/bench.h $(HEADERS) $(OUTPUT)/vmlinux.h | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $(@:.bpf.o=.tmp.bpf.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.bpf.o=.tmp.bpf.o)

$(BENCH_OUT)/graph.skel.h: $(BENCH_OUT)/graph.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@
