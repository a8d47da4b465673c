#!/usr/bin/env bash
# The arena sanitizer mode in the driver (docs/GUIDE.md, "Sanitizer mode"),
# on the SANITIZE=1 build that `make test-build` makes once
# (build/tests/skeleton-san): a clean run reports 0 violations and -v
# passes; a planted bug (SKELETON_SAN_PLANT, test-only) from the kernel or
# from userspace makes -v FAIL and names the violation.
source "$(dirname "$0")/../lib.sh"
need_root
SAN=${SAN_SKEL:-${OUTPUT:-build}/tests/skeleton-san}
if [ ! -x "$SAN" ]; then
	echo "ok 1 # SKIP $SAN is not built (make test-build)"
	exit 0
fi
OPS=$(scale 2000 20000)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# keep: save the last check's output; also RE: that output matches RE.
keep() { cp "$TLOG.last" "$tmp/last"; }
also() { grep -qE -- "$1" "$tmp/last"; }

check_out "clean run: -v PASS" '^Verification: PASS' \
	"$SAN" -D list -K -t 2 -o "$OPS" -v --json "$tmp/clean.json"
keep
check "clean run: 0 violations, freed objects checked" \
	also 'Sanitizer: +0 violations \(overflow=0 underflow=0 use-after-free=0 double-free=0 invalid-free=0\), [1-9][0-9]* freed objects checked'
check "clean run: JSON has the sanitizer counts" \
	grep -q '"sanitizer": {"violations": 0, "overflow": 0' "$tmp/clean.json"
if ! grep -q SKELETON_SAN_PLANT "$SKEL"; then	# $SKEL is a plain build
	check_out "plain build: -v PASS" '^Verification: PASS' $SKEL -D list -t 1 -o 100 -v
	keep
	check_fail "plain build: no sanitizer line" also 'Sanitizer:'
fi

# kind as SKELETON_SAN_PLANT spells it, and as the report names it
plant() {
	local who=$1 kind=$2 name=$3 ds=${4:-list}
	check_fail "$who-$kind: -v FAILs" \
		env SKELETON_SAN_PLANT="$who-$kind" "$SAN" -D "$ds" -K -t 2 -o "$OPS" -v
	keep
	check "$who-$kind: FAIL names $name" \
		also "^Verification: FAIL - sanitizer: 1 violations: $name=1\$"
	check "$who-$kind: the statistics count it" also "Sanitizer: +1 violations .*$name=1"
}

if [ "$TEST_MODE" = stress ]; then
	for who in kernel user; do
		plant $who overflow overflow
		plant $who underflow underflow
		plant $who uaf use-after-free
		plant $who double-free double-free
		plant $who invalid-free invalid-free
	done
else
	plant kernel overflow overflow
	plant user underflow underflow
	plant kernel uaf use-after-free hash
	plant user double-free double-free
	plant kernel invalid-free invalid-free
fi

# Without -v the userspace walk of the free lists still finds it.
check_out "user-uaf without -v: counted, exit 0" 'Sanitizer: +1 violations .*use-after-free=1' \
	env SKELETON_SAN_PLANT=user-uaf "$SAN" -D stack -t 2 -o 500
check_fail "bad SKELETON_SAN_PLANT: refused" env SKELETON_SAN_PLANT=kernel-nosuch "$SAN" -t 1 -o 1
check "bad SKELETON_SAN_PLANT: one line, exit 2" \
	bash -c "SKELETON_SAN_PLANT=x '$SAN' -t 1 -o 1 2>&1 | grep -c . | grep -qx 1; \
		SKELETON_SAN_PLANT=x '$SAN' -t 1 -o 1 >/dev/null 2>&1; [ \$? = 2 ]"
check "no program left behind" no_leftover_progs
done_testing
