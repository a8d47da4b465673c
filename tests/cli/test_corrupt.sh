#!/usr/bin/env bash
# Issue 16, item 1: a second process maps a running driver's arena
# (SKELETON_TEST_PIN) and corrupts the live structure (list, hash, msqueue,
# stack: a cycle, a wild link, a zeroed page) while threads, kernel workers
# and hooks run.  The driver
# must end within -d + 2 s of its start with a CORRUPT verdict and exit 1,
# openat() must stay fast meanwhile (the hooks run on every openat of the
# machine: no call slower than 10 ms), and nothing may stay attached.
. "$(dirname "$0")/../lib.sh"
need_root

CORRUPT=${OUTPUT:-build}/tests/corrupt_arena
[ -x "$CORRUPT" ] || make -s "$CORRUPT" >/dev/null 2>&1 || {
	echo "not ok 1 - cannot build $CORRUPT"; exit 1; }
D=5
tmp=$(mktemp -d)
PIN=/sys/fs/bpf/libarena_corrupt_$$
trap 'rm -rf "$tmp"; rm -f "$PIN"' EXIT

# corrupt_run KIND MODE: the driver's rc, seconds from its start line to its
# end, and the helper's openat figures, in $tmp/<kind>-<mode>.*
corrupt_run() {
	local kind=$1 mode=$2 out=$tmp/$1-$2 t0 t1
	pinned_driver "$out.drv" -D "$kind" -t 2 -K --kworkers 2 -o 1000000000 -k 1000 -d $D -v
	t0=$(date +%s.%N)
	if [ -n "$ARENA_HEAD" ]; then
		# Real-time priority: what is timed is the kernel's work on each
		# openat (hooks run with preemption off), not this shared
		# machine's CPU share among the driver's busy workers.
		chrt -f 50 "$CORRUPT" "$PIN" "$ARENA_HEAD" "$ARENA_PAGES" "$kind" "$mode" \
			$((D - 1)) >"$out.cor" 2>&1
	fi
	wait $DRV_PID
	echo $? >"$out.rc"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc >"$out.secs"
}

for case in ${CORRUPT_CASES:-list:cycle list:wild list:zero hash:cycle hash:wild hash:zero \
	msqueue:cycle msqueue:wild msqueue:zero stack:cycle stack:wild stack:zero}; do
	kind=${case%%:*} mode=${case##*:}
	corrupt_run "$kind" "$mode"
	out=$tmp/$kind-$mode
	cat "$out.drv" "$out.cor" >"$TLOG.last" 2>/dev/null
	check "$kind/$mode: the helper corrupted the live structure" \
		grep -qE 'corrupted [1-9][0-9]* times' "$out.cor"
	check "$kind/$mode: exit 1 (got $(cat "$out.rc"))" test "$(cat "$out.rc")" = 1
	check_out "$kind/$mode: verdict is CORRUPT" 'Verification: FAIL - .*corrupt' cat "$out.drv"
	check "$kind/$mode: ended within -d + 2 s (took $(cat "$out.secs") s)" \
		bash -c "(( \$(echo '$(cat "$out.secs") <= $D + 2' | bc) ))"
	max=$(sed -n 's/.*max \([0-9.]*\) ms.*/\1/p' "$out.cor")
	check "$kind/$mode: openat stayed fast (slowest ${max:-?} ms)" \
		bash -c "[ -n '$max' ] && (( \$(echo '$max < 10' | bc) ))"
	check "$kind/$mode: nothing left attached" no_leftover_progs
	# Item 14: a FAIL report shows real figures, expected against found,
	# and no negative count printed as a huge unsigned one.
	if grep -q 'TEST STATISTICS' "$out.drv"; then
		check_out "$kind/$mode: FAIL report shows expected vs found" \
			'Expected vs found: -?[0-9]+ elements by the contexts' cat "$out.drv"
		check "$kind/$mode: FAIL report has the memory statistics (not zeroed)" \
			grep -qE 'Allocations: +[1-9]' "$out.drv"
		check "$kind/$mode: no count printed as a huge unsigned number" \
			bash -c "! grep -qE '[0-9]{19}' '$out.drv'"
	fi
done

done_testing
