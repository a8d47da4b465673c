#!/usr/bin/env bash
# The lock-based ordered structures (tree: AVL, btree: B+ tree, pq: binary
# min-heap) under the skeleton driver: userspace threads, kernel workers and
# hooks on one structure, then verify from both sides and conservation.
# Root only (BPF).
#
# Every operation takes the structure's arena spinlock.  A BPF program gives
# up on it after a bounded spin with DS_ERROR_BUSY (the operation does
# nothing): on this kernel (no preemption) a kernel worker cannot wait out a
# descheduled userspace holder.  So runs with kernel workers may report busy
# errors, and only those; userspace-only runs must report none.
. "$(dirname "$0")/../lib.sh"
need_root

OPS=$(scale 20000 200000)
KOPS=$(scale 100000 1000000)
PASS='Verification: PASS'
ONLY_BUSY='^Failures: .*, (0 errors|[0-9]+ errors busy=[0-9]+)$'
NO_ERRORS='^Failures: .*, 0 errors'

keep() { saved=$(last_out); }
out_has() { check "$1" grep -qE -- "$2" <<<"$saved"; }

for ds in tree btree pq; do
	if ! $SKEL -D help | awk '{ print $1 }' | grep -qx "$ds"; then
		_n=$((_n + 1))
		echo "ok $_n - $ds # SKIP not registered"
		continue
	fi
	check_out "$ds: -K -t 2 -o $KOPS -v (the issue's bar)" "$PASS" \
		$SKEL -D $ds -K -t 2 -o $KOPS -v
	keep
	out_has "$ds: no error but busy" "$ONLY_BUSY"
	check_out "$ds: userspace threads only, no errors" "$NO_ERRORS" \
		$SKEL -D $ds -t 4 -o $OPS -v --hooks off
	keep
	out_has "$ds: userspace threads only, verified" "$PASS"
	check_out "$ds: kernel only, userspace verify walks kernel-made nodes" "$PASS" \
		$SKEL -D $ds -t 0 -K -o $OPS -w insert -k 1000000 -v
	check_out "$ds: small key range, high contention" "$PASS" \
		$SKEL -D $ds -t 4 -K -o $OPS -k 16 -v
	if [ "$TEST_MODE" = stress ]; then
		check_out "$ds: delete workload" "$PASS" $SKEL -D $ds -t 2 -K -o $OPS -w delete -v
		check_out "$ds: search workload" "$PASS" $SKEL -D $ds -t 2 -K -o $OPS -w search -v
	fi
done
for ds in tree btree; do
	check_out "$ds: insert-only, 1 thread, exact element count" "Elements in $ds: 100\$" \
		$SKEL -D $ds -t 1 -o 100 -w insert -k 1000000 --hooks off
	check_out "$ds: range workload" "$PASS" $SKEL -D $ds -t 2 -K -o $OPS -w range -v
done
check "nothing left attached" no_leftover_progs
done_testing
