# SPDX-License-Identifier: GPL-2.0
# Tests are discovered by name:
#   tests/unit/test_<x>.c  cmocka unit tests of the library, no kernel
#                          needed; each is built three times (plain,
#                          ASAN+UBSAN, TSAN) against a library built the
#                          same way
#   tests/cli/test_<x>.sh  driver tests (root, BPF) written with tests/lib.sh
# tests/run.sh runs them all and ends with "N passed, N failed".
# `make test T=<x>` runs the tests whose name contains <x> (e.g. T=hash).

TEST_OUT := $(OUTPUT)/tests
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_NAMES := $(UNIT_SRCS:tests/unit/%.c=%)
TEST_BINS := $(UNIT_NAMES:%=$(TEST_OUT)/%) $(UNIT_NAMES:%=$(TEST_OUT)/%.asan) \
	$(UNIT_NAMES:%=$(TEST_OUT)/%.tsan)
UNIT_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka) $(LDLIBS)
UNIT_INC := -Ilib -Idriver -Ilincheck -I$(OUTPUT)
# The standalone arena must sit where each sanitizer leaves room for it.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
	-DARENA_BASE='(1ULL<<45)'
TSAN_FLAGS := -fsanitize=thread -DARENA_BASE='(1ULL<<36)'

# Library variants the unit tests link: each built with the test's flags.
$(eval $(call lib_variant,asan,$(ASAN_FLAGS)))
$(eval $(call lib_variant,tsan,$(TSAN_FLAGS)))
$(eval $(call lib_variant,san-user,-DARENA_SANITIZE))
$(eval $(call lib_variant,san-asan,-DARENA_SANITIZE $(ASAN_FLAGS)))
$(eval $(call lib_variant,san-tsan,-DARENA_SANITIZE $(TSAN_FLAGS)))

