#!/bin/bash
# NBD write throughput into qcow2: `vdmount serve --rw` against `qemu-nbd`, same kind of image, same
# run, same client. Called by `make bench` (testdata/bench/run.sh); runs alone too. Target: ratio
# >= 1.0 (issue 15).
#
# Client: fio's nbd engine (libnbd inside fio, one connection): 4 KiB random writes at queue depth
# 16 and 1 MiB sequential writes at queue depth 4, each ending with a flush (end_fsync), on a new
# empty qcow2 image for every run (qemu-img create, 64 KiB clusters): the writes allocate clusters,
# L2 tables and refcount blocks, the work a VM's first writes cause. The images live in a tmpfs
# directory unless BENCH_WRITE_DIR says otherwise, so the servers are measured, not the disk.
# qemu-nbd runs with its defaults (writeback cache, flushed on the client's flush). After every
# vdmount run, qemu-img check must find the image clean, or the figures are not printed.
#
# Usage: testdata/bench/nbd-write.sh [SECONDS_PER_RUN]   (default 5; about 2 minutes in all)
# Needs: a built jar (make jar), fio with the nbd engine, qemu-img, qemu-nbd.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/testdata/bench/nbd-lib.sh"
RUNTIME=${1:-5}
VDMOUNT=$top/bin/vdmount
SIZE_MIB=${BENCH_SIZE_MIB:-1024}
PORT_VD=${PORT_VD:-11829}
PORT_QEMU=${PORT_QEMU:-11830}

for tool in fio qemu-img qemu-nbd java; do
    command -v "$tool" >/dev/null || { echo "nbd-write.sh: $tool is not installed" >&2; exit 1; }
done
fio --enghelp=nbd >/dev/null 2>&1 || { echo "nbd-write.sh: this fio has no nbd engine" >&2; exit 1; }
[ -f "$top/mounter/target/vdmount.jar" ] || { echo "nbd-write.sh: the jar is not built: run make jar" >&2; exit 1; }

WORK=$(mktemp -d "${BENCH_WRITE_DIR:-/dev/shm}/vdmount-nbd-write.XXXXXX")
PID=
stop_server() {
    [ -n "$PID" ] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
    PID=
}
trap 'stop_server; rm -rf "$WORK"' EXIT


# Starts SERVER on a new empty qcow2 image; sets PID and URI.
start() {
    rm -f "$WORK/image.qcow2"
    qemu-img create -q -f qcow2 "$WORK/image.qcow2" "${SIZE_MIB}M"
    if [ "$1" = vdmount ]; then
        "$VDMOUNT" serve --rw --port "$PORT_VD" "$WORK/image.qcow2" > "$WORK/server.out" 2> "$WORK/server.err" &
        PID=$! URI=nbd://127.0.0.1:$PORT_VD/
        wait_for_port "$PORT_VD" || { echo "vdmount serve did not start: $(head -3 "$WORK/server.err")" >&2; exit 1; }
    else
        qemu-nbd --persistent --shared=8 -f qcow2 -p "$PORT_QEMU" -b 127.0.0.1 "$WORK/image.qcow2" \
            2> "$WORK/server.err" &
        PID=$! URI=nbd://127.0.0.1:$PORT_QEMU/
        wait_for_port "$PORT_QEMU" || { echo "qemu-nbd did not start: $(cat "$WORK/server.err")" >&2; exit 1; }
    fi
}

# fio <rw> <bs> <iodepth> <seconds> -> "IOPS MiB/s" (terse v3: field 48 write KiB/s, 49 write IOPS)
run_fio() {
    fio --name=bench --ioengine=nbd --uri="$URI" --rw="$1" --bs="$2" --iodepth="$3" --size="${SIZE_MIB}M" \
        --runtime="$4" --time_based --end_fsync=1 --output-format=terse --terse-version=3 |
        grep '^3;fio' | awk -F';' '{ printf "%d %.1f\n", $49, $48 / 1024 }'
}

# One run: a new image, a warm-up on it (the JVM compiles its write path), the measured run, then
# the server stops and qemu-img checks what it left.
measure() { # server rw bs iodepth
    local result
    start "$1"
    run_fio "$2" "$3" "$4" 2 > /dev/null
    result=$(run_fio "$2" "$3" "$4" "$RUNTIME")
    stop_server
    if ! check=$(qemu-img check "$WORK/image.qcow2" 2>&1); then
        echo "nbd-write.sh: $1 left an image qemu-img check does not pass: $check" >&2
        exit 1
    fi
    echo "$result"
}


declare -A RESULT
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# Two rounds, the servers taking turns, best of two: the host is shared.
for round in 1 2; do
    for server in vdmount qemu-nbd; do
        echo "qcow2 writes: $server, round $round ..." >&2
        RESULT["$server,rand"]=$(best "${RESULT["$server,rand"]:-}" "$(measure "$server" randwrite 4k 16)")
        RESULT["$server,seq"]=$(best "${RESULT["$server,seq"]:-}" "$(measure "$server" write 1M 4)")
    done
done

echo "NBD writes into a new ${SIZE_MIB} MiB qcow2 (64 KiB clusters) in $(dirname "$WORK"), fio ioengine=nbd"
echo "(1 connection, a flush at the end), best of 2 runs of ${RUNTIME}s each after 2s of warm-up, $(nproc) CPUs,"
echo "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg); qemu-img check clean after each vdmount run"
printf '%-19s %18s %15s %7s\n' workload "vdmount serve --rw" qemu-nbd ratio
for w in rand seq; do
    read -r vd_iops vd_mib <<< "${RESULT["vdmount,$w"]}"
    read -r q_iops q_mib <<< "${RESULT["qemu-nbd,$w"]}"
    if [ "$w" = rand ]; then
        label="4k randwrite QD16"; vd="$vd_iops IOPS"; q="$q_iops IOPS"; a=$vd_iops; b=$q_iops
    else
        label="1M write QD4"; vd="$vd_mib MiB/s"; q="$q_mib MiB/s"; a=$vd_mib; b=$q_mib
    fi
    printf '%-19s %18s %15s %6.2fx\n' "$label" "$vd" "$q" "$(awk -v a="$a" -v b="$b" 'BEGIN { print (b > 0 ? a / b : 0) }')"
done
