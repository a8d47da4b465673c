#!/usr/bin/env bash
# The wide-key hash (issue 12) from the kernel: tests/kern/hash_kv_kern.bpf.c
# is loaded (the verifier checks the library's ds_hash_kv_* functions as
# called from SEC("syscall") and tracepoint programs), the kernel inserts,
# looks up, updates and deletes 20-byte keys with 24-byte values, userspace
# reads them through the mmap'd arena and writes keys the kernel reads and
# updates, a tracepoint counts getppid() in a {pid, comm} key's value in
# place, and verify passes from both sides.
. "$(dirname "$0")/../lib.sh"
need_root

BIN=${OUTPUT:-build}/tests/hash_kv_kern
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

check_out "hash_kv_kern runs and says OK" '^OK$' "$BIN"
last_out >"$tmp"
while IFS= read -r line; do
	case "$line" in
	pass:* | FAIL:*) check_out "${line#*: }" '^pass:' echo "$line" ;;
	esac
done <"$tmp"
check "nothing left attached" no_leftover_progs
done_testing
