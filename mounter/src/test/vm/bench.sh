#!/bin/bash
# make vmbench (Java part), inside the guest: the same qcow2 image through /dev/abuseN (vdmount over
# the abuse module), /dev/ublkbN (vdmount over the kernel's ublk driver, where the kernel has it:
# in its default copy mode, and with UBLK_F_USER_COPY), /dev/nbd0 (qemu-nbd), and a loop device
# over its raw conversion; fio 4k random reads at QD1 and QD16 and 1M sequential reads, direct I/O,
# in one boot. Argument: a raw file of data to build the image from. Each figure is the mean of
# VMTEST_BENCH_ROUNDS runs (default 2) of VMTEST_BENCH_SECONDS (default 15), the devices taking
# turns in reversed order each round, so that drift of the shared machine falls on all alike.
# Then writes (VMTEST_BENCH_WRITES=0 skips them): a new, empty qcow2 attached read-write, a copy of
# its own for each of vdmount over abuse, vdmount over the kernel's nbd and qemu-nbd; fio 4k random
# writes at QD16 and 1M sequential writes at QD4 (direct I/O, an fsync at the end of each run), and
# qemu-img check of every image afterwards.
set -u
top=$(pwd)
vd=$top/bin/vdmount
source_raw=$1
runtime=${VMTEST_BENCH_SECONDS:-15}
rounds=${VMTEST_BENCH_ROUNDS:-2}
insmod "$ABUSE_KO" || exit 1
modprobe nbd max_part=0 nbds_max=2 || exit 1
modprobe loop
ublk=
modprobe ublk_drv 2>/dev/null && ublk=1
head -c 256M "$source_raw" > /tmp/bench.raw
qemu-img convert -f raw -O qcow2 /tmp/bench.raw /tmp/bench.qcow2
# An image is attached once: each vdmount transport reads a copy of its own (tmpfs, like the original).
attach() { # transport image [env]: prints the disk's node
    local out
    out=$(env ${3:-} "$vd" attach --transport "$1" --no-partscan "$2") || { echo "vdmount attach $1: $out" >&2; exit 1; }
    echo "$out" | awk 'NR == 1 { print $1 }'
}

# VMTEST_BENCH_DEVICES: which columns (default all); "ublk ublk-ucopy" compares the copy modes alone.
wanted=" ${VMTEST_BENCH_DEVICES:-abuse ublk ublk-ucopy qemu-nbd loop(raw)} "
want() { case "$wanted" in *" $1 "*) return 0;; *) return 1;; esac; }
names=() devs=()
if want abuse; then names+=("abuse"); devs+=("$(attach abuse /tmp/bench.qcow2)"); fi
if [ -n "$ublk" ] && want ublk; then
    cp /tmp/bench.qcow2 /tmp/bench-ublk.qcow2
    names+=("ublk"); devs+=("$(attach ublk /tmp/bench-ublk.qcow2 VDMOUNT_UBLK_COPY=kernel)")
fi
if [ -n "$ublk" ] && want ublk-ucopy; then
    cp /tmp/bench.qcow2 /tmp/bench-ucopy.qcow2
    names+=("ublk-ucopy"); devs+=("$(attach ublk /tmp/bench-ucopy.qcow2 VDMOUNT_UBLK_COPY=user)")
fi
if want qemu-nbd; then
    qemu-nbd -c /dev/nbd0 -r -f qcow2 /tmp/bench.qcow2
    names+=("qemu-nbd"); devs+=(/dev/nbd0)
fi
if want "loop(raw)"; then names+=("loop(raw)"); devs+=("$(losetup -r -f --show /tmp/bench.raw)"); fi
"$vd" list | sed 's/^/# /'
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
for dev in "${devs[@]}"; do
    runtime=5 fio_run "$dev" randread 4k 16 >/dev/null
done

n=${#devs[@]}
[ "$n" -gt 0 ] && printf '%-18s' test
[ "$n" -gt 0 ] && for name in "${names[@]}"; do printf '%15s' "$name"; done
[ "$n" -gt 0 ] && printf '   %s\n' "ratios"
[ "$n" -gt 0 ] && for t in "4k randread QD1:randread:4k:1" "4k randread QD16:randread:4k:16" "1M seqread QD4:read:1M:4"; do
    IFS=: read -r label rw bs depth <<<"$t"
    declare -a sum=()
    for ((i = 0; i < n; i++)); do sum[i]=0; done
    for ((r = 0; r < rounds; r++)); do
        for ((k = 0; k < n; k++)); do
            i=$(( r % 2 == 0 ? k : n - 1 - k ))
            res=$(fio_run "${devs[i]}" "$rw" "$bs" "$depth")
            if [ "$bs" = 4k ]; then v=${res%% *}; else v=${res##* }; fi
            sum[i]=$(awk -v a="${sum[i]}" -v b="${v:-0}" 'BEGIN { print a + b }')
        done
    done
    unit=$([ "$bs" = 4k ] && echo IOPS || echo MiB/s)
    printf '%-18s' "$label"
    declare -A mean=()
    for ((i = 0; i < n; i++)); do
        mean[${names[i]}]=$(awk -v s="${sum[i]}" -v r="$rounds" 'BEGIN { printf "%.1f", s / r }')
        printf '%9s %-5s' "$(awk -v m="${mean[${names[i]}]}" -v u="$unit" 'BEGIN { printf (u == "IOPS" ? "%d" : "%.1f"), m }')" "$unit"
    done
    ratio() { awk -v a="${mean[$1]:-0}" -v b="${mean[$2]:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }
    printf '   ublk/abuse %s, abuse/qemu-nbd %s, ublk/qemu-nbd %s, ucopy/ublk %s\n' "$(ratio ublk abuse)" \
        "$(ratio abuse qemu-nbd)" "$(ratio ublk qemu-nbd)" "$(ratio ublk-ucopy ublk)"
    unset mean
done
for ((i = 0; i < n; i++)); do
    case "${names[i]}" in
    abuse|ublk|ublk-ucopy) "$vd" detach "${devs[i]}" >/dev/null;;
    qemu-nbd) qemu-nbd -d /dev/nbd0 >/dev/null;;
    *) losetup -d "${devs[i]}";;
    esac
