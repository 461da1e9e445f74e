#!/bin/bash
# Memory on huge sparse images: a 4 TiB qcow2 whose L1 table is full (64 KiB of data in every
# 512 MiB, so all 8192 L2 tables exist) and a 2 TiB monolithicSparse VMDK (32 million grains,
# 64 Ki grain tables), copied whole by `vdmount cat -o` (against qemu-img convert), served by
# `vdmount serve` to nbdcopy, and read through the attach server's FUSE file (as root: fio reads
# the 64 KiB of data in each stretch). The heap is bounded (-Xmx256m, bin/vdmount); the table shows each one's peak RSS.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/testdata/bench/lib.sh"
vd=$top/bin/vdmount
dir=${BENCH_CACHE:-$top/testdata/cache/bench}/huge
mkdir -p "$dir"
shm=/dev/shm/vdmount-bench-huge
mkdir -p "$shm"
trap 'rm -rf "$bench_tmp" "$shm"; "$vd" detach --all >/dev/null 2>&1 || true' EXIT
l1=$dir/full-l1-4T.qcow2 gt=$dir/grains-2T.vmdk
if [ ! -f "$l1" ]; then
    qemu-img create -q -f qcow2 "$l1.tmp" 4T
    for i in $(seq 0 8191); do echo "write -P $((i % 250 + 1)) $((i * 512))M 64k"; done | qemu-io "$l1.tmp" >/dev/null
    mv "$l1.tmp" "$l1"
fi
if [ ! -f "$gt" ]; then
    qemu-img create -q -f vmdk -o subformat=monolithicSparse "$gt.tmp" 2T
    for i in $(seq 0 2047); do echo "write -P $((i % 250 + 1)) $((i * 1024))M 64k"; done | qemu-io "$gt.tmp" >/dev/null
    mv "$gt.tmp" "$gt"
fi
port=${PORT_VD:-11811}
while IFS=$'\t' read -r version java build; do
    j="JAVA=$(printf %q "$java")"
    for image in "$l1" "$gt"; do
        # where the data is: 64 KiB in every STRIDE, COUNT times
        case $image in "$l1") stride=512m count=8192 ;; *) stride=1024m count=2048 ;; esac
        name=$(basename "$image") i=$(printf %q "$image") o=$(printf %q "$shm/out.raw")
        cat "$image" > /dev/null
        BENCH_RUNS=${BENCH_HUGE_RUNS:-3} compare memory "cat -o $name" "${version%%.*}" "rm -f $o" \
            "$j $(printf %q "$vd") cat $i -o $o" qemu-img "qemu-img convert -O raw $i $o"

        JAVA=$java "$vd" serve --port "$port" "$image" >/dev/null 2>"$bench_tmp/serve.err" &
        server=$!
        for _ in $(seq 100); do nbdinfo "nbd://127.0.0.1:$port" >/dev/null 2>&1 && break; sleep 0.1; done
        timed nbdcopy "nbd://127.0.0.1:$port" null: || true
        row memory "serve, nbdcopy $name" "${version%%.*}" "$wall s" - - - - \
            "$(( $(awk '/VmHWM/ { print $2 }' "/proc/$server/status") / 1024 ))M"
        kill "$server"; wait "$server" 2>/dev/null || true

        if [ "$(id -u)" = 0 ] && JAVA=$java "$vd" attach --transport fuse --no-partscan "$image" >/dev/null 2>&1; then
            record=$("$vd" list --json | tail -n 2 | head -n 1)
            pid=$(echo "$record" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
            disk=$(echo "$record" | sed -n 's/.*"mountPoint": "\([^"]*\)".*/\1/p')/disk
            timed fio --name=strided --filename="$disk" --readonly --rw=read --bs=64k --zonemode=strided \
                --zonesize=64k --zonerange="$stride" --io_size=$((count * 64))k || true
            row memory "attach (fuse), fio $name" "${version%%.*}" "$wall s" - - - - \
                "$(( $(awk '/VmHWM/ { print $2 }' "/proc/$pid/status") / 1024 ))M"
            "$vd" detach "$image" >/dev/null
        fi
    done
done < <(javas)
