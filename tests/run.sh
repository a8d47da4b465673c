#!/usr/bin/env bash
# Run every discovered test and print one line per case, then the total as
# "N passed, N failed".  TEST_MODE=quick|stress|verify scales the work;
# TEST_FILTER=<x> runs only the tests whose name contains <x>.
# Unit binaries speak TAP through cmocka; cli scripts through tests/lib.sh.
set -u
cd "$(dirname "$0")/.." || exit 2
export TEST_MODE=${TEST_MODE:-quick}
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp history_size=7 halt_on_error=1 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="detect_leaks=1 abort_on_error=1 ${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}"
OUT=${OUTPUT:-build}
LOGS=$OUT/test-logs
mkdir -p "$LOGS"
pass=0
fail=0
skip=0
failed_names=()

# Run one TAP-speaking command; count its "ok" / "not ok" lines.
run_tap() {
	local name=$1 log=$LOGS/${1//\//_}.log rc n_ok n_bad n_skip start secs
	shift
	case "$name" in *"${TEST_FILTER:-}"*) ;; *) return 0 ;; esac
	start=$(date +%s)
	CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "${TEST_TIMEOUT:-600}" "$@" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	n_ok=$(grep -cE '^ok ' "$log")
	n_skip=$(grep -cE '^ok .*# (SKIP|skip)' "$log")
	n_bad=$(grep -cE '^not ok' "$log")
	n_ok=$((n_ok - n_skip))
	grep -E '^(not )?ok' "$log" | sed "s|^|  $name: |"
	if [ "$n_ok" -eq 0 ] && [ "$n_bad" -eq 0 ] && [ "$n_skip" -eq 0 ]; then
		echo "  $name: not ok - no test case ran (status $rc, see $log)"
		tail -5 "$log" | sed 's/^/      /'
		n_bad=1
	elif [ "$rc" -ne 0 ] && [ "$n_bad" -eq 0 ]; then
		# Crashed, timed out or failed outside any case.
		echo "  $name: not ok - exited with status $rc (see $log)"
		tail -5 "$log" | sed 's/^/      /'
		n_bad=1
	fi
	pass=$((pass + n_ok))
	fail=$((fail + n_bad))
	skip=$((skip + n_skip))
	[ "$n_bad" -gt 0 ] && failed_names+=("$name")
	printf '%-40s %3d ok %3d failed %3d skipped  %4ds\n' "$name" "$n_ok" "$n_bad" "$n_skip" "$secs"
}

for bin in "$OUT"/tests/test_*; do
	[ -x "$bin" ] || continue
	run_tap "unit/$(basename "$bin")" "$bin"
done

for script in tests/cli/test_*.sh; do
	[ -f "$script" ] || continue
	run_tap "cli/$(basename "$script" .sh)" bash "$script"
done

if [ ${#failed_names[@]} -gt 0 ]; then
	# What failed and why, just above the total, where a CI log's tail
	# shows it: each failed case with the lines around it, at most 16
	# lines per test (the whole log stays in $LOGS).
	for name in "${failed_names[@]}"; do
		echo "--- $name"
		grep -E -B1 -A7 '^not ok|not ok - ' "$LOGS/${name//\//_}.log" | head -16 | sed 's/^/    /'
	done
	echo "failed: ${failed_names[*]} (logs in $LOGS)"
fi
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