done

[ "${VMTEST_BENCH_WRITES:-1}" = 0 ] && exit 0

fio_write() { # device rw bs depth: prints "iops MiB/s" (terse: field 48 write KiB/s, 49 write IOPS)
    local out
    out=$(fio --minimal --name=w --filename="$1" --rw="$2" --bs="$3" --iodepth="$4" --ioengine=libaio \
        --direct=1 --runtime="${runtime}" --time_based --end_fsync=1 --numjobs=1 --group_reporting 2>&1)
    echo "$out" | grep -v ';' | sed "s|^|# fio on $1: |" >&2
    echo "$out" | awk -F';' 'NF > 49 { printf "%d %.1f\n", $49, $48 / 1024 }'
}

qemu-img create -q -f qcow2 /tmp/write.qcow2 256M
wnames=(abuse nbd qemu-nbd)
wdevs=()
for name in "${wnames[@]}"; do
    cp /tmp/write.qcow2 "/tmp/write-$name.qcow2"
    case $name in
    qemu-nbd) qemu-nbd -c /dev/nbd1 -f qcow2 "/tmp/write-$name.qcow2" && wdevs+=(/dev/nbd1) ;;
    *) out=$("$vd" attach --transport "$name" --rw --no-partscan "/tmp/write-$name.qcow2") ||
        { echo "vdmount attach --rw $name: $out" >&2; exit 1; }
        wdevs+=("$(echo "$out" | awk 'NR == 1 { print $1 }')") ;;
    esac
done
for dev in "${wdevs[@]}"; do
    runtime=5 fio_write "$dev" randwrite 4k 16 >/dev/null
done
echo
printf '%-18s' "write test"
for name in "${wnames[@]}"; do printf '%15s' "$name"; done
printf '   %s\n' "ratios"
n=${#wdevs[@]}
for t in "4k randwrite QD16:randwrite:4k:16" "1M seqwrite QD4:write:1M:4"; do
    IFS=: read -r label rw bs depth <<<"$t"
    declare -a sum=()
    for ((i = 0; i < n; i++)); do sum[i]=0; done
    for ((r = 0; r < rounds; r++)); do
        for ((k = 0; k < n; k++)); do
            i=$(( r % 2 == 0 ? k : n - 1 - k ))
            res=$(fio_write "${wdevs[i]}" "$rw" "$bs" "$depth")
            if [ "$bs" = 4k ]; then v=${res%% *}; else v=${res##* }; fi
            sum[i]=$(awk -v a="${sum[i]}" -v b="${v:-0}" 'BEGIN { print a + b }')
        done
    done
    unit=$([ "$bs" = 4k ] && echo IOPS || echo MiB/s)
    printf '%-18s' "$label"
    declare -A mean=()
    for ((i = 0; i < n; i++)); do
        mean[${wnames[i]}]=$(awk -v s="${sum[i]}" -v r="$rounds" 'BEGIN { printf "%.1f", s / r }')
        printf '%9s %-5s' "$(awk -v m="${mean[${wnames[i]}]}" -v u="$unit" 'BEGIN { printf (u == "IOPS" ? "%d" : "%.1f"), m }')" "$unit"
    done
    ratio() { awk -v a="${mean[$1]:-0}" -v b="${mean[$2]:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }
    printf '   abuse/qemu-nbd %s, nbd/qemu-nbd %s\n' "$(ratio abuse qemu-nbd)" "$(ratio nbd qemu-nbd)"
    unset mean
done
for ((i = 0; i < n; i++)); do
    case "${wnames[i]}" in
    qemu-nbd) qemu-nbd -d /dev/nbd1 >/dev/null ;;
    *) "$vd" detach "${wdevs[i]}" >/dev/null ;;
    esac
done
status=0
for name in "${wnames[@]}"; do
    if check=$(qemu-img check -q "/tmp/write-$name.qcow2" 2>&1); then
        echo "# qemu-img check /tmp/write-$name.qcow2: clean"
    else
        echo "# qemu-img check /tmp/write-$name.qcow2 FAILED: $check"
        status=1
    fi
done
exit $status
