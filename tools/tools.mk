# SPDX-License-Identifier: GPL-2.0
# Standalone tools; included from the top Makefile (which defines OUTPUT,
# CC, CFLAGS, Q and msg).
#   $(OUTPUT)/lincheck   linearizability checker for recorded histories

LINCHECK_SRCS := tools/lincheck.c src/lincheck.c
LINCHECK_DEPS := src/lincheck.h include/ds_api.h include/libarena_ds.h \
	include/bpf_arena_common.h include/arena_ebr.h

$(OUTPUT)/lincheck: $(LINCHECK_SRCS) $(LINCHECK_DEPS) | $(OUTPUT)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LINCHECK_SRCS) -o $@

.PHONY: tools
tools: $(OUTPUT)/lincheck
