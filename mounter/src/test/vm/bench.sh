#!/bin/bash
# make vmbench (Java part), inside the guest: the same qcow2 image through /dev/abuseN (vdmount),
# /dev/nbd0 (qemu-nbd), and a loop device over its raw conversion; fio 4k random reads at QD16 and
# 1M sequential reads, direct I/O, in one boot. Argument: a raw file of data to build the image from.
set -u
top=$(pwd)
vd=$top/bin/vdmount
source_raw=$1
runtime=${BENCH_SECONDS:-15}
insmod "$ABUSE_KO" || exit 1
modprobe nbd max_part=0 nbds_max=2 || exit 1
modprobe loop
head -c 256M "$source_raw" > /tmp/bench.raw
qemu-img convert -f raw -O qcow2 /tmp/bench.raw /tmp/bench.qcow2

out=$("$vd" attach --transport abuse --no-partscan /tmp/bench.qcow2)
abuse=$(echo "$out" | awk 'NR==1{print $1}')
[ -b "$abuse" ] || { echo "vdmount attach did not give a device: $out"; exit 1; }
"$vd" list | sed 's/^/# /'
qemu-nbd -c /dev/nbd0 -r -f qcow2 /tmp/bench.qcow2
loop=$(losetup -r -f --show /tmp/bench.raw)
sleep 1

fio_run() { # device rw bs depth: prints "iops MiB/s" (terse format: field 7 read KiB/s, 8 read IOPS)
    local out
    out=$(fio --minimal --name=b --filename="$1" --rw="$2" --bs="$3" --iodepth="$4" --ioengine=libaio \
        --direct=1 --runtime="${runtime}" --time_based --numjobs=1 --group_reporting 2>&1)
    # A failed run says why on the terminal instead of passing as a figure of 0.
    echo "$out" | grep -v ';' | sed "s|^|# fio on $1: |" >&2
    echo "$out" | awk -F';' 'NF > 8 { printf "%d %.1f\n", $8, $7 / 1024 }'
}

# Warm-up, discarded: the JVM compiles its hot paths in the first seconds (slowly, under emulation);
# the table is about the steady state, for every device alike.
for dev in "$abuse" /dev/nbd0 "$loop"; do
    runtime=5 fio_run "$dev" randread 4k 16 >/dev/null
done

printf '%-28s %12s %12s %12s\n' test "vdmount" "qemu-nbd" "loop(raw)"
for t in "4k randread QD16:randread:4k:16" "1M seqread QD4:read:1M:4"; do
    IFS=: read -r label rw bs depth <<<"$t"
    a=$(fio_run "$abuse" "$rw" "$bs" "$depth")
    n=$(fio_run /dev/nbd0 "$rw" "$bs" "$depth")
    l=$(fio_run "$loop" "$rw" "$bs" "$depth")
    if [ "$bs" = 4k ]; then
        printf '%-28s %9s IOPS %7s IOPS %7s IOPS   vdmount/qemu-nbd %s\n' "$label" "${a%% *}" "${n%% *}" "${l%% *}" \
            "$(awk -v a="${a%% *}" -v n="${n%% *}" 'BEGIN { printf "%.2fx", a / n }')"
    else
        printf '%-28s %8s MiB/s %6s MiB/s %6s MiB/s   vdmount/qemu-nbd %s\n' "$label" "${a##* }" "${n##* }" "${l##* }" \
            "$(awk -v a="${a##* }" -v n="${n##* }" 'BEGIN { printf "%.2fx", a / n }')"
    fi
done
"$vd" detach "$abuse" >/dev/null
qemu-nbd -d /dev/nbd0 >/dev/null
losetup -d "$loop"
