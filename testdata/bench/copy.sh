#!/bin/bash
# Copy: `vdmount cat IMAGE -o FILE` against `qemu-img convert -O raw IMAGE FILE`, on every image
# of the bench that vdmount reads, at each size of $BENCH_SIZES (MiB; default "768 4096", data-full
# images), with the output on tmpfs (the reader's own work) and on disk (what a user sees), on each
# Java the launcher finds. Images in the page cache; each output removed before each run.
# Target: ratio (vdmount / qemu-img) <= 1.0. vdmount's time includes its JVM's start.
#   BENCH_IMAGES: only these images (names as below, e.g. "dynamic.vhdx dynamic.vdi").
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/testdata/bench/lib.sh"
vd=$(printf %q "$top/bin/vdmount")
shm=/dev/shm/vdmount-bench
mkdir -p "$shm"
trap 'rm -rf "$bench_tmp" "$shm"' EXIT
unreadable=" "
for size in ${BENCH_SIZES:-768 4096}; do
    for name in ${BENCH_IMAGES:-data.raw plain.qcow2 deflate.qcow2 zstd.qcow2 sparse.vmdk stream.vmdk dynamic.vhd \
        fixed.vhd dynamic.vhdx fixed.vhdx dynamic.vdi static.vdi expanding.hds}; do
        case $unreadable in *" $name "*) continue ;; esac # at a smaller size already
        cache=$("$top/testdata/bench/images.sh" "$size" "$name")
        image=$cache/$name
        [ -f "$image" ] || continue
        format=$("$top/bin/vdmount" info "$image" 2>/dev/null | sed -n 's/^format: *//p')
        if [ -z "$format" ] || { [ "$format" = raw ] && [ "$name" != data.raw ]; }; then
            row copy "$name (vdmount cannot read it yet)"
            unreadable="$unreadable$name "
            continue
        fi
        cat "$image" > /dev/null # into the page cache
        checked=
        while IFS=$'\t' read -r version java build; do
            for place in tmpfs disk; do
                if [ $place = tmpfs ]; then out=$shm/out.raw; else out=$cache/out.raw; fi
                o=$(printf %q "$out") i=$(printf %q "$image")
                if [ -z "$checked" ]; then
                    JAVA=$java "$top/bin/vdmount" cat "$image" -o "$out"
                    cmp -s "$out" "$cache/data.raw" || { echo "copy.sh: $name: vdmount's output differs from the source" >&2; exit 1; }
                    checked=yes
                fi
                compare copy "$name ${size}M -> $place" "${version%%.*}" "rm -f $o" \
                    "JAVA=$(printf %q "$java") $vd cat $i -o $o" "qemu-img" "qemu-img convert -O raw $i $o"
            done
        done < <(javas)
    done
done
