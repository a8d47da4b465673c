#!/usr/bin/env bash
# Boot Debian kernel packages in qemu and run the driver tests inside.
#
#   scripts/vmtest.sh [--smoke | --cmd 'COMMAND'] [KERNEL...]
#
# KERNEL is a Debian kernel version: "6.12", "7.3", or more exact
# ("6.12.57+deb12").  Without one: the default matrix, 6.12 and the newest
# 7.x.  --smoke runs only "./skeleton --hooks lsm -K -t 2 -o 20000 -v";
# --cmd 'COMMAND' runs COMMAND (bash, in this tree) instead of the tests and
# shows its output (for looking into a failure under one kernel).
#
# Per kernel: the packages are fetched with 'apt-get download' into the
# cache (never installed), unpacked with dpkg-deb -x, a busybox-static
# initramfs loads the virtio/9p/overlay modules in modules.dep order, and
# the kernel boots under qemu (TCG unless KVM is real hardware
# virtualization) with the BPF LSM on.  The guest sees this machine's root
# read-only over 9p with a tmpfs overlay for writes, runs the tests in this
# tree with the binaries built here (CO-RE adapts them), and powers off.
# One summary line per kernel; the last line is "N passed, N failed".
#
# Kernel lookups use an apt configuration of their own under the cache
# (bookworm-backports for 6.12, trixie-backports and sid for 7.x; main
# only): the host's apt sources,
# lists and pins are never changed.
#
# Environment: VMTEST_DIR (cache, default build/vmtest), VMTEST_TIMEOUT
# (hard limit per guest run in seconds; 3600, 600 for --smoke), VMTEST_MEM
# (MiB, 2048), VMTEST_SMP (2), VMTEST_ACCEL (auto|tcg|kvm), VMTEST_TESTS
# (cli test names, default all), VMTEST_VERBOSE=1 (show the console),
# VMTEST_MIRROR (Debian mirror; default: the host's).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD

say() { echo "vmtest: $*" >&2; }
die() { say "$*"; exit 2; }

MODE=full
KERNELS=()
for a in "$@"; do
	case $a in
	--smoke) MODE=smoke ;;
	--cmd) MODE=cmd ;;
	-h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $a" ;;
	*)
		if [ "$MODE" = cmd ] && [ -z "${CMD+x}" ]; then CMD=$a; else KERNELS+=("$a"); fi ;;
	esac
done

DIR=${VMTEST_DIR:-build/vmtest}
mkdir -p "$DIR" || exit 2
DIR=$(cd "$DIR" && pwd)
if [ "$MODE" = smoke ]; then
	TIMEOUT=${VMTEST_TIMEOUT:-600}
else
	TIMEOUT=${VMTEST_TIMEOUT:-3600}
fi
MEM=${VMTEST_MEM:-2048}
SMP=${VMTEST_SMP:-2}

[ "$(id -u)" = 0 ] || die "needs root (apt-get download into the cache, and the tests inside use BPF)"
./scripts/install-deps.sh --vm || die "missing tools (scripts/install-deps.sh --vm)"
[ -x ./skeleton ] || die "./skeleton not built (make vmtest builds it)"
if [ "$MODE" = cmd ]; then
	[ -n "${CMD:-}" ] || die "--cmd needs a command"
	printf '%s\n' "$CMD" >"$DIR/guest-cmd.sh"
fi

