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
		# The telling lines first (a CI excerpt may show only a few),
		# then the end of the output.
		echo "# --- why: $3"
		grep -E 'FAIL|not ok|stuck|rc=[1-9]|lost [1-9]|duplicated [1-9]|[Ee]rror:|wanted' \
			"$TLOG.last" | tail -4 | sed 's/^/#   ! /'
		echo "# --- end of the output:" && tail -12 "$TLOG.last" | sed 's/^/#   /'
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

# wait_for FILE REGEX SECS: until FILE has a line matching REGEX (SECS at
# most); on a timeout, says so with FILE's first lines.  Empty FILE in this
# shell before starting its writer in the background: the writer's own
# redirection truncates it only once it runs, and until then an earlier
# run's line would match.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no /$2/ in $1 after $3 s; it begins:"
	head -5 "$1" 2>/dev/null
	return 1
}

# pinned_driver OUT ARGS...: start the driver on ARGS with its arena pinned
# at $PIN (SKELETON_TEST_PIN; the caller picks $PIN and removes it), output
# in OUT, and wait (30 s at most) for its "arena pinned" line: for tests in
# which a second process maps the live arena.  Sets DRV_PID, and ARENA_HEAD
# and ARENA_PAGES from that line (empty if it never came).
pinned_driver() {
	local out=$1 line i
	shift
	rm -f "$PIN"
	: >"$out"	# an earlier run's line must not be seen
	SKELETON_TEST_PIN=$PIN timeout 60 $SKEL "$@" >"$out" 2>&1 &
	DRV_PID=$!
	for i in $(seq 300); do
		grep -q 'arena pinned' "$out" 2>/dev/null && break
		kill -0 $DRV_PID 2>/dev/null || break
		sleep 0.1
	done
	line=$(grep 'arena pinned' "$out")
	ARENA_HEAD=$(echo "$line" | sed -n 's/.*head \(0x[0-9a-f]*\).*/\1/p')
	ARENA_PAGES=$(echo "$line" | sed -n 's/.*pages \([0-9]*\).*/\1/p')
}

# Exit status and output of the last check, for extra assertions.
last_out() { cat "$TLOG.last"; }

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "ok 1 # SKIP not root: BPF tests need root"
		exit 0
	fi
}

# No program of ours may outlive its driver: every such program still loaded
# must be held by a live process (another driver running meanwhile).
_orphan_progs() {
	local ids held id
	ids=$(bpftool prog show 2>/dev/null |
		awk '/name (ds_|lsm_|tp_openat|tp_process_exit|arena_|libarena_|skel_)/ { sub(":", "", $1); print $1 }')
	[ -z "$ids" ] && return 1
	held=$(cat /proc/[0-9]*/fdinfo/* 2>/dev/null | awk '/^prog_id:/ { print $2 }' | sort -u)
	for id in $ids; do
		echo "$held" | grep -qx "$id" || { echo "program $id left behind"; return 0; }
	done
	return 1
}
no_leftover_progs() {
	_orphan_progs || return 0
	sleep 1		# a program of a driver that just exited may take a moment
	! _orphan_progs
}

done_testing() {
	rm -f "$TLOG.last"
	[ "$_fail" -eq 0 ]
}

# Scale a count by mode: quick / verify use $1, stress uses $2.
scale() { if [ "$TEST_MODE" = stress ]; then echo "$2"; else echo "$1"; fi; }