# unit_rule(target, library variant, flags): a unit test binary built with
# @flags against the library variant built with the same flags.
define unit_rule
$(1): $(2) $(OUTPUT)/lib/$(3)/libarena-ds.a
	$$(call msg,TEST-CC,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(CFLAGS) $(4) $$(UNIT_INC) $$< -o $$@ $(OUTPUT)/lib/$(3)/libarena-ds.a $$(UNIT_LIBS)
endef
$(eval $(call unit_rule,$(TEST_OUT)/%,tests/unit/%.c,user,))
$(eval $(call unit_rule,$(TEST_OUT)/%.asan,tests/unit/%.c,asan,$(ASAN_FLAGS)))
$(eval $(call unit_rule,$(TEST_OUT)/%.tsan,tests/unit/%.c,tsan,$(TSAN_FLAGS)))
# test_sanitize tests the sanitizer mode: it and its library are built so.
SAN_TEST := tests/unit/test_sanitize.c
$(eval $(call unit_rule,$(TEST_OUT)/test_sanitize,$(SAN_TEST),san-user,-DARENA_SANITIZE))
$(eval $(call unit_rule,$(TEST_OUT)/test_sanitize.asan,$(SAN_TEST),san-asan,-DARENA_SANITIZE $(ASAN_FLAGS)))
$(eval $(call unit_rule,$(TEST_OUT)/test_sanitize.tsan,$(SAN_TEST),san-tsan,-DARENA_SANITIZE $(TSAN_FLAGS)))

# The driver with a deliberately broken list delete (userspace side only):
# the history checker must reject what it does.
$(TEST_OUT)/ds_list_broken.o: lib/ds_list.c $(REGISTRY_INC)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ilib -DDS_LIST_BROKEN_TAKE -c $< -o $@

$(TEST_OUT)/skeleton-broken: $(TEST_OUT)/ds_list_broken.o $(DRIVER_OBJS) $(LINCHECK_OBJ)/lincheck.o $(LIB_A)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

TEST_BINS += $(TEST_OUT)/skeleton-broken

# The driver in sanitizer mode, for tests/cli/test_sanitize.sh: built once,
# by a sub-make with SANITIZE=1 in its own directory $(OUTPUT)/san.
ifeq ($(SANITIZE),1)
$(TEST_OUT)/skeleton-san: $(SKEL_BIN)
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@
else
.PHONY: $(TEST_OUT)/skeleton-san
$(TEST_OUT)/skeleton-san:
	$(Q)mkdir -p $(@D)
	$(Q)$(MAKE) $(if $(filter 1,$(V)),,-s) SANITIZE=1 OUTPUT=$(OUTPUT)/san \
		SKEL_BIN=$(abspath $@) $(abspath $@)
endif
TEST_BINS += $(TEST_OUT)/skeleton-san
# tests/cli/test_corrupt.sh: a second process that maps the driver's arena
# (SKELETON_TEST_PIN) and corrupts the live structure.
$(TEST_OUT)/corrupt_arena: tests/cli/corrupt_arena.c $(LIB_A)
	$(call msg,TEST-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_A) $(LDLIBS) -o $@

TEST_BINS += $(TEST_OUT)/corrupt_arena

# tests/cli/test_dead_holder.sh: a second process that takes the driver's
# structure lock and is killed holding it.
$(TEST_OUT)/hold_lock: tests/cli/hold_lock.c $(LIB_A)
	$(call msg,TEST-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ilib $< $(LIB_A) $(LDLIBS) -o $@

TEST_BINS += $(TEST_OUT)/hold_lock

# tests/cli/test_mpmc_dead.sh: a second process whose child claims a slot of
# the driver's live mpmc ring and is killed holding it.
$(TEST_OUT)/mpmc_die: tests/cli/mpmc_die.c $(LIB_A)
	$(call msg,TEST-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_A) $(LDLIBS) -o $@

TEST_BINS += $(TEST_OUT)/mpmc_die

# tests/cli/test_hash_kv_kern.sh: the wide-key hash from BPF programs
# (tests/kern/hash_kv_kern*), linked with the library's BPF object.
KVK_OUT := $(TEST_OUT)/kern
$(KVK_OUT)/hash_kv_kern.tmp.o: tests/kern/hash_kv_kern.bpf.c tests/kern/hash_kv_kern.h \
		$(OUTPUT)/vmlinux.h $(REGISTRY_INC)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(KVK_OUT)/hash_kv_kern.bpf.o: $(KVK_OUT)/hash_kv_kern.tmp.o $(LIB_BPF)
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(KVK_OUT)/hash_kv_kern.skel.h: $(KVK_OUT)/hash_kv_kern.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name hash_kv_kern_bpf > $@

$(TEST_OUT)/hash_kv_kern: tests/kern/hash_kv_kern.c tests/kern/hash_kv_kern.h \
		$(KVK_OUT)/hash_kv_kern.skel.h $(LIB_A)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(KVK_OUT) $< $(LIB_A) $(LDLIBS) -o $@

TEST_BINS += $(TEST_OUT)/hash_kv_kern

LINCHECK_BIN := $(OUTPUT)/lincheck

test-build: all $(TEST_BINS) $(OUTPUT)/lincheck

# SANITIZE=1 runs the suite on the sanitizer-mode build.
TEST_ENV := OUTPUT=$(OUTPUT) $(if $(filter 1,$(SANITIZE)),SKEL=./$(SKEL_BIN)) $(if $(T),TEST_FILTER=$(T))

test: deps
	$(Q)$(MAKE) test-build
	$(Q)./scripts/install-deps.sh --cross
	$(Q)$(TEST_ENV) TEST_MODE=quick ./tests/run.sh

test-stress: deps
	$(Q)$(MAKE) test-build
	$(Q)$(TEST_ENV) TEST_MODE=stress ./tests/run.sh

test-verify: deps
	$(Q)$(MAKE) test-build
	$(Q)$(TEST_ENV) TEST_MODE=verify ./tests/run.sh

.PHONY: test-build

