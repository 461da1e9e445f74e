#!/bin/sh
# Reads through vdmount's FUSE file against qemu-storage-daemon's FUSE export of the same image,
# in the same run: fio 4k random reads at QD16 and 1M sequential reads, O_DIRECT so every read
# reaches the server (the page cache would otherwise measure itself). Needs root, fio,
# qemu-storage-daemon. Usage: testdata/bench/fuse.sh IMAGE [SECONDS]
#   VDMOUNT: how to run vdmount (default: java -jar mounter/target/vdmount.jar)
set -eu
image=$(realpath "$1")
seconds=${2:-15}
vdmount=${VDMOUNT:-"$(cd "$(dirname "$0")/../.." && pwd)/bin/vdmount"}
format=$(qemu-img info --output=json "$image" | sed -n 's/.*"format": "\([a-z0-9]*\)".*/\1/p' | head -n1)
work=$(mktemp -d)
qsd_pid=
cleanup() {
    [ -n "$qsd_pid" ] && kill "$qsd_pid" 2>/dev/null && wait "$qsd_pid" 2>/dev/null || true
    $vdmount detach "$image" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

$vdmount attach --no-partscan "$image" >/dev/null
ours=$($vdmount list --json | sed -n 's/.*"mountPoint": "\([^"]*\)".*/\1/p' | tail -n1)/disk

touch "$work/qemu-export"
qemu-storage-daemon \
    --blockdev "driver=file,node-name=file0,filename=$image,read-only=on,cache.direct=off" \
    --blockdev "driver=$format,node-name=fmt0,file=file0,read-only=on" \
    --export "type=fuse,id=exp0,node-name=fmt0,mountpoint=$work/qemu-export,writable=off" &
qsd_pid=$!
for i in $(seq 50); do
    grep -q " $work/qemu-export " /proc/mounts && break
    sleep 0.1
done

run() { # name file rw bs depth
    fio --name="$1" --filename="$2" --rw="$3" --bs="$4" --iodepth="$5" --ioengine=libaio --direct=1 \
        --readonly --time_based --runtime="$seconds" --numjobs=1 --group_reporting \
        --output-format=terse --terse-version=3 | awk -F';' -v n="$1" '{ printf "%-28s %10d IOPS %9.1f MiB/s\n", n, $8, $7 / 1024 }'
}
for pass in 1 2; do
    run "vdmount 4k rand QD16 #$pass" "$ours" randread 4k 16
    run "qemu-sd 4k rand QD16 #$pass" "$work/qemu-export" randread 4k 16
    run "vdmount 1M seq #$pass" "$ours" read 1M 4
    run "qemu-sd 1M seq #$pass" "$work/qemu-export" read 1M 4
done
