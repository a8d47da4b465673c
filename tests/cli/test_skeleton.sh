#!/usr/bin/env bash
# The guide's checklist for the skeleton driver, bad input, hooks, monitor,
# JSON and lifecycle.  Root only (BPF).
. "$(dirname "$0")/../lib.sh"
need_root

OPS=$(scale 1000 20000)
KOPS=$(scale 100000 1000000)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- the guide's checklist
check_out "insert-only, 1 thread" 'Elements in list: 100$' $SKEL -t 1 -o 100 -w insert -k 1000000
check_out "8 threads mixed" 'TOTAL +8000 ' $SKEL -t 8 -o 1000 -w mixed
check_out "verify passes (-t 4 -o 500 -v)" 'Verification: PASS' $SKEL -t 4 -o 500 -v
check_out "current allocations == element count" \
	'inserts - deletes = [0-9]+ = elements = allocator current' $SKEL -t 4 -o $OPS -v
check_out "kernel workers + threads + hooks, verified" 'Verification: PASS' \
	$SKEL -K -t 2 -o $KOPS -v
check_out "kernel workers report operations" 'workers: [1-9][0-9]* ops' $SKEL -K -t 2 -o 20000 -v
check_out "kernel-only run (-t 0 -K): userspace verify walks kernel-made nodes" \
	'Verification: PASS' $SKEL -t 0 -K -o 20000 -w insert -k 1000000 -v
check_out "search workload starts half full" 'Verification: PASS' $SKEL -t 2 -o 5000 -w search -v
check_out "delete workload" 'Verification: PASS' $SKEL -t 2 -K -o 5000 -w delete -v
check_out "range workload" 'Verification: PASS' $SKEL -t 2 -K -o 5000 -w range -v
# Pinned EBR sections (default 64 operations): none, and long ones.
for p in 0 1 4096; do
	check_out "--pin $p: msqueue with kernel workers verifies" 'Verification: PASS' \
		$SKEL -D msqueue -t 2 -K -o 20000 --pin $p -v
done
check_out "small key range, high contention" 'Verification: PASS' \
	$SKEL -t 4 -K -o $OPS -k 16 -v
check_out "duration bounds a long run" 'Test Duration: [12]\.' \
	$SKEL -t 2 -o 1000000000 -k 64 -d 1
check_out "-D help lists the structures" '^list ' $SKEL -D help
check_out "same seed, same key stream" 'Elements in list: ' $SKEL -t 1 -o 3000 --seed 7 --hooks off
a=$(last_out | grep 'Elements in list')
check_out "same seed again" "$a" $SKEL -t 1 -o 3000 --seed 7 --hooks off

# --- exhaustion: a small arena gives NOMEM, loses nothing, keeps working
check_out "small arena: NOMEM counted as errors" 'out of memory=[1-9]' \
	$SKEL --arena-pages 32 -t 2 -K -o 20000 -k 1000000 -w insert -v
last_out >"$tmp/small.out"
check_out "small arena: nothing stored is lost" 'Verification: PASS' cat "$tmp/small.out"
check_out "small arena, mixed: deletes make room again" 'Verification: PASS' \
	$SKEL --arena-pages 32 -t 2 -K -o 20000 -k 4000 -v
check_out "arena too small for the structure: refused with its minimum (exit 2)" \
	'too small for list: it needs at least [0-9]+ pages' \
	bash -c "$SKEL --arena-pages 4 -t 1 -o 10; test \$? -eq 2"

# --- hooks: fall back by itself where LSM programs are refused
if $SKEL -t 1 -o 10 --hooks lsm >/dev/null 2>&1; then
	check_out "auto picks LSM where it loads" 'hooks: lsm' $SKEL -t 1 -o 10
else
	check_out "auto falls back to tracepoints" 'hooks: tp \(LSM programs refused' $SKEL -t 1 -o 10
	check_out "--hooks lsm refused with one clear line (exit 2)" 'refuses LSM BPF programs' \
		bash -c "$SKEL -t 1 -o 10 --hooks lsm; test \$? -eq 2"
fi
check_out "--hooks tp" 'hooks: tp' $SKEL -t 1 -o 10 --hooks tp
check_out "--hooks off" 'hooks: off' $SKEL -t 1 -o 10 --hooks off
check_out "hooks operate while threads run" 'hooks: +[1-9][0-9]* ops' \
	bash -c "( for i in \$(seq 150); do touch $tmp/h\$i; cat /etc/hostname >/dev/null; sleep 0.02; done ) &
		 $SKEL -t 1 -o 1000000000 -k 64 -d 2 -v; wait"

# --- monitor mode: files created meanwhile show up
mon() {
	$SKEL -m -d 5 >"$tmp/mon.out" 2>&1 &
	local spid=$! n=0
	# The header is printed once the hooks are on (loading may be slow).
	while ! grep -q '^PID ' "$tmp/mon.out" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	for i in 1 2 3; do sh -c 'echo $$ >>'"$tmp"'/pids; exec touch '"$tmp"'/f$$'; done
	wait $spid || return 1
	cat "$tmp/mon.out"
	while read -r p; do grep -qE "^$p " "$tmp/mon.out" || return 1; done <"$tmp/pids"
}
check_out "monitor prints elements for files created meanwhile" 'monitor: ([3-9]|[1-9][0-9]+) elements' mon

# --- JSON
check "json output written" $SKEL -t 2 -o 500 -v --json "$tmp/r.json"
check "json is valid and complete" python3 -c "import json,sys; d=json.load(open('$tmp/r.json')); \
assert d['verification']=='PASS' and d['threads']==2 and len(d['workers'])==2, d"
check "json reports reclamation (list defers frees)" python3 -c "import json; d=json.load(open('$tmp/r.json')); \
e=d['ebr']; assert e['advances'] > 0 and e['stalls'] == 0 and e['reaped'] == 0, e"
check_out "the report shows the EBR line" 'Reclamation \(EBR\): epoch [0-9]+, [0-9]+ advances' \
	$SKEL -t 2 -o 2000 -v

# --- bad input: one clear line, usage hint, exit 2, nothing loaded
bad() {
	local out rc
	out=$($SKEL "$@" 2>&1); rc=$?
	echo "$out"
	[ $rc -eq 2 ] && [ "$(echo "$out" | grep -c .)" -le 2 ] &&
		echo "$out" | grep -q "Try .skeleton\(-san\)\? --help" && no_leftover_progs
}
check "bad: -t 0 without -K" bad -t 0
check "bad: -t -3" bad -t -3
check "bad: -t 100000" bad -t 100000
check "bad: -o abc" bad -o abc
check "bad: -k 0" bad -k 0
check "bad: -w nosuch" bad -w nosuch
check "bad: -D nosuch" bad -D nosuch
check "bad: --pin -1" bad --pin -1
check "bad: missing argument" bad -t
check "bad: unknown option" bad --frobnicate
check "bad: unexpected argument" bad extra
check "bad: --json to an unwritable path" bad --json /proc/nope/x.json
check "bad: --hooks nosuch" bad --hooks nosuch

# --- lifecycle
check "nothing left attached after runs" no_leftover_progs
sigterm() {
	$SKEL -t 2 -o 1000000000 -k 64 -d 30 >"$tmp/term.out" 2>&1 &
	local spid=$! n=0
	while ! grep -q '^skeleton: ' "$tmp/term.out" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	sleep 0.5
	kill -TERM $spid
	wait $spid
	grep -q 'TEST STATISTICS' "$tmp/term.out" && no_leftover_progs
}
check "SIGTERM stops, prints statistics, detaches" sigterm
done_testing
