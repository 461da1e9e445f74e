#!/bin/bash
# Runs inside the vmtest guest: fio 4k random read QD16 and 1M sequential
# read on /dev/abuse0 (abusectl serving a file on tmpfs), a loop device on
# the same file, and /dev/nbd0 served by qemu-nbd; prints a table.
set -u
here=$(cd "$(dirname "$0")" && pwd)
kmod=$(dirname "$here")
W=/tmp/abuse-bench
IMG=$W/disk.img
SIZE=${BENCH_SIZE:-256M}
RUNTIME=${BENCH_RUNTIME:-15}
mkdir -p $W
insmod "${ABUSE_KO:-$kmod/abuse.ko}" || exit 1
modprobe loop
modprobe nbd max_part=0 || exit 1
head -c $SIZE /dev/urandom >$IMG

$kmod/abusectl/abusectl serve $IMG --threads 2 >$W/abuse.out 2>&1 &
abuse_pid=$!
loopdev=$(losetup --show -f --direct-io=off $IMG)
qemu-nbd -f raw -c /dev/nbd0 --cache=none --aio=threads $IMG 2>$W/nbd.err ||
	qemu-nbd -f raw -c /dev/nbd0 $IMG
for i in $(seq 1 100); do
	grep -q /dev/abuse0 $W/abuse.out && [ "$(cat /sys/block/nbd0/size)" != 0 ] && break
	sleep 0.1
done

# fio_run DEV RW BS QD: prints "IOPS MiB/s"
fio_run() {
	fio --name=b --filename=$1 --direct=1 --ioengine=libaio --rw=$2 --bs=$3 \
		--iodepth=$4 --runtime=$RUNTIME --time_based --ramp_time=2 \
		--output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' '{ printf "%d %.1f\n", $8, $7 / 1024 }'
}

echo "fio in the guest (TCG), $SIZE image on tmpfs, ${RUNTIME}s per run"
printf "%-30s | %22s | %18s\n" device "4k randread QD16" "1M seqread QD4"
for dev in /dev/abuse0 $loopdev /dev/nbd0; do
	case $dev in
	/dev/abuse*) name="abuse (abusectl, 2 threads)";;
	/dev/loop*) name="loop ($loopdev)";;
	*) name="nbd (qemu-nbd)";;
	esac
	echo 3 >/proc/sys/vm/drop_caches
	r=$(fio_run $dev randread 4k 16)
	s=$(fio_run $dev read 1M 4)
	printf "%-30s | %8s IOPS %7s MiB/s | %12s MiB/s\n" "$name" ${r% *} ${r#* } ${s#* }
done

qemu-nbd -d /dev/nbd0 >/dev/null
losetup -d $loopdev
kill -TERM $abuse_pid
wait $abuse_pid
