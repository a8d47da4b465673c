#!/bin/busybox sh
# /init of the scripts/vmtest.sh initramfs (busybox-static only): load the
# virtio, 9p and overlay modules, mount the host's root (9p, read-only)
# under a tmpfs overlay, mount proc/sys/tracefs/bpffs there, run
# scripts/vmtest-guest.sh of the host tree in it, power off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "VMTEST: init $(cut -d' ' -f1 /proc/uptime) s after kernel start"

arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -1; }
fail() {
	echo "VMTEST: error: $*"
	echo "VMTEST: 0 passed, 1 failed"
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 10
}

for m in $(cat /modules/order); do
	insmod "/modules/$m" 2>/dev/null || grep -q "^${m%.ko} " /proc/modules ||
		echo "VMTEST: insmod $m failed"
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower ||
	fail "9p mount of the host root failed"
mount -t tmpfs -o size=75% tmpfs /rw && mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work,xino=off,index=off /newroot ||
	fail "overlay mount failed"
R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
# No tmpfs on /tmp: the overlay already takes writes there, and a checkout
# under /tmp (a CI clone) must stay visible.
mount -t tmpfs tmpfs $R/run
mount -t securityfs securityfs $R/sys/kernel/security 2>/dev/null
mount -t tracefs tracefs $R/sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
mount -t bpf bpf $R/sys/fs/bpf
ulimit -l unlimited

dir=$(arg vmtest.dir)
chroot $R /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	TERM=dumb TEST_MODE="$(arg TEST_MODE)" VMTEST_TESTS="$(arg vmtest.tests)" VMTEST_CMD="$(arg vmtest.cmd)" \
	/bin/bash "$dir/scripts/vmtest-guest.sh" "$dir" "$(arg vmtest.mode)"
echo "VMTEST: guest script exited with $?"
sync
poweroff -f
echo o >/proc/sysrq-trigger
sleep 10
