#!/usr/bin/env bash
# Inside a scripts/vmtest.sh guest (chroot on the host's root + overlay):
#   vmtest-guest.sh REPO full|smoke|cmd
# Prints the kernel, the LSMs, which hooks and page path the driver chose,
# then runs the driver tests (tests/cli/*.sh, or the smoke run) and ends
# with "VMTEST: N passed, N failed".  Lines for the host start "VMTEST: ".
set -u
cd "$1" || { echo "VMTEST: error: no $1 in the guest"; echo "VMTEST: 0 passed, 1 failed"; exit 1; }
MODE=${2:-full}
export TEST_MODE=${TEST_MODE:-quick}
echo "VMTEST: kernel $(uname -r), LSMs $(cat /sys/kernel/security/lsm 2>/dev/null || echo '?')"

# What the driver picks here (its start line and report).
info=$(timeout 120 ./skeleton -t 1 -o 200 -K 2>&1)
echo "$info" | sed 's/^/  skeleton: /' | grep -E 'hooks|page alloc' | head -4
echo "VMTEST: hooks $(echo "$info" | sed -n 's/.*hooks: \([a-z]*\).*/\1/p' | head -1)"
echo "VMTEST: page alloc $(echo "$info" | sed -n 's/^page alloc: //p' | head -1)"

pass=0
fail=0
count() {	# $1: TAP log
	local ok bad
	ok=$(grep -cE '^ok ' "$1")
	bad=$(grep -cE '^not ok' "$1")
	pass=$((pass + ok))
	fail=$((fail + bad))
	[ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && fail=$((fail + 1)) && echo "not ok - $2: no test case ran"
	grep -E '^(not )?ok' "$1" | sed "s|^|$2: |"
}

mkdir -p /tmp/vmtest
if [ "$MODE" = cmd ]; then
	timeout -k 5 1800 bash "$VMTEST_CMD" 2>&1 | tee /tmp/vmtest/cmd.log
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] && pass=1 || { fail=1; echo "not ok - command exited with $rc"; }
elif [ "$MODE" = smoke ]; then
	log=/tmp/vmtest/smoke.log
	{
		if timeout -k 5 300 ./skeleton --hooks lsm -K -t 2 -o 20000 -v >/tmp/vmtest/sk 2>&1; then
			echo "ok 1 - skeleton --hooks lsm -K -t 2 -o 20000 -v"
		else
			echo "not ok 1 - skeleton --hooks lsm -K -t 2 -o 20000 -v"
			tail -20 /tmp/vmtest/sk | sed 's/^/#   /'
		fi
		if grep -q 'hooks: lsm' /tmp/vmtest/sk; then
			echo "ok 2 - LSM hooks in force"
		else
			echo "not ok 2 - LSM hooks in force"
		fi
	} >"$log"
	grep '^#' "$log"
	count "$log" smoke
else
	for t in tests/cli/test_*.sh; do
		name=$(basename "$t" .sh)
		name=${name#test_}
		case ",${VMTEST_TESTS:-all}," in
		",all,"|*",$name,"*) ;;
		*) continue ;;
		esac
		start=$(date +%s)
		timeout -k 10 "${TEST_TIMEOUT:-900}" bash "$t" >"/tmp/vmtest/$name.log" 2>&1
		rc=$?
		count "/tmp/vmtest/$name.log" "$name"
		grep -A15 '^not ok' "/tmp/vmtest/$name.log" | grep '^#' | head -20
		[ "$rc" -ne 0 ] && ! grep -q '^not ok' "/tmp/vmtest/$name.log" &&
			{ fail=$((fail + 1)); echo "not ok - $name: exited with status $rc"; tail -5 "/tmp/vmtest/$name.log"; }
		echo "VMTEST: $name $(( $(date +%s) - start )) s"
	done
fi
echo "VMTEST: $pass passed, $fail failed"
