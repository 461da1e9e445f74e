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

# time_is_up SECONDS MONITOR LOG FLAG: after SECONDS, note the console log's length in FLAG and
# ask the guest's kernel for its blocked tasks and every CPU's stack (SysRq w and l).  A kernel
# stuck with interrupts off on every CPU answers neither, so then read each CPU's registers and the
# top of its stack through the monitor (cpu_summary names them), and send an NMI: with
# unknown_nmi_panic the kernel panics and prints the code the NMI interrupted.
time_is_up() {
	local out=$5 cpu rsp qemu
	sleep "$1"
	wc -l <"$3" >"$4"
	# How busy qemu is over the next 30 s: spinning vCPUs, or a guest (or qemu) that waits.
	qemu=$(pgrep -f -x "qemu-system-x86_64 .*vmtest\.job=$job .*" | head -1)
	cpu_ticks "$qemu" >"$4.cpu"
	{
		# Console log level 7 first: the guest runs with 3, and newer kernels print what SysRq
		# asked for at the level in force then.
		echo "sendkey alt-sysrq-7"; sleep 2
		echo "sendkey alt-sysrq-w"; sleep 13
		echo "sendkey alt-sysrq-l"; sleep 15
		cpu_ticks "$qemu" >>"$4.cpu"
		echo "info registers -a"; sleep 3
		sed -n 's/^CPU#\([0-9]*\).*/\1/p; s/.*RSP=\([0-9a-f]*\).*/\1/p' "$out" | paste - - |
		while read -r cpu rsp; do
			echo "cpu $cpu"
			echo "x/128gx 0x$rsp"
		done
		sleep 3
		echo nmi
	} >"$2"
}

