#!/usr/bin/env bash
# -w relay: kernel producers -> lane A -> userspace movers -> lane B ->
# kernel consumers.  Every FIFO structure relays with -v (exactly once,
# per-producer order, both lanes verified and empty); the per-lane table and
# the JSON carry throughput and latency percentiles; other structures are
# refused; a mover that drops, duplicates or reorders one item (a test-only
# fault, SKELETON_RELAY_FAULT) makes -v FAIL with the item named.
#   quick:  a few seconds per run
#   stress: longer runs, more movers, producers and consumers
. "$(dirname "$0")/../lib.sh"
need_root

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
D=$(scale 2 10)
OPS=$(scale 200000 20000000)
T=$(scale 2 4)
P=$(scale 2 3)

registered() { $SKEL -D help | awk '{ print $1 }' | grep -qx "$1"; }

# relay NAME ARGS...: passes verification and prints the lane table.
relay() {
	local name=$1
	shift
	check_out "$name" '^Verification: PASS - [0-9]+ items each left lane A and lane B exactly once' \
		$SKEL -w relay "$@" -v
	last_out >"$tmp/run"
	check "$name: lane table with p50/p90/p99/max" \
		grep -qE '^Lane +Items +Items/sec +p50\(us\) +p90\(us\) +p99\(us\) +max\(us\)' "$tmp/run"
	check "$name: rows for lane A, lane B and end-to-end" \
		bash -c "grep -qE '^A \(kernel->user\) +[1-9][0-9]* +[0-9]+ ' '$tmp/run' &&
			 grep -qE '^B \(user->kernel\) +[1-9][0-9]* +[0-9]+ ' '$tmp/run' &&
			 grep -qE '^end-to-end +[1-9][0-9]* ' '$tmp/run'"
	check "$name: nothing lost, duplicated or out of order" \
		grep -qE '^  lost 0, duplicated 0, order violations A 0 / B 0$' "$tmp/run"
}

relay "msqueue: relay" -D msqueue -t $T -o $OPS -d $D

# --rate: the producers offer a fixed rate, so the latency is the channel's
# and not a queue's: the end-to-end rate stays at or under the offer (and
# near it), and -v still checks every item.
relay "msqueue: relay at --rate 20000" -D msqueue -t $T --rate 20000 -d $D
check "msqueue: --rate 20000 gives 5000..21000 items/s end to end" \
	awk '/^end-to-end/ { ok = $3 >= 5000 && $3 <= 21000 } END { exit !ok }' "$tmp/run"
check_fail "--rate without -w relay is refused" $SKEL -D msqueue --rate 1000 -o 10
check_out "--rate without -w relay: one line and exit 2" '^rc=2$' \
	bash -c "$SKEL -D msqueue --rate 1000 -o 10 >/dev/null 2>&1; echo rc=\$?"
relay "msqueue: relay, $P producers and consumers" -D msqueue -t $T --kworkers $P -o $OPS -d $D
if registered mpmc; then
	relay "mpmc: relay" -D mpmc -t $T -o $OPS -d $D
	relay "mpmc: relay, $P producers and consumers" -D mpmc -t $((T + 1)) --kworkers $P \
		-o $OPS -d $D
fi
if registered spsc; then
	relay "spsc: relay, one mover" -D spsc -t 1 -o $OPS -d $D
fi

# Only FIFO structures relay; the refusal is one line and exit status 2.
refused() {
	local want=$1 out rc
	shift
	out=$($SKEL "$@" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "$want"
}
for ds in stack deque list; do
	registered $ds && check "$ds: relay refused in one line, exit 2" \
		refused 'needs a FIFO structure' -D $ds -w relay
done
registered spsc && check "spsc: two movers would break its roles: refused, exit 2" \
	refused 'allows one producer and one consumer per lane' -D spsc -w relay -t 2
check "relay without movers refused, exit 2" refused 'mover threads' -D msqueue -w relay -t 0
check "relay with --history refused, exit 2" \
	refused 'does not record histories' -D msqueue -w relay --history "$tmp/h.log"

# JSON: the relay block with every lane's numbers.
check "relay --json" $SKEL -D msqueue -w relay -t $T -o 50000 -d $D -v --json "$tmp/r.json"
check "JSON has the relay lanes, latencies and exactly-once counts" python3 -c "
import json
d = json.load(open('$tmp/r.json'))
r = d['relay']
assert d['workload'] == 'relay' and d['verification'] == 'PASS'
assert r['produced'] == r['moved'] == r['consumed'] == 50000, r
for lane in ('A', 'B', 'end_to_end'):
    l = r['lanes'][lane]
    assert l['items'] == 50000 and l['items_per_sec'] > 0, l
    q = l['latency_ns']
    assert 0 < q['p50'] <= q['p90'] <= q['p99'] <= q['max'], q
assert r['lost'] == 0 and r['duplicated'] == 0
assert r['order_violations_a'] == 0 and r['order_violations_b'] == 0
assert r['elements_a'] == 0 and r['elements_b'] == 0
"

# A broken mover must be caught: its item is named, exit status 1.
# (-o 8000 is below the ring of side records: the end-of-run check finds it;
# with more items the producer finds it when it reuses the record.)
broken() {
	local fault=$1 want=$2
	shift 2
	SKELETON_RELAY_FAULT=$fault $SKEL -w relay -o 8000 -d $D "$@" -v >"$tmp/b.out" 2>&1
	local rc=$?
	cat "$tmp/b.out"
	[ "$rc" -eq 1 ] && grep -qE "^Verification: FAIL - $want" "$tmp/b.out"
}
check "msqueue: a dropped item fails -v, named" broken drop \
	'exactly once: 1 item\(s\) lost, 0 duplicated; first: producer 0 item 100 left lane A 1 times and lane B 0 times' \
	-D msqueue -t $T
check "msqueue: a duplicated item fails -v, named" broken dup \
	'exactly once: 0 item\(s\) lost, 1 duplicated; first: producer 0 item 100 left lane A 1 times and lane B 2 times' \
	-D msqueue -t $T
check "msqueue: the duplicate also breaks per-(producer, mover) order" \
	grep -qE '^  lost 0, duplicated 1, order violations A 0 / B 1; injected test fault: dup' "$tmp/b.out"
check "msqueue: a duplicate is found when its record is reused" broken dup \
	'exactly once: 0 item\(s\) lost, 1 duplicated; first: producer 0 item 100 left lane A 1 times and lane B 2 times' \
	-D msqueue -t $T -o 100000
# Two items put into lane B the wrong way round: nothing lost, but the
# consumer sees that mover's items of that producer out of order.
check "msqueue: two items swapped by a mover fail the order check" broken swap \
	'order: consumer 0 got producer 0.s item 100 via mover [0-9]+ after item [0-9]+ from lane B' \
	-D msqueue -t $T
if registered mpmc; then
	check "mpmc: a dropped item fails -v" broken drop 'exactly once: 1 item\(s\) lost' -D mpmc -t $T
fi

check "nothing left attached" no_leftover_progs
done_testing
