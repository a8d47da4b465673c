#!/usr/bin/env bash
# The example programs as an outside user builds and runs them: `make
# install` into a temporary prefix, examples/topcount and examples/channel
# built from that install with pkg-config alone, then each run for a few
# seconds and its output checked against what the test itself knows:
#   - topcount: a reference process of ours does exactly N openat() calls;
#     its row must say N, in the arena version and in the map version, and
#     the bench's full reads must return every key it filled;
#   - channel: every item sent comes back exactly once, over each kind of
#     arena queue and over the ring buffers;
# and bad input is one line (plus argp's hint) and exit status 2.
. "$(dirname "$0")/../lib.sh"
need_root

PREFIX=$(mktemp -d /tmp/libarena-install.XXXXXX)
APP=$(mktemp -d /tmp/libarena-examples.XXXXXX)
PROBE_PID=
trap '[ -n "$PROBE_PID" ] && kill "$PROBE_PID" 2>/dev/null; rm -rf "$PREFIX" "$APP"' EXIT
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
TOP=$APP/topcount/topcount
CHAN=$APP/channel/channel

check "make install PREFIX=<tmp>" make -s install PREFIX="$PREFIX"
check "topcount builds against the install" make -s -C examples/topcount OUT="$APP/topcount"
check "channel builds against the install" make -s -C examples/channel OUT="$APP/channel"

# The reference: once told (SIGUSR1), exactly N openat() calls, nothing else
# that opens (its loader's opens happen before topcount attaches).
cat >"$APP/tcprobe.c" <<'EOF'
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	long i, n = argc > 2 ? atol(argv[1]) : 0;
	sigset_t set;
	int sig, fd;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready %d\n", getpid());
	fflush(stdout);
	sigwait(&set, &sig);
	for (i = 0; i < n; i++) {
		fd = syscall(SYS_openat, AT_FDCWD, argv[2], O_RDONLY);
		if (fd >= 0)
			close(fd);
	}
	printf("done %ld\n", n);
	fflush(stdout);
	return 0;
}
EOF
check "the reference process builds" cc -O2 -Wall -o "$APP/tcprobe" "$APP/tcprobe.c"

N=$(scale 5000 50000)

# topcount_counts [ARGS]: start the reference, start topcount filtered on
# it, release the reference once topcount has attached, then print
# topcount's final row for it.
topcount_counts() {
	local top_pid rc
	rm -f "$APP/probe.out" "$APP/top.out"	# no line of an earlier run may be seen
	"$APP/tcprobe" "$N" "$APP/tcprobe.c" >"$APP/probe.out" &
	PROBE_PID=$!
	wait_for "$APP/probe.out" '^ready' 10 || { echo "the reference did not start"; return 1; }
	"$TOP" -p "$PROBE_PID" -d 3 "$@" >"$APP/top.out" 2>&1 &
	top_pid=$!
	if ! wait_for "$APP/top.out" '^topcount: counting' 20; then
		cat "$APP/top.out"
		kill "$top_pid" 2>/dev/null
		return 1
	fi
	kill -USR1 "$PROBE_PID"
	wait "$PROBE_PID"
	PROBE_PID=
	wait "$top_pid"
	rc=$?
	cat "$APP/probe.out" "$APP/top.out"
	echo "reference pid $(awk '/^ready/ { print $2 }' "$APP/probe.out"):" \
		"$(sed -n '/^final/,$p' "$APP/top.out" | awk 'NR > 2')"
	return $rc
}

check_out "topcount (arena): the reference's row says exactly $N openat calls" \
	"^reference pid ([0-9]+): +\\1 +tcprobe +$N\$" topcount_counts
check_out "topcount --map: the reference's row says exactly $N openat calls" \
	"^reference pid ([0-9]+): +\\1 +tcprobe +$N\$" topcount_counts --map
check_out "topcount --bench: both full reads return every key filled" \
	'^check: every full read returned exactly the keys filled' \
	"$TOP" --bench --sizes 2000,20000 --calls 5000 --reads 2

R=20000
check_out "channel mpmc: every item came back exactly once" \
	"^check: 40000 sent, 40000 came back exactly once \\(0 duplicates, 0 missing, 0 unknown\\): OK\$" \
	"$CHAN" -q mpmc -r $R -d 2
check_out "channel spsc: every item came back exactly once" \
	"^check: 20000 sent, 20000 came back exactly once .*: OK\$" "$CHAN" -q spsc -r $R/s -d 1
check_out "channel msqueue, 2 workers: every item came back exactly once" \
	"^check: 20000 sent, 20000 came back exactly once .*: OK\$" "$CHAN" -q msqueue -w 2 -r 20k -d 1
check_out "channel --ringbuf: every item came back exactly once" \
	"^check: 20000 sent, 20000 came back exactly once .*: OK\$" "$CHAN" --ringbuf -r $R -d 1
check_out "channel --compare flat out: both channels OK, ratios printed" \
	'^  ringbuf / arena +[0-9.]+x' "$CHAN" --compare -r 0 -d 1
last_out >"$APP/compare.out"
check "channel --compare: two OK checks, no FAIL" \
	bash -c "[ \"\$(grep -c ': OK\$' '$APP/compare.out')\" = 2 ] && ! grep -q FAIL '$APP/compare.out'"

# Bad input: one line and argp's hint, exit status 2.
bad_input() {
	"$@" 2>"$APP/err" >/dev/null
	echo "rc=$? lines=$(wc -l <"$APP/err")"
}
for args in "$TOP -n 0" "$TOP -e nope" "$TOP --sizes 10,5" "$CHAN -q nope" "$CHAN -r fast" \
	"$CHAN -q spsc -w 2"; do
	check_out "bad input refused: ${args##*/}" '^rc=2 lines=2$' bad_input $args
done
check "--help shows USAGE and EXAMPLES" \
	bash -c "'$TOP' --help | grep -q '^USAGE: topcount' && '$TOP' --help | grep -q '^EXAMPLES:' &&
		'$CHAN' --help | grep -q '^USAGE: channel' && '$CHAN' --help | grep -q '^EXAMPLES:'"
check "nothing of the examples left loaded" \
	bash -c "! bpftool prog show 2>/dev/null | grep -E 'name (tc|ch)_'"
check "nothing left attached" no_leftover_progs
done_testing
