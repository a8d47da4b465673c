# SPDX-License-Identifier: GPL-2.0
# Tests are discovered by name:
#   tests/unit/test_<x>.c  cmocka unit tests of the headers, no kernel needed;
#                          each is built three times: plain, ASAN+UBSAN, TSAN
#   tests/cli/test_<x>.sh  driver tests (root, BPF) written with tests/lib.sh
# tests/run.sh runs them all and ends with "N passed, N failed".

TEST_OUT := $(OUTPUT)/tests
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_NAMES := $(UNIT_SRCS:tests/unit/%.c=%)
TEST_BINS := $(UNIT_NAMES:%=$(TEST_OUT)/%) $(UNIT_NAMES:%=$(TEST_OUT)/%.asan) \
	$(UNIT_NAMES:%=$(TEST_OUT)/%.tsan)
UNIT_DEPS := $(HEADERS) $(wildcard tests/unit/*.h) $(wildcard src/*.h)
UNIT_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka) -lpthread -lm
# The standalone arena must sit where each sanitizer leaves room for it.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
	-DARENA_BASE='(1ULL<<45)'
TSAN_FLAGS := -fsanitize=thread -DARENA_BASE='(1ULL<<36)'

$(TEST_OUT):
	$(Q)mkdir -p $@

$(TEST_OUT)/%: tests/unit/%.c $(UNIT_DEPS) | $(TEST_OUT)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(UNIT_LIBS)

$(TEST_OUT)/%.asan: tests/unit/%.c $(UNIT_DEPS) | $(TEST_OUT)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) $(ASAN_FLAGS) $< -o $@ $(UNIT_LIBS)

$(TEST_OUT)/%.tsan: tests/unit/%.c $(UNIT_DEPS) | $(TEST_OUT)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) $(TSAN_FLAGS) $< -o $@ $(UNIT_LIBS)

# The driver with a deliberately broken list delete (userspace side only):
# the history checker must reject what it does.
BROKEN_SRCS := src/skeleton.c src/driver_kern.c src/runner.c src/report.c src/history.c \
	src/lincheck.c src/relay.c
$(TEST_OUT)/skeleton-broken: $(BROKEN_SRCS) $(UNIT_DEPS) $(OUTPUT)/skeleton.skel.h \
		$(OUTPUT)/probe.skel.h | $(TEST_OUT)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) -DDS_LIST_BROKEN_TAKE $(BROKEN_SRCS) $(LDLIBS) -o $@

TEST_BINS += $(TEST_OUT)/skeleton-broken

# The driver in sanitizer mode, for tests/cli/test_sanitize.sh: built once,
# by a sub-make with SANITIZE=1 in its own directory $(OUTPUT)/san.
ifeq ($(SANITIZE),1)
$(TEST_OUT)/skeleton-san: $(SKEL_BIN) | $(TEST_OUT)
	$(Q)cp $< $@
else
.PHONY: $(TEST_OUT)/skeleton-san
$(TEST_OUT)/skeleton-san: | $(TEST_OUT)
	$(Q)$(MAKE) --no-print-directory $(if $(filter 1,$(V)),,-s) SANITIZE=1 OUTPUT=$(OUTPUT)/san \
		SKEL_BIN=$(abspath $@) $(abspath $@)
endif
TEST_BINS += $(TEST_OUT)/skeleton-san
# tests/cli/test_corrupt.sh: a second process that maps the driver's arena
# (SKELETON_TEST_PIN) and corrupts the live structure.
$(TEST_OUT)/corrupt_arena: tests/cli/corrupt_arena.c $(UNIT_DEPS) | $(TEST_OUT)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LDLIBS) -o $@

TEST_BINS += $(TEST_OUT)/corrupt_arena

LINCHECK_BIN := $(OUTPUT)/lincheck

test-build: all $(TEST_BINS) $(LINCHECK_BIN)

# Dependencies first, then the (many, independent) test binaries in parallel.
NPROC := $(shell nproc 2>/dev/null || echo 2)
test-parallel-build: deps
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) test-build

# SANITIZE=1 runs the suite on the sanitizer-mode build.
TEST_ENV := OUTPUT=$(OUTPUT) $(if $(filter 1,$(SANITIZE)),SKEL=./$(SKEL_BIN))

test: test-parallel-build
	$(Q)$(TEST_ENV) TEST_MODE=quick ./tests/run.sh

test-stress: test-parallel-build
	$(Q)$(TEST_ENV) TEST_MODE=stress ./tests/run.sh

test-verify: test-parallel-build
	$(Q)$(TEST_ENV) TEST_MODE=verify ./tests/run.sh

.PHONY: test-build test-parallel-build

