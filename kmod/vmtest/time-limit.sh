# Sourced by run-in-guest.sh: what it does when a guest reaches its time limit.  It asks the
# guest's kernel, and qemu's monitor, where the guest is stuck (time_is_up), then sums that up in
# the last lines of the output (stuck_summary, cpu_summary, qemu_summary), so that a log cut to
# its tail still says where.  Uses run-in-guest.sh's $job and $here.

# time_is_up SECONDS MONITOR LOG FLAG OUTPUT: after SECONDS, note the console log's length in FLAG
# (and qemu's CPU time in FLAG.cpu), send commands to the MONITOR fifo (OUTPUT is what it answers) and
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
			if (a >= "ffffffffc0000000") return "module@" a
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
				s = sym(w)
				if (s == "" || seen[cur, s]++ || nf[cur] >= 10) continue
				nf[cur]++; frames[cur] = frames[cur] " < " s
			}
		}
		END {
			split(substr(cpus, 2), list, " ")
			for (k = 1; k in list; k++) {
				c = list[k]
				print "run-in-guest: cpu " c (cpl[c] == "0" ? " in the kernel" : " in user space (CPL " cpl[c] ")") ": at " sym(rip[c]) (cpl[c] == "0" ? frames[c] : "")
			}
		}'
}

# qemu_summary CPU_SAMPLES MONITOR_LOG: how busy qemu was at the limit (two samples 30 s apart:
# user, system and wall ticks), and whether its monitor answered at all.
qemu_summary() {
	paste -sd ' ' "$1" 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" 'NF == 6 && $6 > $3 {
		printf "run-in-guest: at the limit qemu used %.0f%% of a host CPU over %d s\n", 100 * ($4 + $5 - $1 - $2) / ($6 - $3), ($6 - $3) / hz }'
	grep -q '^RIP=' "$2" ||
		echo "run-in-guest: qemu's monitor did not answer: qemu itself was stuck, not only the guest"
}
