#!/usr/bin/env bash
# The allocator seen through the driver: pages go back to the kernel when
# structures shrink, the statistics show it (text and JSON), and a small
# arena still ends in clean NOMEM answers and a verified structure.  The
# basic small-arena checks are in test_skeleton.sh.  Root only (BPF).
. "$(dirname "$0")/../lib.sh"
need_root

OPS=$(scale 20000 200000)
KEYS=$(scale 8000 80000)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Delete-heavy: every second key is prefilled, then deleted (about ten hits
# per key), so whole pages empty out and go back.
check_out "delete-heavy run verifies" 'Verification: PASS' \
	$SKEL -t 2 -K --kworkers 2 -o $OPS -k $KEYS -w delete -v --json "$tmp/del.json"
last_out >"$tmp/del.out"
check_out "pages returned to the kernel > 0" 'Pages held: +[0-9]+ \(returned to kernel [1-9][0-9]*,' \
	cat "$tmp/del.out"
check_out "nothing left in quarantine or caches at exit" \
	'quarantined 0,.*' cat "$tmp/del.out"
check_out "caches flushed at exit" 'Caches: +0 objects cached' cat "$tmp/del.out"
check_out "existing memory lines keep their format" \
	'^  Pages from kernel: [0-9]+ \(reserve [0-9]+, userspace refills [0-9]+\)$' cat "$tmp/del.out"
check_out "per-class line: 32-byte list nodes, allocs = frees + current" \
	'^  32 +[0-9]+ +[0-9]+ +[0-9]+$' cat "$tmp/del.out"
check "class line adds up" awk '$1 == 32 && NF == 4 { ok = ($2 == $3 + $4) } END { exit !ok }' \
	"$tmp/del.out"
check "JSON: pages returned, held, per-class counts" python3 -c "
import json, sys
m = json.load(open('$tmp/del.json'))['memory']
assert m['pages_returned'] > 0, m
assert m['pages_held'] + m['pages_returned'] == m['pages_total'], m
c = [x for x in m['classes'] if x['size'] == 32][0]
assert c['allocs'] - c['frees'] == c['current'] == m['current'], m
assert sum(x['allocs'] for x in m['classes']) == m['allocations'], m
"
check_out "hash, delete-heavy: verified" 'Verification: PASS' \
	$SKEL -D hash -t 2 -K --kworkers 2 -o $OPS -k $KEYS -w delete -v
last_out >"$tmp/hash.out"
check_out "hash, delete-heavy: pages returned" 'returned to kernel [1-9]' cat "$tmp/hash.out"
check_out "stack drained by pops: pages returned" 'returned to kernel [1-9]' \
	$SKEL -D stack -t 2 -K --kworkers 2 -o $OPS -k $KEYS -w delete -v

# Small arena, several size classes (skiplist towers): clean NOMEM answers,
# nothing lost, and the run still verifies after the pages moved around.
check_out "small arena, skiplist: NOMEM counted as errors" 'out of memory=[1-9]' \
	$SKEL --arena-pages 48 -D skiplist -t 2 -K -o $OPS -k 3000 -v
last_out >"$tmp/small.out"
check_out "small arena, skiplist: verified" 'Verification: PASS' cat "$tmp/small.out"
# Exhaust, then delete: the same arena serves again (the mixed workload
# after the insert phase finds room).
check_out "small arena: insert-only exhausts" 'out of memory=[1-9]' \
	$SKEL --arena-pages 40 -t 2 -o $OPS -k 1000000 -w insert -v
# (In a small arena the freed pages first refill the reserve: "recycled".)
check_out "small arena, delete after fill: pages come back" \
	'returned to kernel [1-9][0-9]*|recycled [1-9]' \
	$SKEL --arena-pages 40 -t 2 -K --kworkers 2 -o $OPS -k 4000 -w delete -v
check "no program left behind" no_leftover_progs
done_testing
