# SPDX-License-Identifier: GPL-2.0
# libarena-ds build, in the libbpf-bootstrap manner.
#
#   lib/        the library: compiled once into $(OUTPUT)/libarena-ds.bpf.o
#               (global BPF functions, joined with `bpftool gen object`) and
#               into $(OUTPUT)/libarena-ds.a / .so (userspace)
#   driver/     the skeleton driver, a client of the library like any other
#   lincheck/   the linearizability checker and its standalone tool
#   tests/ bench/ examples/   more clients (their own .mk files)
#
# `make` builds; it never installs packages.  `make run` and `make test`
# first run scripts/install-deps.sh (quiet when nothing is missing).
# SANITIZE=1: the arena sanitizer mode, built apart in build/san; the driver
# is ./skeleton-san.

ifeq ($(SANITIZE),1)
OUTPUT ?= build/san
SKEL_BIN ?= skeleton-san
SAN_CFLAGS := -DARENA_SANITIZE
endif
OUTPUT ?= build
SKEL_BIN ?= skeleton
CLANG ?= $(shell for c in clang-21 clang-20 clang-19 clang; do command -v $$c >/dev/null && { echo $$c; break; }; done)
CC ?= cc
AR ?= ar
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
ARCH ?= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/;s/ppc64le/powerpc/;s/riscv64/riscv/;s/s390x/s390/')
PAGE_SIZE := $(shell getconf PAGESIZE)
NPROC := $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
VERSION := 0.3.0

# Parallel by default (make NPROC=1 for a serial build); sub-makes share
# the top level's job slots.
ifeq ($(MAKELEVEL),0)
MAKEFLAGS += -j$(NPROC)
endif
MAKEFLAGS += --no-print-directory
.DELETE_ON_ERROR:

GEN_INC := $(OUTPUT)/include
INCLUDES := -Iinclude -I$(GEN_INC) -I$(GEN_INC)/libarena-ds
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -DARENA_PAGE_SIZE=$(PAGE_SIZE) \
	-Wall -Wno-unused-function -Werror -MMD -MP $(INCLUDES) -I$(OUTPUT) $(SAN_CFLAGS) $(EXTRA_BPF_CFLAGS)
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -DARENA_PAGE_SIZE=$(PAGE_SIZE) -MMD -MP \
	$(INCLUDES) $(SAN_CFLAGS)
LIBBPF_LIBS = $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
LDLIBS += $(LIBBPF_LIBS) -lpthread -lm

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all deps clean test test-quick test-stress test-verify bench bench-alloc run lib \
	install uninstall soak
all: lib $(SKEL_BIN) $(OUTPUT)/lincheck

# Install what is missing (quiet and quick when everything is there).
deps:
	$(Q)./scripts/install-deps.sh

$(OUTPUT) $(GEN_INC)/libarena-ds:
	$(Q)mkdir -p $@

# ------------------------------------------------------------------ library
# One #include per registered structure (include/libarena-ds/registry.def).
REGISTRY_INC := $(GEN_INC)/libarena-ds/registry_includes.h
$(REGISTRY_INC): include/libarena-ds/registry.def | $(GEN_INC)/libarena-ds
	$(call msg,GEN,$@)
	$(Q)sed -n 's|^DS_REGISTER(\([a-z0-9_]*\)).*|#include <libarena-ds/ds_\1.h>|p' $< > $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

LIB_DS_SRCS := $(wildcard lib/ds_*.c)
LIB_BPF_SRCS := lib/alloc.c lib/ebr.c $(LIB_DS_SRCS)
LIB_USER_SRCS := lib/alloc.c lib/ebr.c $(LIB_DS_SRCS) lib/standalone.c lib/user.c
LIB_BPF_OBJS := $(patsubst lib/%.c,$(OUTPUT)/lib/bpf/%.o,$(LIB_BPF_SRCS))
LIB_BPF := $(OUTPUT)/libarena-ds.bpf.o
LIB_A := $(OUTPUT)/libarena-ds.a
LIB_SO := $(OUTPUT)/libarena-ds.so

$(OUTPUT)/lib/bpf/%.o: lib/%.c $(OUTPUT)/vmlinux.h $(REGISTRY_INC)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ilib -c $< -o $@

$(LIB_BPF): $(LIB_BPF_OBJS)
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

