#!/bin/bash
# NBD read throughput: `vdmount serve` against `qemu-nbd`, same image, same run, same client.
# Called by `make bench` (testdata/bench/run.sh); runs alone too. Target: ratio >= 1.0.
#
# Client: fio's nbd engine (libnbd inside fio, one connection), 4 KiB random reads at queue depth
# 16 and 1 MiB sequential reads at queue depth 4, on a 512 MiB image full of random data, as raw
# and as qcow2 (made by qemu-img from the raw). Images are in the page cache, so this measures the
# servers, not the disk. Both servers run with their defaults, read-only, on loopback TCP.
# Besides throughput, the table gives each server's CPU time per I/O (user + system, all its
# threads), which a busy shared host disturbs far less than throughput.
#
# Usage: testdata/bench/nbd.sh [SECONDS_PER_RUN]   (default 5; about 3 minutes in all)
# Needs: a built jar (make jar), fio with the nbd engine, qemu-img, qemu-nbd.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/testdata/bench/nbd-lib.sh"
RUNTIME=${1:-5}
VDMOUNT=$top/bin/vdmount
SIZE_MIB=${BENCH_SIZE_MIB:-512}
PORT_VD=${PORT_VD:-11809}
PORT_QEMU=${PORT_QEMU:-11810}

echo "== NBD: vdmount serve vs qemu-nbd (fio ioengine=nbd) =="
for tool in fio qemu-img qemu-nbd java; do
    command -v "$tool" >/dev/null || { echo "nbd.sh: $tool is not installed" >&2; exit 1; }
done
fio --enghelp=nbd >/dev/null 2>&1 || { echo "nbd.sh: this fio has no nbd engine" >&2; exit 1; }
[ -f "$top/mounter/target/vdmount.jar" ] || { echo "nbd.sh: the jar is not built: run make jar" >&2; exit 1; }

# Random data, unlike images.sh's real files: nothing for either server to compress or skip.
CACHE=${BENCH_CACHE:-$top/testdata/cache/bench}
mkdir -p "$CACHE"
if [ ! -f "$CACHE/random.raw" ] || [ "$(stat -c %s "$CACHE/random.raw")" -ne $((SIZE_MIB * 1048576)) ]; then
    echo "building a ${SIZE_MIB} MiB image of random data in $CACHE ..." >&2
    head -c $((SIZE_MIB * 1048576)) /dev/urandom > "$CACHE/random.raw.tmp"
    mv "$CACHE/random.raw.tmp" "$CACHE/random.raw"
    rm -f "$CACHE/random.qcow2"
fi
if [ ! -f "$CACHE/random.qcow2" ]; then
    qemu-img convert -f raw -O qcow2 "$CACHE/random.raw" "$CACHE/random.qcow2.tmp"
    mv "$CACHE/random.qcow2.tmp" "$CACHE/random.qcow2"
fi

WORK=$(mktemp -d /tmp/vdmount-nbd-bench.XXXXXX)   # server logs
VD_PID=
QEMU_PID=
stop_servers() {
    for pid in $VD_PID $QEMU_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    VD_PID=
    QEMU_PID=
}
trap 'stop_servers; rm -rf "$WORK"' EXIT


# CPU time (user + system, all threads) a process has used, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# fio <uri> <rw> <bs> <iodepth> <seconds> [server pid] -> "IOPS MiB/s CPU-us-per-IO"
# (terse v3: field 6 KiB read, 7 read KiB/s, 8 read IOPS). The server's CPU time per I/O is the
# figure the shared host disturbs least: others' load slows a server down, it barely changes what
# each request costs.
run_fio() {
    local before=0 after=0
    [ -n "${6:-}" ] && before=$(cpu_ticks "$6")
    local line
    line=$(fio --name=bench --ioengine=nbd --uri="$1" --rw="$2" --bs="$3" --iodepth="$4" \
        --runtime="$5" --time_based --output-format=terse --terse-version=3 | grep '^3;fio')
    [ -n "${6:-}" ] && after=$(cpu_ticks "$6")
    awk -F';' -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" -v bs="$3" '{
        kib = bs == "4k" ? 4 : 1024
        ios = $6 / kib
        printf "%d %.1f %.1f\n", $8, $7 / 1024, (ios > 0 ? ticks / hz * 1e6 / ios : 0)
    }' <<< "$line"
}


