#!/usr/bin/env bash
# make soak: every structure family under all contexts at once (userspace
# threads, kernel workers and kernel hooks) for SOAK_SECS seconds per
# family (default 600), split evenly over the family's structures.  Each run
# must end with verify PASS (which includes conservation: inserts - deletes
# = elements = allocator objects - fixed objects), and memory must stay
# flat: the process RSS and the arena's resident pages are sampled at 20 %
# and at 90 % of the run; the end may exceed the start by at most 50 % +
# 16 MiB.  The table also shows the pages the allocator still holds after
# the final reclaim (btree's init-time arrays alone take over a thousand).
# Exit 1 on any failure.  Root only (BPF).  Not part of `make test`.
set -u
cd "$(dirname "$0")/.." || exit 2
SKEL=${SKEL:-./skeleton}
SOAK_SECS=${SOAK_SECS:-600}
FAMILIES=${SOAK_FAMILIES:-"list,hash,skiplist tree,btree,pq msqueue,stack mpmc,spsc,deque"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# KiB resident: the whole process, and the arena mapping (anon_inode:bpf-map
# rw-s, the largest one).
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
arena_kb() {
	awk '/^[0-9a-f]+-[0-9a-f]+ rw-s .*anon_inode:bpf-map/ { split($1, r, "-"); in_a = 1; next }
	     /^[0-9a-f]+-[0-9a-f]+ / { in_a = 0 }
	     in_a && /^Rss:/ { if ($2 > best) best = $2 }
	     END { print best + 0 }' "/proc/$1/smaps" 2>/dev/null || echo 0
}
flat() { [ "$2" -le $(( $1 * 3 / 2 + 16384 )) ]; }

fail=0
printf '%-9s %5s  %-6s %10s %9s %9s  %9s %9s  %9s %9s  %s\n' structure secs result elements \
	objects held rss0_kB rss1_kB arena0_kB arena1_kB verdict
for fam in $FAMILIES; do
	IFS=, read -r -a members <<<"$fam"
	per=$(( SOAK_SECS / ${#members[@]} ))
	[ $per -lt 5 ] && per=5
	for ds in "${members[@]}"; do
		out="$tmp/$ds.out"
		$SKEL -D "$ds" -K -t 2 -v -k 1000 -o 1000000000 -d "$per" >"$out" 2>&1 &
		pid=$!
		sleep "$(awk -v p=$per 'BEGIN { print p * 0.2 }')"
		r0=$(rss_kb $pid); a0=$(arena_kb $pid)
		sleep "$(awk -v p=$per 'BEGIN { print p * 0.7 }')"
		r1=$(rss_kb $pid); a1=$(arena_kb $pid)
		wait $pid
		rc=$?
		res=FAIL
		grep -q 'Verification: PASS' "$out" && [ $rc -eq 0 ] && res=PASS
		elems=$(awk '/^  Elements in/ { print $NF }' "$out" | tail -1)
		objs=$(awk '/Current allocs:/ { print $3 }' "$out" | tail -1)
		held=$(awk '/Pages held:/ { print $3 }' "$out" | tail -1)
		verdict=ok
		if [ $res != PASS ]; then
			verdict="verify: $(grep -m1 'Verification' "$out" | cut -c1-80)"
		elif ! flat "$r0" "$r1"; then
			verdict="RSS grew"
		elif ! flat "$a0" "$a1"; then
			verdict="arena pages grew"
		fi
		[ "$verdict" != ok ] && fail=1
		printf '%-9s %5s  %-6s %10s %9s %9s  %9s %9s  %9s %9s  %s\n' "$ds" "$per" "$res" \
			"${elems:-?}" "${objs:-?}" "${held:-?}" "$r0" "$r1" "$a0" "$a1" "$verdict"
		[ "$verdict" != ok ] && tail -5 "$out" | sed 's/^/    /'
	done
done
exit $fail
