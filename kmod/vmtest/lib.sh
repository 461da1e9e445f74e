# Shared by the vmtest scripts, on the host and in the guest.  Sourced, not run.

# What a guest's kernel log must never show: every guest suite fails on it.
VMTEST_KERNEL_LOG_BAD="BUG|WARNING|Oops|Call Trace|detected (expedited )?stalls|general protection|UBSAN|KASAN|refcount_t|usercopy: |kobject|blocked for more than|hung_task|Poison overwritten|Redzone|Object padding|Freepointer"

# The kernels a guest can boot, oldest first: a /boot/vmlinuz-V with headers in
# /lib/modules/V/build (the rule of kmod/kernels.mk).
vmtest_kvers() {
	local k
	for k in $(ls /lib/modules 2>/dev/null | sort -V); do
		[ -e "/lib/modules/$k/build/Makefile" ] && [ -e "/boot/vmlinuz-$k" ] && echo "$k"
	done
}

# The Debian kernel to boot: $KVER, else the newest of vmtest_kvers.
vmtest_kver() {
	if [ -n "${KVER:-}" ]; then echo "$KVER"; return; fi
	vmtest_kvers | tail -n 1
}

# The abuse module built for kernel $1 (kmod/Makefile's modules-all), else kmod/abuse.ko.
vmtest_abuse_ko() {
	local kmod
	kmod=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	if [ -e "$kmod/build/$1/abuse.ko" ]; then
		echo "$kmod/build/$1/abuse.ko"
	else
		echo "$kmod/abuse.ko"
	fi
}

# What a guest run needs; prints the missing pieces.
vmtest_missing() {
	local kver=$1 missing=
	command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
	[ -n "$kver" ] || missing="$missing linux-image-amd64"
	[ -n "$kver" ] && [ ! -e "/lib/modules/$kver/build/Makefile" ] && missing="$missing linux-headers-amd64"
	{ [ -x /bin/busybox ] && LC_ALL=C ldd /bin/busybox 2>&1 | grep -q "not a dynamic"; } ||
		missing="$missing busybox-static"
	command -v cpio >/dev/null || missing="$missing cpio"
	echo $missing
}
