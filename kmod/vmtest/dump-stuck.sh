#!/bin/bash
# Print what a stuck guest is doing: the kernel stack of every task in
# uninterruptible sleep (state D) and of every thread of the PIDs given,
# then the end of the kernel log, then one line naming each blocked task
# and its innermost kernel functions (last, so that a log cut to its tail
# still shows it).  For a test that timed out in the guest: the console
# shows only messages of level 2 and below, so a hung-task report would
# otherwise be lost.
#
#   kmod/vmtest/dump-stuck.sh [PID...]
show_task() {	# show_task DIR: one thread's state, wait channel and stack
	local t=$1 state
	state=$(sed -n 's/^State:[[:space:]]*//p' "$t/status" 2>/dev/null)
	echo "  $(cat "$t/comm" 2>/dev/null)[${t##*/}] $state, waiting in $(cat "$t/wchan" 2>/dev/null)"
	sed 's/^/    /' "$t/stack" 2>/dev/null
}
# brief DIR: comm[tid] and its first stack frames, innermost first
brief() {
	printf '%s[%s] %s' "$(cat "$1/comm" 2>/dev/null)" "${1##*/}" \
		"$(sed -n 's/^\[<[0-9a-f]*>\] \([^+]*\)+.*/\1/p' "$1/stack" 2>/dev/null |
		   grep -v '^__schedule$\|^schedule$\|^io_schedule$' | head -7 | paste -sd '<')"
}
stuck=
echo "dump-stuck: tasks in uninterruptible sleep"
for t in /proc/[0-9]*/task/[0-9]*; do
	if grep -q '^State:[[:space:]]*D' "$t/status" 2>/dev/null; then
		show_task "$t"
		stuck="$stuck; $(brief "$t")"
	fi
done
threads=
for p in "$@"; do
	echo "dump-stuck: threads of $p"
	for t in /proc/"$p"/task/[0-9]*; do
		show_task "$t"
		threads="$threads; $(brief "$t")"
	done
done
echo "dump-stuck: the last kernel messages"
dmesg | tail -n 80
[ $# -gt 0 ] && echo "dump-stuck: threads of $*: ${threads#; }"
echo "dump-stuck: blocked: ${stuck#; }"
