# SPDX-License-Identifier: GPL-2.0
# The linearizability checker: lincheck/lincheck.c is linked into the driver
# (--history) and into the standalone tool $(OUTPUT)/lincheck
# (lincheck/main.c).  Included from the top Makefile.

LINCHECK_OBJ := $(OUTPUT)/lincheck-obj
$(LINCHECK_OBJ)/%.o: lincheck/%.c $(REGISTRY_INC)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ilincheck -c $< -o $@

$(OUTPUT)/lincheck: $(LINCHECK_OBJ)/main.o $(LINCHECK_OBJ)/lincheck.o
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

.PHONY: tools
tools: $(OUTPUT)/lincheck
