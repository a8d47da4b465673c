#!/usr/bin/env bash
# Runtime detection, for real: the hooks the kernel allows (LSM or
# tracepoints) and the page path of the non-sleepable hooks (reserve only
# before 7.0, any context from 7.0), as the start line, the report and
# --json show them; inserts from the hooks under each path.
# Root only (BPF).  scripts/vmtest.sh runs it under other kernels.
. "$(dirname "$0")/../lib.sh"
need_root

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
major=$(uname -r | cut -d. -f1)
if [ "$major" -ge 7 ]; then
	path='any context'
else
	path='reserve \(sleepable-only kernel\)'
fi

check_out "start line: page path of this kernel ($(uname -r))" "^page alloc: $path\$" \
	$SKEL -t 1 -o 100 -K
check_out "report: page path and direct pages" "page alloc: $path, [0-9]+ pages taken directly" \
	$SKEL -t 1 -o 100 -K -v
check "--json: page_alloc and hooks as the start line says" \
	bash -c "$SKEL -t 1 -o 100 -K --json $tmp/r.json >$tmp/r.out &&
		grep -qE '\"page_alloc\": \"$path\"' $tmp/r.json &&
		h=\$(sed -n 's/.*hooks: \\([a-z]*\\).*/\\1/p' $tmp/r.out) && [ -n \"\$h\" ] &&
		grep -q \"\\\"hooks\\\": \\\"\$h\\\"\" $tmp/r.json &&
		grep -qE '\"hook_direct_pages\": [0-9]+' $tmp/r.json"

# Processes creating files while the driver runs: each is a new key the
# create hook inserts (a page taken from the reserve, or on any-context
# kernels from the kernel when the reserve is empty); none may fail.  The
# files are new ones each run (an LSM create hook sees only new inodes),
# made once the hooks are attached (loading can take seconds under
# emulation).
hook_run() {
	local mode=$1 i pid rc
	$SKEL --hooks "$mode" -t 1 -o 1000000000 -k 64 -d 4 -v >"$tmp/$mode.run" 2>&1 &
	pid=$!
	for i in $(seq 300); do
		grep -q '^page alloc:' "$tmp/$mode.run" && break
		sleep 0.1
	done
	sleep 0.5
	for i in $(seq 200); do touch "$tmp/$mode-$i"; done
	wait "$pid"
	rc=$?
	cat "$tmp/$mode.run"
	return "$rc"
}
check_out "tracepoint hooks insert, verified" 'Verification: PASS' hook_run tp
last_out >"$tmp/tp.out"
check_out "tracepoint hooks: creates counted, 0 errors" \
	'hooks: +[0-9]+ ops, [0-9]+ misses, 0 errors \(create=[1-9]' grep -E 'hooks: |page alloc: |errors|BUSY|NOMEM' "$tmp/tp.out"
if $SKEL --hooks lsm -t 1 -o 10 >/dev/null 2>&1; then
	check_out "LSM hooks insert, verified" 'Verification: PASS' hook_run lsm
	last_out >"$tmp/lsm.out"
	check_out "LSM hooks: creates counted, 0 errors" \
		'hooks: +[0-9]+ ops, [0-9]+ misses, 0 errors \(create=[1-9]' grep -E 'hooks: |page alloc: |errors|BUSY|NOMEM' "$tmp/lsm.out"
else
	_n=$((_n + 1)); echo "ok $_n # SKIP this kernel refuses LSM BPF programs"
	_n=$((_n + 1)); echo "ok $_n # SKIP this kernel refuses LSM BPF programs"
fi
check "no program left behind" no_leftover_progs
done_testing
