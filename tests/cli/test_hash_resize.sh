#!/usr/bin/env bash
# The hash sizes itself (issue 12): a run from threads, kernel workers and
# hooks grows the table and verifies; a drained table shrinks; a history
# recorded across resizes (tiny capacity, 64 keys) is linearizable.
. "$(dirname "$0")/../lib.sh"
need_root

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Issue 12's own command: at a million keys the kernel's verify runs out of
# one program run's loop budget and the driver must check that from
# userspace again (a second walk on its own budget), not call it a cycle.
KEYS=1000000
OPS=2000000
HOPS=$(scale 2000 20000)

check_out "hash: threads + kernel workers grow the table, verify and conservation pass" \
	'Verification: PASS' \
	$SKEL -D hash -K -t 2 -k $KEYS -o $OPS -v
last_out >"$tmp/grow.out"
check_out "the report says it grew, and to what size" \
	'Hash table: [0-9]+ buckets, load factor [0-9.]+ \(created with 4096; grew; [1-9][0-9]* doublings' \
	cat "$tmp/grow.out"

check_out "hash: a drained table shrinks (from --capacity 2), verify passes" 'Verification: PASS' \
	$SKEL -D hash -t 2 -k 50000 -w delete -o 50000 --capacity 2 -v
last_out >"$tmp/shrink.out"
check_out "it grew during the prefill and halved while draining" \
	'created with 2; grew; [1-9][0-9]* doublings, [1-9][0-9]* halvings' cat "$tmp/shrink.out"

check_out "hash: history across resizes (64 keys, capacity 2) is linearizable" \
	'lincheck: PASS' \
	$SKEL -D hash -K -t 2 -o $HOPS -k 64 --capacity 2 -v --history "$tmp/h.log"
last_out >"$tmp/hist.out"
check_out "and the table resized during that run" 'created with 2; grew; [1-9][0-9]* doublings' \
	cat "$tmp/hist.out"

check_fail "--capacity 0 is refused" $SKEL -D hash --capacity 0 -o 10
check "nothing left attached" no_leftover_progs
done_testing
