# SPDX-License-Identifier: GPL-2.0
# Opt-in: the driver tests under Debian kernel packages in qemu
# (scripts/vmtest.sh; docs/GUIDE.md, "Kernels").  Not part of `make test`.
#   make vmtest                  6.12 and the newest 7.x
#   make vmtest KERNEL=7.3       one kernel (several: KERNEL="6.12 7.2")
#   make vmtest-smoke            newest 7.x, one LSM run of the driver
VMTEST_NEEDS := $(SKEL_BIN) $(OUTPUT)/tests/skeleton-broken $(OUTPUT)/tests/skeleton-san $(OUTPUT)/lincheck

vmtest: deps
	$(Q)$(MAKE) $(VMTEST_NEEDS)
	$(Q)./scripts/vmtest.sh $(KERNEL)

vmtest-smoke: deps
	$(Q)$(MAKE) $(SKEL_BIN)
	$(Q)./scripts/vmtest.sh --smoke $(if $(KERNEL),$(KERNEL),7)

.PHONY: vmtest vmtest-smoke
