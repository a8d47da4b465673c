#!/usr/bin/env bash
# The array-based queue family through the skeleton driver: mpmc (Vyukov
# MPMC ring), spsc (single-producer single-consumer ring, roles assigned by
# the driver) and deque (Chase-Lev, one owner, thieves).  Userspace threads,
# kernel workers, and both at once, including a role in each world; every
# run verifies from both sides and may report no error code (FULL and
# NOT_FOUND are expected misses of bounded rings, not errors).
#   quick:  the main combinations
#   verify / stress: more operations and every workload
. "$(dirname "$0")/../lib.sh"
need_root

case "$TEST_MODE" in
stress) workloads="insert search delete mixed"; T=4; OPS=200000 ;;
verify) workloads="insert search delete mixed"; T=2; OPS=50000 ;;
*)      workloads="mixed insert"; T=2; OPS=20000 ;;
esac

registered() { $SKEL -D help | awk '{ print $1 }' | grep -qx "$1"; }

skip() {
	_n=$((_n + 1))
	echo "ok $_n - $1 # SKIP not registered"
}

# run NAME ARGS...: verified from both sides with conservation (the slots
# are inline, DS_CAP_INLINE: no allocator object per element), and no error
# code anywhere.
run() {
	local name=$1
	shift
	check_out "$name" '^Verification: PASS' $SKEL "$@" -v
	last_out >"$TLOG.run"
	check "$name: no errors" grep -qE '^Failures: .* 0 errors' "$TLOG.run"
}

if registered mpmc; then
	for w in $workloads; do
		run "mpmc: userspace + kernel, -w $w" -D mpmc -K -t $T -o $OPS -w $w
	done
	run "mpmc: userspace threads only" -D mpmc -t $((T + 2)) -o $OPS
	run "mpmc: kernel workers only" -D mpmc -K -t 0 -o $OPS
	run "mpmc: small key range" -D mpmc -K -t $T -o $((OPS / 2)) -k 16
	check_out "mpmc: a full ring answers FULL (a miss), never an error" \
		'^Failures: [0-9]+ expected misses.*, 0 errors' \
		$SKEL -D mpmc -t 2 -o 10000 -w insert --hooks off
else
	skip mpmc
fi

if registered spsc; then
	# The driver puts the consumer in the other world when there is one.
	run "spsc: user producer, kernel consumer" -D spsc -K -t $T -o $OPS
	check_out "spsc: -K -t $T: the consumer is a kernel worker" \
		'roles: thread 0 = producer, .*kernel worker 0 = consumer' \
		$SKEL -D spsc -K -t $T -o 1000 --no-stats
	run "spsc: producer and consumer threads" -D spsc -t 2 -o $OPS
	check_out "spsc: -t 2: both roles are threads" \
		'roles: thread 0 = producer, thread 1 = consumer' \
		$SKEL -D spsc -t 2 -o 1000 --no-stats
	run "spsc: kernel producer, kernel consumer" -D spsc -K -t 0 --kworkers 2 -o $OPS
	# More items than the ring holds: the producer retries FULL and the
	# consumer drains until the producer is done, so every insert
	# succeeds (no miss anywhere) and the ring ends empty.
	OVER=$((4096 * 12))
	check_out "spsc: $OVER items through a 4096 ring, no FULL miss" \
		"^TOTAL +$((2 * OVER)) +$OVER +$OVER +0 +0 +0 " $SKEL -D spsc -t 2 -o $OVER -v
	last_out >"$TLOG.run"
	check "spsc: the consumer drained it" grep -qx '  Elements in spsc: 0' "$TLOG.run"
	check "spsc: the producer met FULL and retried" \
		grep -qE '^Roles: producer FULL retries [1-9][0-9]* \(0 ran out' "$TLOG.run"
	run "spsc: overlap with a kernel consumer" -D spsc -t 1 -K --kworkers 1 -o $OVER
	check "spsc: kernel consumer took all $OVER" grep -qE "^0 +$OVER +0 +$OVER +0 +0 +0 " "$TLOG.run"
else
	skip spsc
fi

if registered deque; then
	run "deque: owner thread, thieves everywhere" -D deque -K -t $T -o $OPS
	run "deque: user owner, kernel thieves" -D deque -t 1 -K --kworkers 2 -o $OPS
	check_out "deque: the thieves are kernel workers" \
		'roles: thread 0 = owner, kernel worker 0 = thief, kernel worker 1 = thief' \
		$SKEL -D deque -t 1 -K --kworkers 2 -o 1000 --no-stats
	run "deque: kernel owner, kernel thieves" -D deque -K -t 0 --kworkers 2 -o $OPS
	# The owner retries a FULL push and the thieves keep stealing until the
	# owner is done: every push succeeds and nothing is left.
	run "deque: thieves drain after the owner" -D deque -t 1 -K --kworkers 2 -o $((OPS * 2)) \
		--json "$TLOG.json"
	check "deque: empty at the end" grep -qx '  Elements in deque: 0' "$TLOG.run"
	check "deque: every push succeeded, pops + steals = pushes" python3 -c "
import json
w = json.load(open('$TLOG.json'))['workers']
owner = w[0]['counts']
assert owner['inserts'] == owner['inserts_ok'], owner
taken = owner['pops_ok'] + sum(x['counts']['deletes_ok'] for x in w[1:])
assert taken == owner['inserts_ok'], (taken, owner)
"
	rm -f "$TLOG.json"
else
	skip deque
fi

rm -f "$TLOG.run"
check "nothing left attached" no_leftover_progs
done_testing
