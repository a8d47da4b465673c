#!/usr/bin/env bash
# Issue 16, item 10: a page the allocator gave back must not come back to
# life when userspace touches it.  With BPF_F_SEGV_ON_FAULT on the arena map
# (sanitizer builds; LIBARENA_SEGV_ON_FAULT=1 for the plain driver) the
# read faults; without it, the kernel silently maps a fresh zero page (the
# old behaviour, shown here so the difference stays visible).  The driver's
# LIBARENA_TOUCH_RETURNED=1 probe reads the last returned page after the
# final reclaim, under a SIGSEGV handler.  Root only (BPF).
. "$(dirname "$0")/../lib.sh"
need_root

OPS=$(scale 20000 100000)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check_out "SEGV_ON_FAULT: reading a returned page faults" \
	'use-after-return probe: returned page 0x[0-9a-f]+: the read faulted' \
	env LIBARENA_SEGV_ON_FAULT=1 LIBARENA_TOUCH_RETURNED=1 \
	$SKEL -t 2 -K -o $OPS -k 8000 -w delete -v
last_out >"$tmp/on.out"
check_out "... and the run still verifies with the flag on" 'Verification: PASS' cat "$tmp/on.out"
check_out "without the flag the same read silently succeeds" \
	'use-after-return probe: returned page 0x[0-9a-f]+: read without a fault' \
	env LIBARENA_SEGV_ON_FAULT=0 LIBARENA_TOUCH_RETURNED=1 \
	$SKEL -t 2 -K -o $OPS -k 8000 -w delete -v
for ds in hash skiplist msqueue btree; do
	check_out "$ds with SEGV_ON_FAULT: verifies (no access to pages not held)" \
		'Verification: PASS' env LIBARENA_SEGV_ON_FAULT=1 \
		$SKEL -D $ds -t 2 -K -o $OPS -k 4000 -v
done
if [ -x ./skeleton-san ]; then
	check_out "sanitizer build: the flag is compiled in" \
		'use-after-return probe: returned page 0x[0-9a-f]+: the read faulted' \
		env LIBARENA_TOUCH_RETURNED=1 ./skeleton-san -t 2 -K -o $OPS -k 8000 -w delete -v
fi
check "no program left behind" no_leftover_progs
done_testing
