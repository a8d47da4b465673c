#!/usr/bin/env bash
# The pointer-based queue family (msqueue: Michael-Scott FIFO, stack:
# Treiber LIFO) through the skeleton driver: userspace threads only, kernel
# workers only, and both at once; every run verifies the structure from both
# sides and checks conservation (inserts - deletes = elements = allocator
# objects - fixed objects), and no run may report an error code.
#   quick:  mixed and insert-only workloads
#   verify / stress: every workload, stress with more threads and operations
. "$(dirname "$0")/../lib.sh"
need_root

lin_history() {
	local try out
	for try in 1 2 3; do
		out=$($SKEL -D "$1" -K -t 2 -o 200 -k 16 -v --history "$TLOG.hist" --seed $try 2>&1)
		echo "$out" | grep -q 'lincheck: UNKNOWN' || break
	done
	echo "$out"
	echo "$out" | grep -q 'Verification: PASS'
}

case "$TEST_MODE" in
stress) workloads="insert search delete mixed"; T=4; OPS=200000 ;;
verify) workloads="insert search delete mixed"; T=2; OPS=20000 ;;
*)      workloads="mixed insert"; T=2; OPS=20000 ;;
esac

for ds in msqueue stack; do
	if ! $SKEL -D help | awk '{ print $1 }' | grep -qx "$ds"; then
		_n=$((_n + 1))
		echo "ok $_n - $ds # SKIP not registered"
		continue
	fi
	for w in $workloads; do
		check_out "$ds: userspace + kernel, -w $w" \
			'Verification: PASS' \
			$SKEL -D "$ds" -K -t $T -o $OPS -w $w -v
		last_out >"$TLOG.run"
		check "$ds: -w $w reports no errors" \
			grep -qE '^Failures: .* 0 errors' "$TLOG.run"
	done
	check_out "$ds: userspace threads only" 'Verification: PASS' \
		$SKEL -D "$ds" -t $T -o $OPS -v --no-stats
	check_out "$ds: kernel workers only" 'Verification: PASS' \
		$SKEL -D "$ds" -K -t 0 -o $OPS -v --no-stats
	check_out "$ds: four threads, small key range" 'Verification: PASS' \
		$SKEL -D "$ds" -K -t 4 -o $((OPS / 2)) -k 16 -v --no-stats
	# Every operation of every context recorded, then checked against
	# the sequential FIFO / LIFO model (linearizability).
	# A FIFO/LIFO search can run out of its time or memory bound on an
	# unlucky interleaving (UNKNOWN: nothing decided, docs/LINCHECK.md);
	# then a fresh history is taken, up to three times.  FAIL fails at once.
	if $SKEL --help | grep -q -- '--history'; then
		check_out "$ds: history is linearizable" 'Linearizability.*PASS' \
			lin_history "$ds"
		rm -f "$TLOG.hist"
	fi
done
rm -f "$TLOG.run"
check "nothing left attached" no_leftover_progs
done_testing