# lib_variant(name, extra CFLAGS): the userspace library compiled with
# @extra into $(OUTPUT)/lib/<name>/libarena-ds.a (plain, asan, tsan, ...).
define lib_variant
$(OUTPUT)/lib/$(1)/%.o: lib/%.c $(REGISTRY_INC)
	$$(call msg,CC,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(CFLAGS) $(2) -fPIC -Ilib -c $$< -o $$@

$(OUTPUT)/lib/$(1)/libarena-ds.a: $(patsubst lib/%.c,$(OUTPUT)/lib/$(1)/%.o,$(LIB_USER_SRCS))
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(eval $(call lib_variant,user,))

$(LIB_A): $(OUTPUT)/lib/user/libarena-ds.a
	$(Q)cp $< $@

$(LIB_SO): $(patsubst lib/%.c,$(OUTPUT)/lib/user/%.o,$(LIB_USER_SRCS))
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libarena-ds.so.0 $^ $(LIBBPF_LIBS) -lpthread -o $@

lib: $(LIB_BPF) $(LIB_A) $(LIB_SO)

# A BPF application object: its own code linked with the library's.
# app_bpf(out, sources...) is spelled out per client below.
$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

include lincheck/lincheck.mk

# ------------------------------------------------------------------- driver
DRIVER_OUT := $(OUTPUT)/driver
$(DRIVER_OUT)/%.tmp.o: driver/%.bpf.c $(OUTPUT)/vmlinux.h $(REGISTRY_INC)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ilincheck -c $< -o $@

$(OUTPUT)/skeleton.bpf.o: $(DRIVER_OUT)/skeleton.tmp.o $(LIB_BPF)
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUTPUT)/probe.bpf.o: $(DRIVER_OUT)/probe.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

DRIVER_SRCS := $(filter-out %.bpf.c,$(wildcard driver/*.c))
DRIVER_OBJS := $(patsubst driver/%.c,$(DRIVER_OUT)/%.o,$(DRIVER_SRCS))
$(DRIVER_OUT)/%.o: driver/%.c $(OUTPUT)/skeleton.skel.h $(OUTPUT)/probe.skel.h $(REGISTRY_INC)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT) -Ilincheck -c $< -o $@

$(SKEL_BIN): $(DRIVER_OBJS) $(LINCHECK_OBJ)/lincheck.o $(LIB_A)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# `make run`: both worlds on one hash for a few seconds: userspace threads,
# kernel workers and the kernel hooks, then verify from both sides.
RUN_ARGS ?= -D hash -K -t 2 -o 5000000 -d 5 -v
run: deps
	$(Q)$(MAKE) all
	./$(SKEL_BIN) $(RUN_ARGS)

# Soak (not in `make test`): every structure family under all contexts at
# once for SOAK_SECS seconds per family (default 600); verify, conservation,
# flat memory.  See scripts/soak.sh.
SOAK_SECS ?= 600
soak: deps
	$(Q)$(MAKE) all
	SOAK_SECS=$(SOAK_SECS) SKEL=./$(SKEL_BIN) ./scripts/soak.sh

-include tests/tests.mk
-include bench/bench.mk
-include bench/alloc.mk
-include examples/examples.mk

# ------------------------------------------------------------------ install
PKGCONFIG_DIR ?= $(PREFIX)/lib/pkgconfig
# The .pc file is written at install time: it names the prefix.
define pc_file
prefix=$(PREFIX)
includedir=$${prefix}/include
libdir=$${prefix}/lib
bpfobjdir=$${prefix}/lib/bpf

Name: libarena-ds
Description: concurrent data structures in BPF arena memory, shared by BPF programs and userspace
Version: $(VERSION)
Requires.private: libbpf
Cflags: -I$${includedir}/libarena-ds -I$${includedir}
Libs: -L$${libdir} -larena-ds
Libs.private: -lbpf -lpthread
endef
export pc_file

install: lib
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(PREFIX)/include/libarena-ds $(DESTDIR)$(PREFIX)/lib/bpf \
		$(DESTDIR)$(PKGCONFIG_DIR)
	$(Q)install -m 644 include/libarena-ds/*.h include/libarena-ds/registry.def $(REGISTRY_INC) \
		$(DESTDIR)$(PREFIX)/include/libarena-ds/
	$(Q)install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/libarena-ds.a
	$(Q)install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/libarena-ds.so.$(VERSION)
	$(Q)ln -sf libarena-ds.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libarena-ds.so.0
	$(Q)ln -sf libarena-ds.so.0 $(DESTDIR)$(PREFIX)/lib/libarena-ds.so
	$(Q)install -m 644 $(LIB_BPF) $(DESTDIR)$(PREFIX)/lib/bpf/libarena-ds.bpf.o
	$(Q)echo "$$pc_file" > $(DESTDIR)$(PKGCONFIG_DIR)/libarena-ds.pc

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -rf $(DESTDIR)$(PREFIX)/include/libarena-ds
	$(Q)rm -f $(DESTDIR)$(PREFIX)/lib/libarena-ds.a $(DESTDIR)$(PREFIX)/lib/libarena-ds.so* \
		$(DESTDIR)$(PREFIX)/lib/bpf/libarena-ds.bpf.o $(DESTDIR)$(PKGCONFIG_DIR)/libarena-ds.pc
	$(Q)rmdir $(DESTDIR)$(PREFIX)/lib/bpf 2>/dev/null || true

-include scripts/vmtest.mk

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) skeleton skeleton-san bench/results.json

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
