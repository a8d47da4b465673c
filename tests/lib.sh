#!/usr/bin/env bash
# Helpers for tests/cli/test_*.sh: TAP output, one line per check.
#   check NAME CMD...        passes when CMD exits 0
#   check_fail NAME CMD...   passes when CMD exits non-zero
#   check_out NAME REGEX CMD...  passes when CMD exits 0 and its output matches
#   need_root                skips the whole script unless root with BPF
# Every command's output goes to $TLOG for the post-mortem.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
SKEL=${SKEL:-./skeleton}
TEST_MODE=${TEST_MODE:-quick}
TLOG=${TLOG:-$(mktemp /tmp/libarena-test.XXXXXX)}
_n=0
_fail=0

_report() {
	_n=$((_n + 1))
	if [ "$1" = ok ]; then
		echo "ok $_n - $2"
	else
		_fail=$((_fail + 1))
		echo "not ok $_n - $2"
		echo "# --- output of: $3" && tail -15 "$TLOG.last" | sed 's/^/#   /'
	fi
}

check() {
	local name=$1; shift
	if "$@" >"$TLOG.last" 2>&1; then _report ok "$name" "$*"; else _report bad "$name" "$*"; fi
	cat "$TLOG.last" >>"$TLOG"
}

check_fail() {
	local name=$1; shift
	if "$@" >"$TLOG.last" 2>&1; then _report bad "$name" "$*"; else _report ok "$name" "$*"; fi
	cat "$TLOG.last" >>"$TLOG"
}

check_out() {
	local name=$1 re=$2; shift 2
	if "$@" >"$TLOG.last" 2>&1 && grep -qE -- "$re" "$TLOG.last"; then
		_report ok "$name" "$*"
	else
		_report bad "$name" "$* (wanted /$re/)"
	fi
	cat "$TLOG.last" >>"$TLOG"
}

# Exit status and output of the last check, for extra assertions.
last_out() { cat "$TLOG.last"; }

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "ok 1 # SKIP not root: BPF tests need root"
		exit 0
	fi
}

# No program of ours may stay attached after the driver exits.
no_leftover_progs() {
	! bpftool prog show 2>/dev/null | grep -qE 'name (ds_|lsm_|tp_openat|tp_process_exit|arena_)'
}

done_testing() {
	rm -f "$TLOG.last"
	[ "$_fail" -eq 0 ]
}

# Scale a count by mode: quick / verify use $1, stress uses $2.
scale() { if [ "$TEST_MODE" = stress ]; then echo "$2"; else echo "$1"; fi; }
