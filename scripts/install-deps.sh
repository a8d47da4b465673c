#!/usr/bin/env bash
# Install what libarena-ds needs to build and test, then check the kernel.
#
# Idempotent: when everything is present it prints nothing and exits 0.
# Debian 12 (bookworm): clang-19 from bookworm, libbpf-dev/bpftool from
# bookworm-backports (bookworm's libbpf 1.1 cannot load arena maps).
# Debian 13, Ubuntu >= 24.10 and Fedora >= 40 carry everything in their
# main archives.
set -euo pipefail

say() { echo "install-deps: $*" >&2; }
die() { say "$*"; exit 1; }

need_root() {
	[ "$(id -u)" = 0 ] || die "missing packages ($*) and not root: run 'sudo $0'"
}

have_clang() {
	local c
	for c in clang-21 clang-20 clang-19 clang; do
		command -v "$c" >/dev/null 2>&1 || continue
		local v
		v=$("$c" -dumpversion 2>/dev/null | cut -d. -f1)
		[ -n "$v" ] && [ "$v" -ge 19 ] && \
			"$c" -print-targets 2>/dev/null | grep -qw bpf && return 0
	done
	return 1
}

have_libbpf() {
	pkg-config --exists 'libbpf >= 1.4' 2>/dev/null
}