declare -A RESULT
FORMATS=()
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for fmt in raw qcow2; do
    image="$CACHE/random.$fmt"
    cat "$image" > /dev/null   # into the page cache

    "$VDMOUNT" serve --port "$PORT_VD" "$image" > "$WORK/vd.out" 2> "$WORK/vd.err" &
    VD_PID=$!
    if ! wait_for_port "$PORT_VD" || ! kill -0 "$VD_PID" 2>/dev/null; then
        echo "vdmount serve cannot serve $fmt: $(head -1 "$WORK/vd.err") -- skipped" >&2
        stop_servers
        continue
    fi
    qemu-nbd --read-only --persistent --shared=8 -f "$fmt" -p "$PORT_QEMU" -b 127.0.0.1 "$image" \
        2> "$WORK/qemu.err" &
    QEMU_PID=$!
    wait_for_port "$PORT_QEMU" || { echo "qemu-nbd did not start: $(cat "$WORK/qemu.err")" >&2; exit 1; }
    FORMATS+=("$fmt")

    declare -A URI=([vdmount]="nbd://127.0.0.1:$PORT_VD/" [qemu-nbd]="nbd://127.0.0.1:$PORT_QEMU/")
    declare -A PID=([vdmount]="$VD_PID" [qemu-nbd]="$QEMU_PID")
    # Warm-up: the JVM compiles its hot paths, both servers fault in what they cache.
    for server in vdmount qemu-nbd; do
        run_fio "${URI[$server]}" randread 4k 16 2 >/dev/null
        run_fio "${URI[$server]}" read 1M 4 1 >/dev/null
    done
    # Two rounds, the servers taking turns, best of two: the host is shared, and a burst of
    # someone else's work should not decide the ratio.
    for round in 1 2; do
        for server in vdmount qemu-nbd; do
            echo "$fmt: $server, round $round ..." >&2
            RESULT["$server,$fmt,rand"]=$(best "${RESULT["$server,$fmt,rand"]:-}" \
                "$(run_fio "${URI[$server]}" randread 4k 16 "$RUNTIME" "${PID[$server]}")")
            RESULT["$server,$fmt,seq"]=$(best "${RESULT["$server,$fmt,seq"]:-}" \
                "$(run_fio "${URI[$server]}" read 1M 4 "$RUNTIME" "${PID[$server]}")")
        done
    done
    stop_servers
done

echo "NBD reads, fio ioengine=nbd (1 connection), ${SIZE_MIB} MiB image of random data in the page cache,"
echo "best of 2 runs of ${RUNTIME}s each, $(nproc) CPUs, load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-17s %15s %15s %7s   %s\n' format workload "vdmount serve" qemu-nbd ratio "server CPU per I/O: vdmount / qemu-nbd"
for fmt in "${FORMATS[@]}"; do
    for w in rand seq; do
        read -r vd_iops vd_mib vd_cpu <<< "${RESULT["vdmount,$fmt,$w"]}"
        read -r q_iops q_mib q_cpu <<< "${RESULT["qemu-nbd,$fmt,$w"]}"
        if [ "$w" = rand ]; then
            label="4k randread QD16"; vd="$vd_iops IOPS"; q="$q_iops IOPS"; a=$vd_iops; b=$q_iops
        else
            label="1M read QD4"; vd="$vd_mib MiB/s"; q="$q_mib MiB/s"; a=$vd_mib; b=$q_mib
        fi
        printf '%-6s %-17s %15s %15s %6.2fx   %s us / %s us\n' "$fmt" "$label" "$vd" "$q" \
            "$(awk -v a="$a" -v b="$b" 'BEGIN { print (b > 0 ? a / b : 0) }')" "$vd_cpu" "$q_cpu"
    done
done
