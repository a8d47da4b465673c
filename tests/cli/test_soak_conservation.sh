#!/usr/bin/env bash
# Issue 16, items 7 and 11: a run of user threads and kernel workers for a
# while (a short soak) ends with nothing lost and the pages back:
#   - verify PASS, including "allocator objects = elements + fixed objects";
#   - pages held after the final reclaim close to what the live nodes need
#     (at most one page per live object plus a margin), not tens of
#     thousands (refill pages were counted twice, and one reclaim pass over
#     millions of free objects gave back only a window of them).
# Root only (BPF).
. "$(dirname "$0")/../lib.sh"
need_root

SECS=$(scale 8 60)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Pages held <= current allocations + MARGIN (allocator state, init-time
# arrays, reserve).
pages_flat() {
	awk -v margin="$2" '
		/Current allocs:/ { cur = $3 }
		/Pages held:/ { held = $3 }
		END { if (held == "" || cur == "") exit 1
		      if (held > cur + margin) { print "held " held " for " cur " objects"; exit 1 } }' "$1"
}

for ds in msqueue stack; do
	check_out "$ds: ${SECS}s of threads + kernel workers verifies, nothing lost" \
		'Verification: PASS.*= allocator current' \
		$SKEL -D $ds -K -t 2 -v -k 1000 -o 1000000000 -d $SECS
	last_out >"$tmp/$ds.out"
	check "$ds: pages held after reclaim follow the live objects" pages_flat "$tmp/$ds.out" 400
done
check "no program left behind" no_leftover_progs
done_testing
