#!/usr/bin/env bash
# The hash table and the skip list under the skeleton driver: userspace
# threads, kernel workers and hooks on one structure, then verify from both
# sides and conservation.  Root only (BPF).  Quick mode: about a dozen runs.
. "$(dirname "$0")/../lib.sh"
need_root

OPS=$(scale 20000 200000)
KOPS=$(scale 100000 1000000)
PASS='Verification: PASS'

# Extra assertions on the output of the last skeleton run (saved by keep).
keep() { saved=$(last_out); }
out_has() { check "$1" grep -qE -- "$2" <<<"$saved"; }

check_out "-D help lists hash and skiplist" '^skiplist ' \
	bash -c "$SKEL -D help | grep '^hash '; $SKEL -D help"

for ds in hash skiplist; do
	check_out "$ds: -K -t 2 -o $KOPS -v (the issue's bar)" "$PASS" \
		$SKEL -D $ds -K -t 2 -o $KOPS -v
	keep
	out_has "$ds: kernel workers ran, no errors" 'workers: [1-9][0-9]* ops, [0-9]+ misses, 0 errors'
	out_has "$ds: conservation (allocator current == elements)" \
		'inserts - deletes = [0-9]+ = elements = allocator current'
	check_out "$ds: kernel only, userspace verify walks kernel-made nodes" "$PASS" \
		$SKEL -D $ds -t 0 -K -o $OPS -w insert -k 1000000 -v
	check_out "$ds: small key range, high contention" "$PASS" \
		$SKEL -D $ds -t 4 -K -o $OPS -k 16 -v
	check_out "$ds: insert-only, 1 thread, exact element count" "Elements in $ds: 100\$" \
		$SKEL -D $ds -t 1 -o 100 -w insert -k 1000000 --hooks off
	if [ "$TEST_MODE" = stress ]; then
		check_out "$ds: userspace only, 4 threads" "$PASS" $SKEL -D $ds -t 4 -o $OPS -v
		check_out "$ds: delete workload" "$PASS" $SKEL -D $ds -t 2 -K -o $OPS -w delete -v
		check_out "$ds: search workload" "$PASS" $SKEL -D $ds -t 2 -K -o $OPS -w search -v
		check_out "$ds: wide keys, 1M range" "$PASS" \
			$SKEL -D $ds -t 2 -K -o $OPS -k 1000000 -v
	fi
done
check_out "skiplist: range workload" "$PASS" $SKEL -D skiplist -t 2 -K -o $OPS -w range -v
done_testing
