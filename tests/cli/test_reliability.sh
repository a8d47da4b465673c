#!/usr/bin/env bash
# Issue 16, items 3, 4, 13, 14: a hung or interrupted run ends, misuse is
# refused before anything loads, and reports say what happened.
# Root only (BPF).
. "$(dirname "$0")/../lib.sh"
need_root

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

started='^skeleton: [a-z]+ on '

# --- item 13: a worker that never returns cannot hold the driver
# hung RUNARGS -- SIGNAL DELAY LIMIT: run with a stuck thread; send SIGNAL
# DELAY s after the start line (none: let -d end it); the driver must end
# within LIMIT s of its start line, exit non-zero and name the stuck thread.
hung() {
	local sig=$1 delay=$2 limit=$3 t0 t1 rc; shift 3
	: >"$tmp/hung.out"
	SKELETON_TEST_HANG=1 timeout 60 $SKEL "$@" >"$tmp/hung.out" 2>&1 &
	local pid=$!
	wait_for "$tmp/hung.out" "$started" 30 || { kill -9 $pid; return 1; }
	t0=$(date +%s.%N)
	if [ "$sig" != none ]; then sleep "$delay"; kill -"$sig" $pid; fi
	wait $pid; rc=$?
	t1=$(date +%s.%N)
	cat "$tmp/hung.out"
	echo "rc=$rc, $(echo "$t1 - $t0" | bc) s after the start line"
	[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'stuck: thread 0' "$tmp/hung.out" &&
		(( $(echo "$t1 - $t0 <= $limit" | bc) )) && no_leftover_progs
}
check "hung worker: -d 2 ends the run within -d + 2 s, names it, exit != 0" \
	hung none 0 4 -t 2 -o 1000000000 -k 64 -d 2
check "hung worker: SIGINT ends the run within 3 s" hung INT 1 4 -t 2 -o 1000000000 -k 64 -d 60
check "hung worker: SIGTERM ends the run within 3 s" hung TERM 1 4 -t 2 -o 1000000000 -k 64 -d 60

# A signal while the programs load is not lost: the run ends at once.
early_signal() {
	local t0 t1 rc pid delay
	# Loading takes a fraction of a second: send the signal sooner until
	# it lands before the programs are up.
	for delay in 0.3 0.1 0.03 0.01 0.003 0; do
		t0=$(date +%s.%N)
		: >"$tmp/early.out"
		timeout 60 $SKEL -t 2 -o 1000000000 -k 64 -d 30 >"$tmp/early.out" 2>&1 &
		pid=$!
		sleep $delay
		grep -qE "$started" "$tmp/early.out" || break
		kill -9 $pid; wait $pid 2>/dev/null
		pid=
	done
	if [ -z "$pid" ]; then
		echo "loaded before every signal: this does not test a signal during load"
		return 1
	fi
	kill -INT $pid
	wait $pid; rc=$?
	t1=$(date +%s.%N)
	cat "$tmp/early.out"
	echo "rc=$rc after $(echo "$t1 - $t0" | bc) s"
	grep -q 'TEST STATISTICS' "$tmp/early.out" &&
		(( $(echo "$t1 - $t0 < 10" | bc) )) && no_leftover_progs
}
check "a SIGINT while loading ends the run (not after -d 30)" early_signal

# --- item 3: monitor mode cannot keep a single producer / owner
refused() {
	local out rc want=$1; shift
	out=$($SKEL "$@" 2>&1); rc=$?
	echo "$out"; echo "rc=$rc"
	[ $rc -eq 2 ] && echo "$out" | grep -qE -- "$want" && no_leftover_progs
}
check "-m -D spsc refused (exit 2)" refused 'cannot drive spsc.*one producer' -m -D spsc -d 2
check "-m -D deque refused (exit 2)" refused 'cannot drive deque.*owner' -m -D deque -d 2

# --- item 4: detach waits for hook runs in flight, bounded
inflight() {
	local rc
	SKELETON_TEST_INFLIGHT=1 timeout 60 $SKEL -t 1 -o 1000 -v >"$tmp/infl.out" 2>&1; rc=$?
	cat "$tmp/infl.out"; echo "rc=$rc"
	[ $rc -eq 1 ] && grep -q '1 hook run still in flight' "$tmp/infl.out"
}
check "a hook run that never ends is waited for (bounded), then reported" inflight
check_out "no hook run in flight after a normal run" 'Verification: PASS' \
	$SKEL -t 1 -o 1000 -v
last_out >"$tmp/normal.out"
check "... and no in-flight warning" bash -c "! grep -q 'in flight' $tmp/normal.out"

# --- item 14: reports and input handling
keep() {
	local f=$1; shift
	echo keep >"$f"
	$SKEL "$@"; local rc=$?
	echo "rc=$rc, file: $(cat "$f")"
	[ $rc -eq 2 ] && [ "$(cat "$f")" = keep ]
}
check "a refused command line leaves --json's file alone" keep "$tmp/r.json" --json "$tmp/r.json" -t -3
check "a refused command line leaves --history's file alone" keep "$tmp/h.log" -L "$tmp/h.log" -o abc
check "-w range on a structure without range: exit 2" refused 'msqueue has no range' \
	-D msqueue -w range -t 1 -o 10
if ! $SKEL -t 1 -o 10 --hooks lsm >/dev/null 2>&1; then
	check "--hooks lsm where LSM is refused: exit 2" refused 'refuses LSM' --hooks lsm -t 1 -o 10
fi
min_pages() {
	local d=$1 out rc n
	out=$($SKEL -D "$d" -t 2 -o 10 --arena-pages 8 2>&1); rc=$?
	echo "$out"; echo "rc=$rc"
	n=$(echo "$out" | sed -n 's/.*needs at least \([0-9]*\) pages.*/\1/p')
	[ $rc -eq 2 ] && [ -n "$n" ] || return 1
	$SKEL -D "$d" -t 2 -o 10 --arena-pages $((n - 1)) >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || { echo "$((n - 1)) pages: rc=$rc"; return 1; }
	$SKEL -D "$d" -t 2 -o 10 -v --arena-pages "$n" >"$tmp/min.out" 2>&1; rc=$?
	cat "$tmp/min.out"
	[ $rc -eq 0 ] && grep -q 'Verification: PASS' "$tmp/min.out"
}
for d in list hash btree mpmc; do
	check "--arena-pages below $d's minimum: exit 2 with the minimum; at it: runs" min_pages $d
done
# Three runs a structure: one interrupt may by chance find both lanes
# empty.  The bounded rings (mpmc, spsc) are often full when the stop comes:
# an attempt that did not go in must not count as an item.
relay_int() {
	local i
	for i in 1 2 3; do relay_int1 "$@" || return 1; done
}
relay_int1() {
	local rc t=1
	[ "$1" = msqueue ] && t=2
	: >"$tmp/relay.out"
	timeout 60 $SKEL -D "$1" -w relay -t $t -d 30 -v >"$tmp/relay.out" 2>&1 &
	local pid=$!
	wait_for "$tmp/relay.out" "$started" 30 || { kill -9 $pid; return 1; }
	sleep 1.$((RANDOM % 10))
	kill -INT $pid
	wait $pid; rc=$?
	cat "$tmp/relay.out"; echo "rc=$rc"
	[ $rc -eq 0 ] && grep -q 'lost 0,' "$tmp/relay.out" &&
		grep -q 'Verification: PASS' "$tmp/relay.out"
}
for d in msqueue mpmc spsc; do
	check "an interrupted relay on $d: queued items are not lost" relay_int $d
done
done_testing
