#!/usr/bin/env bash
# Every registered structure, driven from userspace threads and kernel
# workers at once, then verified from both sides with conservation.
#   quick:  mixed workload per structure
#   verify: every workload per structure (make test-verify)
#   stress: every workload, more threads and operations (make test-stress)
. "$(dirname "$0")/../lib.sh"
need_root

case "$TEST_MODE" in
stress) workloads="insert search delete mixed range"; T=4; OPS=200000; K=4096 ;;
verify) workloads="insert search delete mixed range"; T=2; OPS=20000; K=1024 ;;
*)      workloads="mixed"; T=2; OPS=20000; K=1024 ;;
esac

for ds in $($SKEL -D help | awk 'NR > 1 && !/^ / { print $1 }'); do
	for w in $workloads; do
		# A structure without range refuses -w range (exit 2).
		if [ "$w" = range ] && $SKEL -D "$ds" -w range -t 1 -o 1 --hooks off 2>&1 |
			grep -q 'has no range operation'; then
			check_out "$ds: -w range refused, no range operation" 'has no range' \
				bash -c "$SKEL -D $ds -w range -t 1 -o 1; test \$? -eq 2"
			continue
		fi
		check_out "$ds: -K -t $T -o $OPS -w $w -v" 'Verification: PASS' \
			$SKEL -D "$ds" -K -t $T -o $OPS -k $K -w $w -v --no-stats
	done
	check_out "$ds: high contention (-k 16)" 'Verification: PASS' \
		$SKEL -D "$ds" -K -t $T -o $((OPS / 4)) -k 16 -v --no-stats
done
check "nothing left attached" no_leftover_progs
done_testing
