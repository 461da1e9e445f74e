#!/bin/bash
# per-kernel.sh [--parallel] COMMAND [ARGS...]
#
# Runs COMMAND once per guest kernel (kmod/kernels.mk's GUEST_KVERS, given in the environment, or
# else every kernel vmtest_kvers finds), with KVER set: in turn, its output streaming; or, with
# --parallel, all at once, each run's output kept in a log and printed whole when it ends (guests
# with single-threaded TCG take one host CPU each). Exits 0 only if every run did; prints one
# summary line per kernel at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
parallel=
if [ "${1:-}" = --parallel ]; then
	parallel=1
	shift
fi
[ $# -ge 1 ] || { echo "usage: $0 [--parallel] COMMAND [ARGS...]" >&2; exit 2; }
kvers=${GUEST_KVERS:-$(vmtest_kvers)}
if [ -z "$kvers" ]; then
	echo "per-kernel: no kernel with both /boot/vmlinuz-V and headers" >&2
	exit 77
fi
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
declare -A rc
if [ -z "$parallel" ]; then
	for k in $kvers; do
		echo "===== $* on $k ====="
		start=$(date +%s)
		KVER=$k "$@"
		rc[$k]=$?
		echo "$(($(date +%s) - start))" >"$logs/$k.time"
	done
else
	declare -A pids
	for k in $kvers; do
		( start=$(date +%s); KVER=$k "$@" >"$logs/$k.log" 2>&1; r=$?
		  echo "$(($(date +%s) - start))" >"$logs/$k.time"; exit $r ) &
		pids[$k]=$!
	done
	left=$kvers
	while [ -n "$left" ]; do
		wait -n
		rest=
		for k in $left; do
			if kill -0 "${pids[$k]}" 2>/dev/null; then
				rest="$rest $k"
			else
				wait "${pids[$k]}"
				rc[$k]=$?
				echo "===== $* on $k (status ${rc[$k]}, $(cat "$logs/$k.time" 2>/dev/null) s) ====="
				cat "$logs/$k.log"
			fi
		done
		left=$rest
	done
fi
status=0
for k in $kvers; do
	echo "per-kernel: $k: status ${rc[$k]} in $(cat "$logs/$k.time" 2>/dev/null) s ($*)"
	[ "${rc[$k]}" = 0 ] || status=1
done
exit $status
