#!/bin/bash
# Run a host script inside a qemu guest booted with Debian's kernel.
#
#   kmod/vmtest/run-in-guest.sh SCRIPT [ARGS...]
#
# The guest (TCG, no KVM needed) mounts this machine's root read-only over
# 9p, puts tmpfs on /tmp /run /mnt /var/tmp /root /dev/shm, chroots into
# it, and runs SCRIPT with ARGS from the current directory.  SCRIPT's
# output streams to our stdout; our exit status is SCRIPT's, or 124 when
# the guest hit VMTEST_TIMEOUT (seconds, default 900) and 125 when the
# guest did not get as far as running it.
#
# In the guest: $KVER is the kernel version, $ABUSE_KO the path of the
# abuse module built for it (insmod it yourself), modprobe works for
# Debian's modules.  The kernel runs with slab debugging (slub_debug=FZPU:
# sanity checks, red zones, poisoning, owner tracking), so that memory
# misuse becomes a report in its log.  Not init_on_free=1: it reports
# nothing itself, and under TCG it made the exit of a long-lived process
# free its 9p page cache for 6-8 minutes with soft-lockup reports
# (VMTEST_MEMCHECK replaces these parameters).
# Environment: KVER, VMTEST_TIMEOUT, VMTEST_MEM (MiB, 2048),
# VMTEST_SMP (2), VMTEST_TCG (multi, or single: one host thread runs
# every vCPU, which HotSpot's JIT-compiled code survives), VMTEST_APPEND
# (more kernel parameters, e.g. ignore_loglevel), VMTEST_LOG (file for the
# raw console log).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if [ $# -lt 1 ]; then
	echo "usage: $0 SCRIPT [ARGS...]" >&2
	exit 2
fi
script=$(realpath "$1") || exit 2
shift
kver=$(vmtest_kver)
missing=$(vmtest_missing "$kver")
if [ -n "$missing" ]; then
	echo "run-in-guest: missing packages:$missing" >&2
	exit 125
fi
# The checkout stays visible in the guest wherever it is; other files under the directories the
# guest covers with tmpfs do not.
top=$(cd "$here/../.." && pwd)
case "$script" in
"$top"/*) ;;
/tmp/*|/run/*|/mnt/*|/var/tmp/*|/root/*)
	echo "run-in-guest: $script is under a directory the guest hides with tmpfs" >&2
	exit 2;;
esac

# The initramfs: static busybox, our init, the 9p modules.  Cached by
# kernel version and init script contents.
cache=$here/.cache
mkdir -p "$cache"
stamp=$(cat "$here/guest-init.sh" /bin/busybox | md5sum | cut -c1-12)
initrd=$cache/initrd-$kver-$stamp.cpio.gz
if [ ! -s "$initrd" ]; then
	root=$(mktemp -d "$cache/root.XXXXXX")
	mkdir -p "$root"/{bin,dev,proc,sys,mods,host,job}
	cp /bin/busybox "$root/bin/busybox"
	cp "$here/guest-init.sh" "$root/init"
	chmod 755 "$root/init"
	for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
		 virtio_pci netfs fscache 9pnet 9pnet_virtio 9p; do
		f=$(find "/lib/modules/$kver/kernel" -name "$m.ko*" | head -1)
		[ -z "$f" ] && continue	# built in
		case "$f" in
		*.ko.xz) xz -dc "$f" >"$root/mods/$m.ko";;
		*.ko.zst) zstd -qdc "$f" >"$root/mods/$m.ko";;
		*.ko.gz) gzip -dc "$f" >"$root/mods/$m.ko";;
		*) cp "$f" "$root/mods/$m.ko";;
		esac
	done
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp" &&
		mv "$initrd.tmp" "$initrd"
	rm -rf "$root"
fi

. "$here/time-limit.sh"

# The job: a directory the guest re-mounts at the same path.
job=$(mktemp -d /tmp/vmtest-job.XXXXXX)
log=${VMTEST_LOG:-$job/console.log}
trap 'rm -rf "$job"' EXIT
{
	echo "#!/bin/bash"
	printf 'export KVER=%q ABUSE_KO=%q\n' "$kver" "$(vmtest_abuse_ko "$kver")"
	# The tests' own knobs (VMTEST_*) reach the guest too.
	for v in $(compgen -e | grep '^VMTEST_'); do
		printf 'export %s=%q\n' "$v" "${!v}"
	done
	printf 'cd %q || exit 125\n' "$PWD"
	# Before the host kills a guest that runs out of time, say what it is stuck in.
	t=${VMTEST_TIMEOUT:-900}
	printf '(sleep %d; echo "run-in-guest: %d s left before the time limit; the guest is doing:"; %q) &\n' \
		$((t > 240 ? t - 120 : t * 3 / 4)) $((t > 240 ? 120 : t / 4)) "$here/dump-stuck.sh"
	printf 'exec %q' "$script"
	for a in "$@"; do printf ' %q' "$a"; done
	echo
} >"$job/job.sh"

# The monitor, through two fifos: at the time limit we ask the guest's kernel what it is doing
# (see time_is_up), where the guest's own dump (job.sh above) needs a guest that still runs.
mon=$job/monitor
mkfifo "$mon.in" "$mon.out"
cat "$mon.out" >"$job/monitor.log" 2>/dev/null &
drain=$!
t=${VMTEST_TIMEOUT:-900}
start=$(date +%s)
# The last 60 s are for the kernel's answer; then the guest is killed.
(timeout -k 10 $((t + 60)) \
	qemu-system-x86_64 -machine q35 -accel "tcg,thread=${VMTEST_TCG:-multi}" -cpu max \
	-smp "${VMTEST_SMP:-2}" -m "${VMTEST_MEM:-2048}" \
	-display none -monitor none -serial stdio -no-reboot \
	-chardev "pipe,id=mon0,path=$mon" -mon chardev=mon0,mode=readline \
	-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 nokaslr sysrq_always_enabled unknown_nmi_panic ${VMTEST_MEMCHECK-slub_debug=FZPU} ${VMTEST_APPEND:-} vmtest.job=$job vmtest.keep=$top" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	</dev/null 2>&1 | sed -u 's/\r$//' | tee "$log" | grep --line-buffered -v '^VMTEST-EXIT '
 exit "${PIPESTATUS[0]}") &
guest=$!
# No pipe of ours open in it: a tee reading our output must not wait for its sleep.
time_is_up "$t" "$mon.in" "$log" "$job/timed-out" "$job/monitor.log" </dev/null >/dev/null 2>&1 &
watchdog=$!
wait $guest
qrc=$?
pkill -P $watchdog 2>/dev/null
kill $watchdog $drain 2>/dev/null
wait $watchdog $drain 2>/dev/null
end=$(date +%s)
rc=$(sed -n 's/^VMTEST-EXIT \([0-9]*\)$/\1/p' "$log" | tail -1)
if [ -z "$rc" ]; then
	if [ -e "$job/timed-out" ]; then
		echo "run-in-guest: guest timed out after $t s" >&2
		stuck_summary "$log" "$(cat "$job/timed-out")" >&2
		cpu_summary "$job/monitor.log" >&2
		qemu_summary "$job/timed-out.cpu" "$job/monitor.log" >&2
		rc=124
	else
		echo "run-in-guest: guest ended without running the script (qemu status $qrc)" >&2
		rc=125
	fi
fi
echo "run-in-guest: guest run took $((end - start)) s, script status $rc" >&2
exit "$rc"