have_bpftool() {
	local b v maj min
	for b in bpftool /usr/sbin/bpftool; do
		command -v "$b" >/dev/null 2>&1 || continue
		v=$("$b" version 2>/dev/null | head -1 | grep -oE 'v[0-9]+\.[0-9]+' | tr -d v) || continue
		maj=${v%%.*}; min=${v#*.}
		[ "$maj" -gt 7 ] || { [ "$maj" -eq 7 ] && [ "$min" -ge 4 ]; } && return 0
	done
	return 1
}

have_strip() {
	command -v llvm-strip >/dev/null 2>&1 || ls /usr/bin/llvm-strip-* >/dev/null 2>&1
}

have_all() {
	have_clang && have_libbpf && have_bpftool && have_strip &&
	pkg-config --exists libelf zlib cmocka 2>/dev/null &&
	command -v gnuplot >/dev/null 2>&1 &&
	pkg-config --exists liburcu 2>/dev/null && [ -f /usr/include/ck_ring.h ]
}

install_debian() {
	. /etc/os-release
	export DEBIAN_FRONTEND=noninteractive
	local apt=(apt-get -y -q -o Dpkg::Use-Pty=0 install --no-install-recommends)
	if [ "${VERSION_CODENAME:-}" = bookworm ]; then
		if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
			say "adding the bookworm-backports suite"
			cat >/etc/apt/sources.list.d/bookworm-backports.sources <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		fi
		say "apt-get update"
		apt-get -q update >/dev/null
		"${apt[@]}" clang-19 llvm-19 make pkg-config libelf-dev zlib1g-dev \
			gnuplot-nox liburcu-dev libck-dev libcmocka-dev >/dev/null
		"${apt[@]}" -t bookworm-backports libbpf-dev bpftool >/dev/null
		# Let plain 'llvm-strip' and 'clang' resolve to the 19 toolchain
		# only where nothing newer is there.
		[ -e /usr/local/bin/llvm-strip ] || ln -sf /usr/bin/llvm-strip-19 /usr/local/bin/llvm-strip
	else
		apt-get -q update >/dev/null
		"${apt[@]}" clang llvm make pkg-config libelf-dev zlib1g-dev \
			libbpf-dev bpftool gnuplot-nox liburcu-dev libck-dev >/dev/null ||
			"${apt[@]}" clang llvm make pkg-config libelf-dev zlib1g-dev \
				libbpf-dev linux-tools-common gnuplot-nox liburcu-dev libck-dev libcmocka-dev >/dev/null
	fi
}

install_fedora() {
	dnf -y -q install clang llvm make pkgconf-pkg-config elfutils-libelf-devel \
		zlib-devel libbpf-devel bpftool gnuplot userspace-rcu-devel ck-devel libcmocka-devel
}

# --vm: only what scripts/vmtest.sh needs (qemu with software emulation,
# a static busybox for the guest's initramfs, cpio, xz/zstd for the
# kernel modules, kmod for depmod).  Nothing of this is installed for plain builds.
have_vm_tools() {
	command -v qemu-system-x86_64 >/dev/null 2>&1 &&
	[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx switch_root &&
	! ldd /bin/busybox >/dev/null 2>&1 &&
	command -v cpio >/dev/null 2>&1 && command -v xz >/dev/null 2>&1 &&
	command -v zstd >/dev/null 2>&1 && command -v depmod >/dev/null 2>&1 &&
	command -v dpkg-deb >/dev/null 2>&1
}

# --cross: Debian's arm64 C headers, for tests/cli/test_fences.sh (which
# compiles the ordering-sensitive code for arm64 and inspects it).  Skipped
# quietly elsewhere: that test then says SKIP.
if [ "${1:-}" = --cross ]; then
	[ -f /usr/aarch64-linux-gnu/include/stdio.h ] && exit 0
	[ -f /etc/debian_version ] && [ "$(id -u)" = 0 ] || exit 0
	say "installing libc6-dev-arm64-cross (arm64 headers for the fence test)"
	DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 install \
		--no-install-recommends libc6-dev-arm64-cross >/dev/null ||
		say "warning: libc6-dev-arm64-cross did not install (test_fences will skip)"
	exit 0
fi

if [ "${1:-}" = --vm ]; then
	have_vm_tools && exit 0
	[ -f /etc/debian_version ] ||
		die "--vm: scripts/vmtest.sh boots Debian kernel packages and needs a Debian or Ubuntu host"
	need_root "qemu-system-x86, busybox-static, cpio, xz-utils, zstd, kmod"
	say "installing qemu-system-x86, busybox-static, cpio, xz-utils, zstd, kmod"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -q update >/dev/null
	apt-get -y -q -o Dpkg::Use-Pty=0 install --no-install-recommends \
		qemu-system-x86 busybox-static cpio xz-utils zstd kmod >/dev/null
	have_vm_tools || die "--vm: tools still missing after install"
	exit 0
fi

if ! have_all; then
	need_root "clang>=19, libbpf>=1.4, bpftool>=7.4, libelf, zlib, gnuplot, liburcu, ck"
	if [ -f /etc/debian_version ]; then
		install_debian
	elif [ -f /etc/fedora-release ]; then
		install_fedora
	else
		die "unsupported distribution: install clang>=19 (BPF target), llvm-strip, libbpf>=1.4, bpftool>=7.4, libelf, zlib, pkg-config, gnuplot, liburcu, Concurrency Kit"
	fi
	have_clang || die "no clang >= 19 with the BPF target after install"
	have_libbpf || die "libbpf >= 1.4 not found after install (pkg-config libbpf)"
	have_bpftool || die "bpftool >= 7.4 not found after install"
fi

# The kernel side: BTF, tracefs, arena maps.
[ -r /sys/kernel/btf/vmlinux ] ||
	die "kernel has no BTF at /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF=y needed)"
if [ ! -d /sys/kernel/tracing/events ] && [ "$(id -u)" = 0 ]; then
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null ||
		say "warning: could not mount tracefs at /sys/kernel/tracing (tracepoint hooks unavailable)"
fi
# An arena map must be creatable (Linux >= 6.9, CONFIG_BPF_ARENA=y).
if [ "$(id -u)" = 0 ] && [ -d /sys/fs/bpf ]; then
	pin=/sys/fs/bpf/libarena_ds_probe_$$
	bpftool=$(command -v bpftool || echo /usr/sbin/bpftool)
	if "$bpftool" map create "$pin" type arena key 0 value 0 entries 1 \
		name arena_probe flags 1024 >/dev/null 2>&1; then
		rm -f "$pin"
	else
		die "this kernel cannot create BPF arena maps (needs Linux >= 6.9 with CONFIG_BPF_ARENA=y)"
	fi
fi
exit 0
