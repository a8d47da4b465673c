#!/usr/bin/env bash
# Issue 16, item 6: a second process maps a running driver's arena
# (SKELETON_TEST_PIN), takes the lock of its tree, btree or pq the way the
# library does, and is killed (SIGKILL) holding it, while the driver's
# threads and kernel workers run.  The driver's userspace threads find the
# holder dead and take the lock over; the run goes on and verifies.
# Before holders were recorded, the lock stayed held for ever: every
# operation after the kill answered BUSY and the verify could not run.
. "$(dirname "$0")/../lib.sh"
need_root

HOLD=${OUTPUT:-build}/tests/hold_lock
[ -x "$HOLD" ] || make -s "$HOLD" >/dev/null 2>&1 || {
	echo "not ok 1 - cannot build $HOLD"; exit 1; }
tmp=$(mktemp -d)
PIN=/sys/fs/bpf/libarena_hold_$$
trap 'rm -rf "$tmp"; rm -f "$PIN"' EXIT

for kind in tree btree pq; do
	out=$tmp/$kind
	pinned_driver "$out.drv" -D "$kind" -t 2 -K --kworkers 1 -o 1000000000 -k 1000 -d 4 -v
	head=$ARENA_HEAD pages=$ARENA_PAGES pid=$DRV_PID
	: >"$out.hold"
	if [ -n "$head" ]; then
		"$HOLD" "$PIN" "$head" "$pages" "$kind" >"$out.hold" 2>&1 &
		hpid=$!
		for i in $(seq 100); do
			grep -q holding "$out.hold" && break
			sleep 0.05
		done
		sleep 0.5	# the driver's contexts meet the held lock
		kill -9 $hpid 2>/dev/null
		wait $hpid 2>/dev/null
	fi
	wait $pid
	rc=$?
	cat "$out.drv" "$out.hold" >"$TLOG.last"
	check "$kind: the second process held the lock and was killed" grep -q holding "$out.hold"
	check "$kind: the driver exited 0 (got $rc)" test "$rc" = 0
	check_out "$kind: the lock was taken over from the dead process" \
		'Taken over from contexts that died holding them: [1-9]' cat "$out.drv"
	check_out "$kind: and the run verified" 'Verification: PASS' cat "$out.drv"
done
check "nothing left attached" no_leftover_progs
done_testing
