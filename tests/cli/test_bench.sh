#!/usr/bin/env bash
# The benchmark's plan comes from the registry: every registered structure
# is measured, against the peers its capabilities name, with no list to
# edit; a structure with a one-producer or one-owner contract runs on one
# thread only.  Then a few quick real figures of structures picked by name.
. "$(dirname "$0")/../lib.sh"
need_root
BENCH=${OUTPUT:-build}/bench/bench
PLAN=$(mktemp)

check "bench plan runs" sh -c "$BENCH plan > $PLAN"
for ds in $(sed -n 's/^DS_REGISTER(\([a-z0-9_]*\)).*/\1/p' include/libarena-ds/registry.def); do
	check_out "$ds: planned, with at least one peer" "^P [a-z]+ (user-)?arena-$ds " cat "$PLAN"
done
check_out "hash: against BPF_MAP_TYPE_HASH" "^P kernel arena-hash bpf-hash " cat "$PLAN"
check_out "hash: against the syscalls on the same map" "^P user user-arena-hash user-syscall-hash " cat "$PLAN"
check_out "msqueue: against BPF_MAP_TYPE_QUEUE" "^P kernel arena-msqueue bpf-queue " cat "$PLAN"
check_out "stack: against BPF_MAP_TYPE_STACK" "^P kernel arena-stack bpf-stack " cat "$PLAN"
check_out "pq: against bpf_rbtree" "^P kernel arena-pq bpf-rbtree " cat "$PLAN"
check_out "mpmc (bounded FIFO): against ck_ring" "^P user user-arena-mpmc ck_ring " cat "$PLAN"
check_out "spsc: one thread (one producer, one consumer)" "^S spsc .* 1$" cat "$PLAN"
check_out "deque: one thread (one owner)" "^S deque .* 1$" cat "$PLAN"
check_fail "an unknown BENCH_ONLY is refused" env BENCH_ONLY=nosuch "$BENCH" plan

# Real figures, short runs: the spsc ring (never listed by hand) and the
# priority queue against bpf_rbtree.
RUN=$(mktemp)
trap 'rm -f "$PLAN" "$RUN"' EXIT
check "spsc: a quick kern run" sh -c "BENCH_QUICK=1 BENCH_ONLY=spsc $BENCH kern > $RUN"
check_out "spsc measured in the kernel" "^R kernel push\+pop 1024 1 arena-spsc [1-9]" cat "$RUN"
check_out "... and from userspace on the same arena" \
	"^R user push\+pop 1024 1 user-arena-spsc [1-9]" cat "$RUN"
check_fail "... never on two threads" grep -q " 2 [a-z-]*spsc " "$RUN"
check "pq: a quick kern run" sh -c "BENCH_QUICK=1 BENCH_ONLY=pq $BENCH kern > $RUN"
check_out "pq and bpf_rbtree measured" "^R kernel insert\+popmin 1024 1 bpf-rbtree [1-9]" cat "$RUN"
check_out "... the arena pq too" "^R kernel insert\+popmin 1024 1 arena-pq [1-9]" cat "$RUN"
check "nothing left loaded" no_leftover_progs
done_testing
