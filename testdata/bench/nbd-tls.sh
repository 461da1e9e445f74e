#!/bin/bash
# NBD read throughput over TLS: `vdmount serve --tls-creds` against `qemu-nbd --tls-creds`, same
# image, same certificates, same client. Called by `make bench` (testdata/bench/run.sh); runs
# alone too.
#
# Client: fio's nbd engine (libnbd and GnuTLS inside fio, one connection, nbds://), 4 KiB random
# reads at queue depth 16 and 1 MiB sequential reads at queue depth 4, on the 512 MiB image of
# random data nbd.sh uses, in the page cache: this measures the servers and their TLS. Both
# servers check the client's certificate (the directory has ca-cert.pem). fio's engine does not
# let a URI name the client's certificates, so fio runs as nobody with a HOME whose .pki/libnbd
# holds them (libnbd's default place for a user that is not root).
#
# Usage: testdata/bench/nbd-tls.sh [SECONDS_PER_RUN]   (default 5; about 2 minutes in all)
# Needs: a built jar (make jar), fio with the nbd engine, qemu-nbd, openssl, setpriv.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/testdata/bench/nbd-lib.sh"
RUNTIME=${1:-5}
VDMOUNT=$top/bin/vdmount
SIZE_MIB=${BENCH_SIZE_MIB:-512}
PORT_VD=${PORT_VD:-11819}
PORT_QEMU=${PORT_QEMU:-11820}

for tool in fio qemu-nbd openssl setpriv java; do
    command -v "$tool" >/dev/null || { echo "nbd-tls.sh: $tool is not installed" >&2; exit 1; }
done
fio --enghelp=nbd >/dev/null 2>&1 || { echo "nbd-tls.sh: this fio has no nbd engine" >&2; exit 1; }
[ -f "$top/mounter/target/vdmount.jar" ] || { echo "nbd-tls.sh: the jar is not built: run make jar" >&2; exit 1; }

CACHE=${BENCH_CACHE:-$top/testdata/cache/bench}
mkdir -p "$CACHE"
image=$CACHE/random.raw
if [ ! -f "$image" ] || [ "$(stat -c %s "$image")" -ne $((SIZE_MIB * 1048576)) ]; then
    echo "building a ${SIZE_MIB} MiB image of random data in $CACHE ..." >&2
    head -c $((SIZE_MIB * 1048576)) /dev/urandom > "$image.tmp"
    mv "$image.tmp" "$image"
    rm -f "$CACHE/random.qcow2"
fi

WORK=$(mktemp -d /tmp/vdmount-tls-bench.XXXXXX)
chmod 755 "$WORK"
VD_PID=
QEMU_PID=
stop_servers() {
    for pid in $VD_PID $QEMU_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    VD_PID=
    QEMU_PID=
}
trap 'stop_servers; rm -rf "$WORK"' EXIT

# Certificates as qemu's docs lay them out: a CA, a server certificate for 127.0.0.1, a client one.
pki() { openssl "$@" >/dev/null 2>&1; }
mkdir -p "$WORK/server" "$WORK/home/.pki/libnbd"
client=$WORK/home/.pki/libnbd
pki req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/ca-key.pem" \
    -out "$WORK/ca-cert.pem" -days 1 -subj "/CN=vdmount bench CA"
for who in server client; do
    dir=$WORK/server
    [ "$who" = client ] && dir=$client
    pki ecparam -name prime256v1 -genkey -noout -out "$dir/$who-key.pem"
    pki req -new -key "$dir/$who-key.pem" -out "$WORK/$who.csr" -subj "/CN=$who"
    if [ "$who" = server ]; then
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$WORK/$who.ext"
    else
        printf 'extendedKeyUsage=clientAuth\n' > "$WORK/$who.ext"
    fi
    pki x509 -req -in "$WORK/$who.csr" -CA "$WORK/ca-cert.pem" -CAkey "$WORK/ca-key.pem" -CAcreateserial \
        -out "$dir/$who-cert.pem" -days 1 -extfile "$WORK/$who.ext"
    cp "$WORK/ca-cert.pem" "$dir/"
done
chmod -R a+rX "$WORK/home"


cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# fio <port> <rw> <bs> <iodepth> <seconds> [server pid] -> "IOPS MiB/s CPU-us-per-IO"
run_fio() {
    local before=0 after=0 line
    [ -n "${6:-}" ] && before=$(cpu_ticks "$6")
    line=$(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$WORK/home" \
        fio --name=bench --ioengine=nbd --uri="nbds://127.0.0.1:$1/" --rw="$2" --bs="$3" --iodepth="$4" \
        --runtime="$5" --time_based --output-format=terse --terse-version=3 | grep '^3;fio')
    [ -n "${6:-}" ] && after=$(cpu_ticks "$6")
    awk -F';' -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" -v bs="$3" '{
        kib = bs == "4k" ? 4 : 1024
        ios = $6 / kib
        printf "%d %.1f %.1f\n", $8, $7 / 1024, (ios > 0 ? ticks / hz * 1e6 / ios : 0)
    }' <<< "$line"
}


cat "$image" > /dev/null
"$VDMOUNT" serve --port "$PORT_VD" --tls-creds "$WORK/server" "$image" > "$WORK/vd.out" 2> "$WORK/vd.err" &
VD_PID=$!
wait_for_port "$PORT_VD" || { echo "vdmount serve did not start: $(cat "$WORK/vd.err")" >&2; exit 1; }
qemu-nbd --read-only --persistent --shared=8 -f raw -p "$PORT_QEMU" -b 127.0.0.1 \
    --object "tls-creds-x509,id=tls0,dir=$WORK/server,endpoint=server" --tls-creds tls0 "$image" 2> "$WORK/qemu.err" &
QEMU_PID=$!
wait_for_port "$PORT_QEMU" || { echo "qemu-nbd did not start: $(cat "$WORK/qemu.err")" >&2; exit 1; }

declare -A PORT=([vdmount]="$PORT_VD" [qemu-nbd]="$PORT_QEMU")
declare -A PID=([vdmount]="$VD_PID" [qemu-nbd]="$QEMU_PID")
declare -A RESULT
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for server in vdmount qemu-nbd; do # warm-up: the JVM compiles its hot paths (TLS's too)
    run_fio "${PORT[$server]}" randread 4k 16 3 >/dev/null
    run_fio "${PORT[$server]}" read 1M 4 3 >/dev/null
done
for round in 1 2; do
    for server in vdmount qemu-nbd; do
        echo "TLS: $server, round $round ..." >&2
        RESULT["$server,rand"]=$(best "${RESULT["$server,rand"]:-}" \
            "$(run_fio "${PORT[$server]}" randread 4k 16 "$RUNTIME" "${PID[$server]}")")
        RESULT["$server,seq"]=$(best "${RESULT["$server,seq"]:-}" \
            "$(run_fio "${PORT[$server]}" read 1M 4 "$RUNTIME" "${PID[$server]}")")
    done
done
stop_servers

echo "NBD reads over TLS (nbds://, client certificates checked), fio ioengine=nbd (1 connection),"
echo "${SIZE_MIB} MiB raw image of random data in the page cache, best of 2 runs of ${RUNTIME}s each, $(nproc) CPUs,"
echo "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-17s %15s %15s %7s   %s\n' workload "vdmount serve" qemu-nbd ratio "server CPU per I/O: vdmount / qemu-nbd"
for w in rand seq; do
    read -r vd_iops vd_mib vd_cpu <<< "${RESULT["vdmount,$w"]}"
    read -r q_iops q_mib q_cpu <<< "${RESULT["qemu-nbd,$w"]}"
    if [ "$w" = rand ]; then
        label="4k randread QD16"; vd="$vd_iops IOPS"; q="$q_iops IOPS"; a=$vd_iops; b=$q_iops
    else
        label="1M read QD4"; vd="$vd_mib MiB/s"; q="$q_mib MiB/s"; a=$vd_mib; b=$q_mib
    fi
    printf '%-17s %15s %15s %6.2fx   %s us / %s us\n' "$label" "$vd" "$q" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN { print (b > 0 ? a / b : 0) }')" "$vd_cpu" "$q_cpu"
done
