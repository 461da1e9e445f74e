#!/bin/busybox sh
# PID 1 of the vmtest initramfs: mount the host's root over 9p, make the
# usual writable places tmpfs, chroot into it and run the job.  The last
# console line is "VMTEST-EXIT <status>".
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	 virtio_pci netfs fscache 9pnet 9pnet_virtio 9p; do
	[ -e /mods/$m.ko ] && { insmod /mods/$m.ko || echo "vmtest: insmod $m failed"; }
done
mkdir -p /host /job
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 hostroot /host; then
	echo "vmtest: cannot mount the host root over 9p"
	echo "VMTEST-EXIT 125"
	poweroff -f
fi
job=$(sed -n 's/.*vmtest\.job=\([^ ]*\).*/\1/p' /proc/cmdline)
mount --bind "/host$job" /job
# The checkout the tests come from, kept visible even when it lives under a directory the guest
# covers with tmpfs (a CI clone under /tmp, say).
keep=$(sed -n 's/.*vmtest\.keep=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$keep" ]; then
	mkdir -p /keep
	mount --bind "/host$keep" /keep
fi
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm
ln -s /proc/self/fd /host/dev/fd
ln -s /proc/self/fd/0 /host/dev/stdin
ln -s /proc/self/fd/1 /host/dev/stdout
ln -s /proc/self/fd/2 /host/dev/stderr
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
for d in /tmp /run /mnt /var/tmp /root /media /srv; do
	[ -d "/host$d" ] && [ ! -L "/host$d" ] && mount -t tmpfs -o mode=1777 tmpfs "/host$d"
done
mkdir -p /host/run/lock /host/run/user
chmod 1777 /host/run/lock
[ -d /host/var/lock ] && [ ! -L /host/var/lock ] && mount -t tmpfs tmpfs /host/var/lock
[ -d /host/sys/kernel/debug ] && mount -t debugfs debugfs /host/sys/kernel/debug 2>/dev/null
mkdir -p "/host$job"
mount --move /job "/host$job"
if [ -n "$keep" ] && [ ! -e "/host$keep/kmod" ]; then
	mkdir -p "/host$keep"
	mount --move /keep "/host$keep"
fi
chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root TERM=dumb LANG=C.UTF-8 /bin/bash "$job/job.sh" </dev/null
rc=$?
echo "VMTEST-EXIT $rc"
sync
poweroff -f
