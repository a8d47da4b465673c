# SPDX-License-Identifier: GPL-2.0
# libarena-ds build, in the libbpf-bootstrap manner: BPF objects with clang,
# skeletons with bpftool, userspace with the system libbpf.  Generated files
# go to $(OUTPUT); `skeleton` lands at the repository root.

# SANITIZE=1: the arena sanitizer mode (docs/GUIDE.md, "Sanitizer mode"),
# built apart in build/san; the driver is ./skeleton-san.
ifeq ($(SANITIZE),1)
OUTPUT ?= build/san
SKEL_BIN ?= skeleton-san
SAN_CFLAGS := -DARENA_SANITIZE
endif
OUTPUT ?= build
SKEL_BIN ?= skeleton
CLANG ?= $(shell for c in clang-21 clang-20 clang-19 clang; do command -v $$c >/dev/null && { echo $$c; break; }; done)
CC ?= cc
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
ARCH ?= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/;s/ppc64le/powerpc/;s/riscv64/riscv/;s/s390x/s390/')
PAGE_SIZE := $(shell getconf PAGESIZE)

INCLUDES := -Iinclude -I$(OUTPUT) -Isrc
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -DARENA_PAGE_SIZE=$(PAGE_SIZE) \
	-Wall -Wno-unused-function -Werror $(INCLUDES) $(SAN_CFLAGS) $(EXTRA_BPF_CFLAGS)
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -DARENA_PAGE_SIZE=$(PAGE_SIZE) $(INCLUDES) \
	$(SAN_CFLAGS)
LIBBPF_LIBS = $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
LDLIBS += $(LIBBPF_LIBS) -lpthread -lm

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

HEADERS := $(wildcard include/*.h) include/ds_registry.def $(OUTPUT)/ds_registry_includes.h
BPF_APPS := $(SKEL_BIN)
APPS := $(SKEL_BIN)

.SECONDARY: $(OUTPUT)/skeleton.bpf.o $(OUTPUT)/probe.bpf.o
.PHONY: all deps clean test test-quick test-stress test-verify bench bench-alloc run check-env
all: deps $(APPS)

# Install what is missing (quiet and quick when everything is there).
deps:
	$(Q)./scripts/install-deps.sh

$(OUTPUT):
	$(Q)mkdir -p $@

$(OUTPUT)/ds_registry_includes.h: include/ds_registry.def | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)sed -n 's/^DS_REGISTER(\([a-z0-9_]*\)).*/#include "ds_\1.h"/p' $< > $@.tmp && mv $@.tmp $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(OUTPUT)/%.bpf.o: src/%.bpf.c $(HEADERS) $(wildcard src/*.h) $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $(@:.bpf.o=.tmp.bpf.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.bpf.o=.tmp.bpf.o)

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

SKELETON_OBJS := $(OUTPUT)/skeleton.o $(OUTPUT)/driver_kern.o $(OUTPUT)/runner.o $(OUTPUT)/report.o \
	$(OUTPUT)/history.o $(OUTPUT)/lincheck.o $(OUTPUT)/relay.o

$(OUTPUT)/%.o: src/%.c $(HEADERS) $(wildcard src/*.h) $(OUTPUT)/skeleton.skel.h $(OUTPUT)/probe.skel.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(SKEL_BIN): $(SKELETON_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

run: all
	./$(SKEL_BIN)

-include tests/tests.mk
-include bench/bench.mk
-include bench/alloc.mk
-include tools/tools.mk
-include scripts/vmtest.mk

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) $(APPS) skeleton-san $(TEST_BINS) bench/results.json
