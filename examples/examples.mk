# SPDX-License-Identifier: GPL-2.0
# examples/examples.mk - included by the top Makefile.
#   make examples   install this tree into $(OUTPUT)/examples/prefix and build
#                   every example from that install, as an outside application
#                   would (binaries in $(OUTPUT)/examples/<name>/)
EXAMPLES := minimal topcount channel
EXAMPLES_OUT := $(abspath $(OUTPUT))/examples

.PHONY: examples
examples:
	$(Q)$(MAKE) -s install PREFIX=$(EXAMPLES_OUT)/prefix
	$(Q)for e in $(EXAMPLES); do \
		PKG_CONFIG_PATH=$(EXAMPLES_OUT)/prefix/lib/pkgconfig \
			$(MAKE) -s -C examples/$$e OUT=$(EXAMPLES_OUT)/$$e || exit 1; \
	done