QPID=
cleanup() {
	local p
	[ -n "$QPID" ] && kill "$QPID" 2>/dev/null
	if [ -s "$DIR/qemu.pid" ]; then
		p=$(cat "$DIR/qemu.pid")
		kill "$p" 2>/dev/null && sleep 1 && kill -9 "$p" 2>/dev/null
		rm -f "$DIR/qemu.pid"
	fi
	rm -f "$DIR/console.fifo"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- apt, our own configuration

APT=$DIR/apt
apt_opts() {
	echo -o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts="$APT/empty" \
		-o Dir::Etc::Preferences="$APT/empty/none" -o Dir::Etc::PreferencesParts="$APT/empty" \
		-o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" \
		-o APT::Sandbox::User=root -o Acquire::Languages=none \
		-o Debug::NoLocking=1
}

apt_setup() {
	local mirror
	[ -f "$APT/ready" ] && grep -q bookworm-backports "$APT/sources.list" &&
		[ -z "$(find "$APT/ready" -mmin +720 2>/dev/null)" ] && return 0
	mirror=${VMTEST_MIRROR:-$(apt-cache policy 2>/dev/null |
		awk '$2 ~ /^https?:/ && $3 ~ /^bookworm\/main|^trixie\/main|^sid\/main/ { print $2; exit }')}
	mirror=${mirror:-$(apt-cache policy 2>/dev/null |
		awk '$2 ~ /^https?:.*\/debian$/ { print $2; exit }')}
	[ -n "$mirror" ] || die "no Debian mirror found in the host's apt sources (set VMTEST_MIRROR)"
	mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/empty"
	cat >"$APT/sources.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm-backports main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie-backports main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main
EOF
	say "apt-get update (kernel lookups only, in $APT)"
	# shellcheck disable=SC2046
	apt-get $(apt_opts) -q update >"$APT/update.log" 2>&1 ||
		{ tail -5 "$APT/update.log" >&2; die "apt-get update failed (see $APT/update.log)"; }
	touch "$APT/ready"
}

# shellcheck disable=SC2046
acache() { apt-cache $(apt_opts) "$@"; }

# The newest version of package $1 in our lists.
pkg_version() {
	acache show --no-all-versions "$1" 2>/dev/null | awk '/^Version:/ { print $2; exit }'
}

# The image packages "linux-image-<abi>-amd64[-unsigned]" matching $1:
# print "<abi>-amd64" of the newest.
resolve_abi() {
	local want=$1 re
	re="^linux-(image|binary)-${want//./\\.}[.+-].*-amd64(-unsigned)?\$"
	[[ $want == *.*.* || $want == *+* ]] && re="^linux-(image|binary)-${want//./\\.}.*-amd64(-unsigned)?\$"
	acache search --names-only "$re" 2>/dev/null | awk '{ print $1 }' |
		grep -vE -- '-(dbg|cloud|rt)-|-(dbg|cloud|rt)$' |
		sed -E 's/^linux-(image|binary)-//; s/-unsigned$//' | sort -Vu | tail -1
}

# The newest 7.x ABI.
newest_7x() {
	acache search --names-only '^linux-(image|binary)-7\.[0-9]+.*-amd64(-unsigned)?$' 2>/dev/null |
		awk '{ print $1 }' | grep -vE -- '-(dbg|cloud|rt)-|-(dbg|cloud|rt)$' |
		sed -E 's/^linux-(image|binary)-//; s/-unsigned$//' | sort -Vu | tail -1
}

# Packages carrying the kernel and modules of ABI $1: before 7.x one
# linux-image package; from 7.x linux-image is a metapackage and the files
# are in linux-binary-*, linux-modules-*, linux-base-* (whichever exist).
kernel_pkgs() {
	local abi=$1 p found=0
	for p in "linux-image-$abi-unsigned" "linux-image-$abi"; do
		if [ -n "$(pkg_version "$p")" ] &&
		   acache show --no-all-versions "$p" | awk '/^Installed-Size:/ { exit !($2 > 20000) }'; then
			echo "$p"
			return 0
		fi
	done
	for p in "linux-binary-$abi" "linux-modules-$abi" "linux-base-$abi" \
		 "linux-binary-$abi-unsigned" "linux-modules-$abi-unsigned"; do
		[ -n "$(pkg_version "$p")" ] && { echo "$p"; found=1; }
	done
	[ "$found" = 1 ] || return 1
}

# ---- per kernel: fetch, unpack, initramfs

fetch_kernel() {
	local abi=$1 kdir=$DIR/k/$abi p
	mkdir -p "$kdir/debs"
	if [ ! -f "$kdir/unpacked" ]; then
		local pkgs
		pkgs=$(kernel_pkgs "$abi") || { say "$abi: no kernel package found"; return 1; }
		for p in $pkgs; do
			ls "$kdir/debs/${p}_"*.deb >/dev/null 2>&1 && continue
			say "$abi: apt-get download $p"
			# shellcheck disable=SC2046
			(cd "$kdir/debs" && apt-get $(apt_opts) -q download "$p" >/dev/null) ||
				{ say "$abi: download of $p failed"; return 1; }
		done
		rm -rf "$kdir/root"
		for p in "$kdir"/debs/*.deb; do
			dpkg-deb -x "$p" "$kdir/root" || { say "$abi: dpkg-deb -x $p failed"; return 1; }
		done
		touch "$kdir/unpacked"
	fi
}

# The module load order for $@ (names) from modules.dep, dependencies first;
# names not in modules.dep are built in.  Prints relative paths.
module_order() {
	local mdir=$1
	shift
	awk -v want="$*" '
	function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", p); gsub(/-/, "_", p); return p }
	function load(m,   i, n, d) {
		if (m in done || !(m in path)) return
		done[m] = 1
		n = split(deps[m], d, " ")
		for (i = n; i >= 1; i--) load(base(d[i]))
		print path[m]
	}
	{ k = $1; sub(/:$/, "", k); m = base(k); path[m] = k; $1 = ""; deps[m] = $0 }
	END { n = split(want, w, " "); for (i = 1; i <= n; i++) { x = w[i]; gsub(/-/, "_", x); load(x) } }
	' "$mdir/modules.dep"
}

build_initramfs() {
	local abi=$1 kdir=$DIR/k/$abi mdir kver stage m out
	out=$kdir/initramfs.cpio.gz
	[ -f "$out" ] && [ "$out" -nt scripts/vmtest-init.sh ] && return 0
	mdir=$(ls -d "$kdir"/root/lib/modules/* "$kdir"/root/usr/lib/modules/* 2>/dev/null | head -1)
	[ -d "$mdir" ] || { say "$abi: no modules in the packages"; return 1; }
	kver=$(basename "$mdir")
	if [ ! -s "$mdir/modules.dep" ]; then
		# Made by depmod at install time: make it in the unpacked tree.
		if [ ! -d "$kdir/root/lib/modules" ]; then
			mkdir -p "$kdir/root/lib"
			ln -sfn ../usr/lib/modules "$kdir/root/lib/modules"
		fi
		depmod -b "$kdir/root" "$kver" 2>"$kdir/depmod.log" ||
			{ say "$abi: depmod failed (see $kdir/depmod.log)"; return 1; }
	fi
	[ -s "$mdir/modules.dep" ] || { say "$abi: no modules.dep"; return 1; }
	stage=$kdir/initramfs
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,proc,sys,modules,newroot,lower,rw}
	cp /bin/busybox "$stage/bin/busybox"
	cp scripts/vmtest-init.sh "$stage/init"
	chmod 755 "$stage/init"
	: >"$stage/modules/order"
	for m in $(module_order "$mdir" virtio_pci virtio_pci_modern_dev virtio_ring virtio \
			9pnet_virtio 9p overlay); do
		local f=$mdir/$m name
		name=$(basename "$m")
		case $name in
		*.xz) xz -dc "$f" >"$stage/modules/${name%.xz}" ;;
		*.zst) zstd -qdc "$f" >"$stage/modules/${name%.zst}" ;;
		*.gz) gzip -dc "$f" >"$stage/modules/${name%.gz}" ;;
		*) cp "$f" "$stage/modules/$name" ;;
		esac
		name=${name%.xz}; name=${name%.zst}; name=${name%.gz}
		echo "$name" >>"$stage/modules/order"
	done
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp" && mv "$out.tmp" "$out"
}

# ---- accelerator

pick_accel() {
	case ${VMTEST_ACCEL:-auto} in
	tcg|kvm) echo "${VMTEST_ACCEL}"; return ;;
	esac
	# /dev/kvm alone is not enough: nested or emulated KVM without the CPU
	# virtualization flags does not boot Debian kernels.
	if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo kvm
	else
		echo tcg
	fi
}

# ---- boot one kernel; sets R_* for the summary

run_kernel() {
	local want=$1 abi kdir vmlinuz accel log start t_init=
	R_ABI=$want R_BOOT=- R_HOOKS=- R_PAGES=- R_PASS=0 R_FAIL=1 R_NOTE=
	local t0
	t0=$(date +%s.%N)
	abi=$(resolve_abi "$want")
	[ -n "$abi" ] || { R_NOTE="no Debian kernel package matches '$want'"; return 1; }
	R_ABI=$abi
	kdir=$DIR/k/$abi
	fetch_kernel "$abi" || { R_NOTE="fetch failed"; return 1; }
	build_initramfs "$abi" || { R_NOTE="initramfs failed"; return 1; }
	vmlinuz=$(ls "$kdir"/root/boot/vmlinuz-* "$kdir"/root/usr/lib/modules/*/vmlinuz 2>/dev/null | head -1)
	[ -n "$vmlinuz" ] || { R_NOTE="no vmlinuz in the packages"; return 1; }
	accel=$(pick_accel)
	log=$kdir/console-$MODE.log
	say "$abi: booting ($accel, ${SMP} CPUs, ${MEM} MiB, limit ${TIMEOUT} s; console in $log)"

	rm -f "$DIR/console.fifo" "$DIR/qemu.pid"
	mkfifo "$DIR/console.fifo"
	start=$EPOCHREALTIME
	timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel "$accel" -cpu max -smp "$SMP" -m "$MEM" \
		-nodefaults -display none -serial stdio -no-reboot -pidfile "$DIR/qemu.pid" \
		-kernel "$vmlinuz" -initrd "$kdir/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 oops=panic lsm=lockdown,capability,landlock,yama,bpf vmtest.dir=$REPO vmtest.mode=$MODE vmtest.cmd=$DIR/guest-cmd.sh vmtest.tests=${VMTEST_TESTS:-all} TEST_MODE=${TEST_MODE:-quick}" \
		-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
		</dev/null >"$DIR/console.fifo" 2>&1 &
	QPID=$!
	: >"$log"
	local line
	while IFS= read -r line; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$log"
		{ [ "${VMTEST_VERBOSE:-0}" = 1 ] || [ "$MODE" = cmd ]; } && printf '  | %s\n' "$line" >&2
		case $line in
		"VMTEST: init"*)
			t_init=$EPOCHREALTIME ;;
		"VMTEST: hooks "*)
			R_HOOKS=${line#VMTEST: hooks } ;;
		"VMTEST: page alloc "*)
			R_PAGES=${line#VMTEST: page alloc } ;;
		"VMTEST: "*" passed, "*" failed"*)
			set -- ${line#VMTEST: }
			R_PASS=$1 R_FAIL=$3 ;;
		*"ok "[0-9]*|"not ok "[0-9]*)
			[ "${VMTEST_VERBOSE:-0}" = 1 ] || printf '  %s\n' "$line" >&2 ;;
		"VMTEST: error"*)
			say "$abi: ${line#VMTEST: }" ;;
		esac
	done <"$DIR/console.fifo"
	wait "$QPID"
	local rc=$?
	QPID=
	rm -f "$DIR/console.fifo" "$DIR/qemu.pid"
	[ -n "$t_init" ] && R_BOOT=$(awk -v a="$start" -v b="$t_init" 'BEGIN { printf "%.1f s", b - a }')
	R_WALL=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f s", b - a }')
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		R_NOTE="killed after ${TIMEOUT} s"
		if ! grep -q "VMTEST: .* passed, .* failed" "$log"; then
			# What finished before the limit, plus one failure for it.
			R_PASS=$(grep -cE '^[a-z_]+: ok ' "$log")
			R_FAIL=$(( $(grep -cE '^[a-z_]+: not ok' "$log") + 1 ))
		fi
	elif [ -z "$t_init" ]; then
		R_NOTE="never reached init (see $log)"
	elif ! grep -q "VMTEST: .* passed, .* failed" "$log"; then
		R_NOTE="no test summary (see $log)"
		R_FAIL=1
	fi
	return 0
}

# ---- main

apt_setup
if [ ${#KERNELS[@]} -eq 0 ]; then
	n7=$(newest_7x)
	KERNELS=(6.12)
	if [ -n "$n7" ]; then KERNELS+=("$n7"); else say "no 7.x kernel package found: 6.12 only"; fi
fi

total_pass=0
total_fail=0
summary=()
for k in "${KERNELS[@]}"; do
	R_WALL=-
	run_kernel "$k"
	line=$(printf '%-22s boot %-7s hooks %-4s page alloc: %-38s %s passed, %s failed  (wall %s)%s' \
		"$R_ABI" "$R_BOOT" "$R_HOOKS" "$R_PAGES" "$R_PASS" "$R_FAIL" "$R_WALL" \
		"${R_NOTE:+  [$R_NOTE]}")
	summary+=("$line")
	echo "vmtest: $line"
	total_pass=$((total_pass + R_PASS))
	total_fail=$((total_fail + R_FAIL))
done
echo
echo "vmtest summary ($MODE):"
printf '  %s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
