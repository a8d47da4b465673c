#!/usr/bin/env bash
# Issue 16, item 9: the store->load patterns of EBR and of the allocator's
# guard words hold a full barrier on a weakly ordered CPU.  No arm64 machine
# here: tests/arch/fences.c is compiled for arm64 (Debian's cross headers,
# scripts/install-deps.sh --cross) and each pattern's code must contain
# 'dmb ish'; the same source built without arena_rmw_fence() must not
# (the check can fail), for both the LL/SC (armv8.0) and the LSE (armv8.1)
# atomics.
. "$(dirname "$0")/../lib.sh"

SYSROOT=/usr/aarch64-linux-gnu/include
CLANG=${CLANG:-$(for c in clang-21 clang-20 clang-19 clang; do
	command -v $c >/dev/null && { echo $c; break; }; done)}
if [ -z "$CLANG" ] || [ ! -f "$SYSROOT/stdio.h" ] ||
   ! $CLANG -print-targets 2>/dev/null | grep -qw aarch64; then
	echo "ok 1 # SKIP no arm64 cross build (clang with aarch64, $SYSROOT)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
OUT=${OUTPUT:-build}
PATTERNS="litmus_ebr_enter litmus_word_take litmus_word_seize"

# fenced MARCH [CFLAGS...]: print "<function> <full barriers>" per pattern.
fenced() {
	local march=$1; shift
	$CLANG --target=aarch64-linux-gnu -march="$march" -isystem "$SYSROOT" -O2 -std=gnu11 \
		-D_GNU_SOURCE -DARENA_PAGE_SIZE=4096 -Wall -Wextra -Werror -Iinclude \
		-I"$OUT/include" -I"$OUT/include/libarena-ds" -Ilib "$@" \
		-S tests/arch/fences.c -o "$tmp/f.s" || return 1
	awk -v want="$PATTERNS" 'BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) d[w[i]] = 0 }
		/^litmus_[a-z_]*:/ { f = substr($1, 1, length($1) - 1) }
		/^\.Lfunc_end/ { f = "" }
		f != "" && /dmb[ \t]+ish$/ { d[f]++ }
		END { for (k in d) print k, d[k] }' "$tmp/f.s" | sort
}
every_fenced() {
	local out
	out=$(fenced "$@") || return 1
	echo "$out"
	[ "$(echo "$out" | wc -l)" -eq 3 ] && ! echo "$out" | grep -q ' 0$'
}
none_fenced() {
	local out
	out=$(fenced "$@") || return 1
	echo "$out"
	[ "$(echo "$out" | wc -l)" -eq 3 ] && ! echo "$out" | grep -qv ' 0$'
}
for m in armv8-a armv8.1-a; do
	check "arm64 ($m): EBR enter, guard take and seize each hold a full barrier" \
		every_fenced $m
	check "arm64 ($m): without arena_rmw_fence() none does (the check can fail)" \
		none_fenced $m -DARENA_TEST_NO_RMW_FENCE
done
done_testing