# cpu_ticks PID: the user and system clock ticks PID has used, and the time now in ticks
cpu_ticks() {
	local stat
	read -r stat <"/proc/$1/stat" 2>/dev/null || return
	stat=${stat##*) }
	set -- $stat
	echo "${12} ${13} $(($(date +%s%N) / (1000000000 / $(getconf CLK_TCK))))"
}

# stuck_summary LOG LINE: from what the console printed after LINE, one line per stack
# (task or CPU, then its innermost frames), so that a log cut to its tail still says where the
# guest was stuck.
stuck_summary() {
	tail -n +"$(($2 + 1))" "$1" | sed 's/^\[ *[0-9.]*\] //' | awk '
		function flush() { if (who != "") print "run-in-guest: stuck: " who ": " frames; who = ""; frames = ""; n = 0 }
		/^task:[^ ]+ +state:/ {
			flush(); who = substr($1, 6)
			for (i = 2; i <= NF; i++) if ($i ~ /^(pid|state):/) who = who " " $i
			next
		}
		/^NMI backtrace for cpu/ { flush(); who = "cpu " $5; next }
		/^Kernel panic/ { flush(); who = "panic"; next }
		/^RIP: 0010:/ { rip = substr($2, 6); sub(/\+.*/, "", rip); if (who != "" && frames == "") frames = "at " rip; next }
		# The NMI that made the panic: what counts is the code it interrupted.
		/<\/NMI>/ { if (who == "panic") { frames = "at " rip; n = 0 }; next }
		/^ *(\? )?[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+\/0x[0-9a-f]+/ {
			if (who == "" || $1 == "?" || n >= 8) next
			f = $1; sub(/\+.*/, "", f)
			if (f ~ /^(__schedule|schedule|io_schedule|dump_stack_lvl|show_stack|sched_show_task|nmi_cpu_backtrace|nmi_trigger_cpumask_backtrace|arch_trigger_cpumask_backtrace)$/) next
			n++
			frames = frames (frames == "" ? "" : " < ") f
		}
		END { flush() }' | head -20
	echo "run-in-guest: (the console log above shows these stacks whole)"
}

# cpu_summary MONITOR_LOG: one line per CPU: where it was (RIP) and the kernel functions whose
# addresses are on the top of its stack, innermost first (a guess, as "?" frames are in a kernel
# trace).  The names come from a second guest of the same kernel: without KASLR (nokaslr) the
# kernel's text sits at the same addresses.  Modules may not, so their addresses stay numbers.
cpu_summary() {
	local syms=$job/kallsyms
	[ -n "${VMTEST_NO_SYMBOLS:-}" ] && return
	grep -q '^RIP=' "$1" || return
	VMTEST_NO_SYMBOLS=1 VMTEST_TIMEOUT=300 VMTEST_LOG=$job/kallsyms.log "$here/run-in-guest.sh" "$here/kallsyms.sh" >/dev/null 2>&1
	sed -n '/^kallsyms: begin/,/^kallsyms: end/{/^[0-9a-f]\{16\} /p}' "$job/kallsyms.log" | sort >"$syms"
	if [ ! -s "$syms" ]; then
		echo "run-in-guest: (no symbols: the second guest did not list them)"
		return
	fi
	# The monitor echoes each key of a command with terminal escapes: drop them.
	sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/\r$//' "$1" | awk -v syms="$syms" '
		BEGIN { while ((getline l < syms) > 0) { split(l, f, " "); n++; addr[n] = f[1]; name[n] = f[3] (f[4] != "" ? " " f[4] : ""); if (f[3] == "_etext") etext = f[1] } }
		function sym(a,   lo, hi, mid) {	# fixed-width lower-case hex: string order is numeric order
			if (a < addr[1] || a > addr[n]) return ""
			lo = 1; hi = n
			while (lo < hi) { mid = int((lo + hi + 1) / 2); if (addr[mid] <= a) lo = mid; else hi = mid - 1 }
			return name[lo]
		}
		/^CPU#[0-9]+/ { cpu = substr($1, 5) }
		/^RIP=/ { rip[cpu] = tolower(substr($1, 5)); cpl[cpu] = $0; sub(/.*CPL=/, "", cpl[cpu]); sub(/ .*/, "", cpl[cpu]); cpus = cpus " " cpu }
		/^\(qemu\) c.*cpu [0-9]+$/ { cur = $NF }
		/^[0-9a-f]+: 0x/ {
			for (i = 2; i <= NF; i++) {
				w = tolower(substr($i, 3))
				# Kernel text before _etext (init code is gone), or a module
				if (w !~ /^ffffffff[8c]/ || (etext != "" && w >= etext && w < "ffffffffc0000000")) continue
				s = w >= "ffffffffc0000000" ? "module@" w : sym(w)
				if (s == "" || seen[cur, s]++ || nf[cur] >= 10) continue
				nf[cur]++; frames[cur] = frames[cur] " < " s
			}
		}
		END {
			split(substr(cpus, 2), list, " ")
			for (k = 1; k in list; k++) {
				c = list[k]
				r = rip[c] >= "ffffffffc0000000" ? "module@" rip[c] : sym(rip[c])
				print "run-in-guest: cpu " c (cpl[c] == "0" ? " in the kernel" : " in user space (CPL " cpl[c] ")") ": at " r (cpl[c] == "0" ? frames[c] : "")
			}
		}'
}

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
		# Two samples 30 s apart: user, system and wall ticks.
		paste -sd ' ' "$job/timed-out.cpu" 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" 'NF == 6 && $6 > $3 {
			printf "run-in-guest: at the limit qemu used %.0f%% of a host CPU over %d s\n", 100 * ($4 + $5 - $1 - $2) / ($6 - $3), ($6 - $3) / hz }' >&2
		grep -q '^RIP=' "$job/monitor.log" ||
			echo "run-in-guest: qemu's monitor did not answer: qemu itself was stuck, not only the guest" >&2
		rc=124
	else
		echo "run-in-guest: guest ended without running the script (qemu status $qrc)" >&2
		rc=125
	fi
fi
echo "run-in-guest: guest run took $((end - start)) s, script status $rc" >&2
exit "$rc"
