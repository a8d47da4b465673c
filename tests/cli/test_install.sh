#!/usr/bin/env bash
# The library as an outside application sees it: `make install` into a
# temporary prefix, examples/minimal built from that install with
# pkg-config alone (two BPF objects of its own and the installed
# libarena-ds.bpf.o joined by bpftool gen object), run, then
# `make uninstall` leaves nothing behind.
. "$(dirname "$0")/../lib.sh"
need_root

PREFIX=$(mktemp -d /tmp/libarena-install.XXXXXX)
APP=$(mktemp -d /tmp/libarena-app.XXXXXX)
trap 'rm -rf "$PREFIX" "$APP"' EXIT
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig

check "make install PREFIX=<tmp>" make -s install PREFIX="$PREFIX"
for f in include/libarena-ds/ds_hash.h include/libarena-ds/registry_includes.h \
	lib/libarena-ds.a lib/libarena-ds.so lib/bpf/libarena-ds.bpf.o lib/pkgconfig/libarena-ds.pc; do
	check "installed $f" test -s "$PREFIX/$f"
done
check_out "pkg-config --cflags --libs libarena-ds" "-I$PREFIX/include.*-larena-ds" \
	pkg-config --cflags --libs libarena-ds
check "the example builds against the install" make -s -C examples/minimal OUT="$APP"
check "two objects and the library are one object" \
	bash -c "bpftool prog show 2>/dev/null >/dev/null; bpftool btf dump file '$APP/minimal.bpf.o' |
		grep -q \"FUNC 'count_getppid'\" && bpftool btf dump file '$APP/minimal.bpf.o' |
		grep -q \"FUNC 'fill'\" && bpftool btf dump file '$APP/minimal.bpf.o' | grep -q \"FUNC 'ds_hash_insert'\""
N=$(scale 2000 200000)
check_out "minimal: BPF fills a hash and a queue, userspace reads both" '^OK$' "$APP/minimal" -n "$N"
last_out >"$TLOG.run"
check "minimal: every key found" grep -qx "hash: $N of $N keys found with their values" "$TLOG.run"
check "minimal: the queue in order" grep -qx "queue: $N of $N items in order, then empty" "$TLOG.run"
check "minimal: the second object counted every call" \
	grep -qx "count: 100 of 100 getppid() calls counted by the second object" "$TLOG.run"
check_fail "minimal: bad input refused" "$APP/minimal" -n 0
check_out "minimal: bad input is one line and exit 2" '^rc=2 lines=2$' \
	bash -c "'$APP/minimal' -n x 2>'$TLOG.err'; echo rc=\$? lines=\$(wc -l <'$TLOG.err')"
check "make uninstall removes every file" \
	bash -c "make -s uninstall PREFIX='$PREFIX' && [ -z \"\$(find '$PREFIX' -type f -o -type l)\" ]"
check "nothing left attached" no_leftover_progs
rm -f "$TLOG.run" "$TLOG.err"
done_testing
