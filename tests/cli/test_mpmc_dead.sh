#!/usr/bin/env bash
# Issue 16, item 6 (mpmc): a process killed holding a claimed slot of the
# live ring must not block it.  A second process (tests/cli/mpmc_die.c)
# maps a running driver's arena (SKELETON_TEST_PIN) and forks a child that
# claims a position - at the tail as a producer, or at the head as a
# consumer - and is SIGKILLed before it publishes / frees the slot, while
# threads, kernel workers and hooks run.  The ring must go past the claim
# (h->abandoned == 1, head well past the claimed position) and the run
# must verify: a dead producer's element was never counted, so the run
# passes; a dead consumer took one element with it, which the driver's
# conservation check reports (contexts added N, structure holds N - 1,
# h->lost == 1), and nothing else is wrong.
. "$(dirname "$0")/../lib.sh"
need_root

DIE=${OUTPUT:-build}/tests/mpmc_die
[ -x "$DIE" ] || make -s "$DIE" >/dev/null 2>&1 || {
	echo "not ok 1 - cannot build $DIE"; exit 1; }
D=5
tmp=$(mktemp -d)
PIN=/sys/fs/bpf/libarena_mpmc_dead_$$
trap 'rm -rf "$tmp"; rm -f "$PIN"' EXIT

# die_run SIDE: the driver's output and rc, the helper's, in $tmp/SIDE.*
die_run() {
	local side=$1 out=$tmp/$1
	pinned_driver "$out.drv" -D mpmc -t 2 -K --kworkers 2 -o 1000000000 -k 1000 -d $D -v
	[ -n "$ARENA_HEAD" ] &&
		"$DIE" "$PIN" "$ARENA_HEAD" "$ARENA_PAGES" "$side" $((D - 2)) >"$out.die" 2>&1
	wait $DRV_PID
	echo $? >"$out.rc"
}

for side in tail head; do
	die_run $side
	out=$tmp/$side
	cat "$out.drv" "$out.die" >"$TLOG.last" 2>/dev/null
	claimed=$(sed -n 's/^claimed \([0-9]*\)$/\1/p' "$out.die")
	hd=$(sed -n 's/^head \([0-9]*\) .*/\1/p' "$out.die")
	check "$side: a child process was killed holding a claim (${claimed:-none})" \
		test -n "$claimed"
	check_out "$side: the claim was taken over" 'abandoned 1 ' cat "$out.die"
	check "$side: the ring went on (head ${hd:-?} past the claim by > 4096)" \
		bash -c "[ -n '$hd' ] && [ -n '$claimed' ] && (( $hd > $claimed + 4096 ))"
	if [ $side = tail ]; then
		check_out "tail: lost 0" 'lost 0$' cat "$out.die"
		check "tail: exit 0 (got $(cat "$out.rc"))" test "$(cat "$out.rc")" = 0
		check_out "tail: verified, conservation holds" \
			'^Verification: PASS - user \+ kernel verify ok' cat "$out.drv"
	else
		check_out "head: lost 1" 'lost 1$' cat "$out.die"
		check "head: exit 1 (got $(cat "$out.rc"))" test "$(cat "$out.rc")" = 1
		n=$(sed -n 's/.*contexts added \(-*[0-9]*\) elements, structure holds \(-*[0-9]*\)$/\1 \2/p' \
			"$out.drv")
		check "head: verify ok, conservation short by the one element (${n:-no such line})" \
			bash -c "set -- $n; [ \$# = 2 ] && (( \$1 == \$2 + 1 ))"
	fi
	check "$side: nothing left attached" no_leftover_progs
done

done_testing
