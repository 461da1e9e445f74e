#!/bin/bash
# Print what a stuck guest is doing: the kernel stack of every task in
# uninterruptible sleep (state D) and of every thread of the PIDs given,
# then the end of the kernel log.  For a test that timed out in the
# guest: the console shows only messages of level 2 and below, so a
# hung-task report would otherwise be lost.
#
#   kmod/vmtest/dump-stuck.sh [PID...]
show_task() {	# show_task DIR: one thread's state, wait channel and stack
	local t=$1 state
	state=$(sed -n 's/^State:[[:space:]]*//p' "$t/status" 2>/dev/null)
	echo "  $(cat "$t/comm" 2>/dev/null)[${t##*/}] $state, waiting in $(cat "$t/wchan" 2>/dev/null)"
	sed 's/^/    /' "$t/stack" 2>/dev/null
}
echo "dump-stuck: tasks in uninterruptible sleep"
for t in /proc/[0-9]*/task/[0-9]*; do
	grep -q '^State:[[:space:]]*D' "$t/status" 2>/dev/null && show_task "$t"
done
for p in "$@"; do
	echo "dump-stuck: threads of $p"
	for t in /proc/"$p"/task/[0-9]*; do
		show_task "$t"
	done
done
echo "dump-stuck: the last kernel messages"
dmesg | tail -n 80
