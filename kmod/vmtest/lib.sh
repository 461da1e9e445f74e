# Shared by the vmtest host scripts.  Sourced, not run.

# The Debian kernel to boot: a /boot/vmlinuz-V with modules in /lib/modules/V.
vmtest_kver() {
	if [ -n "${KVER:-}" ]; then echo "$KVER"; return; fi
	for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V -r); do
		if [ -d "/lib/modules/$k/kernel" ]; then echo "$k"; return; fi
	done
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
