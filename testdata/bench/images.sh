#!/bin/sh
# Builds (once, cached) the benchmark images: a data-full 512 MiB disk made of real file contents
# (compressible like a real system disk), as raw, qcow2, deflate qcow2, VMDK monolithicSparse and
# streamOptimized, and dynamic VHD, VHDX, VDI and Parallels images. Prints the cache directory.
set -eu
cache=${BENCH_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/cache/bench}
size_mib=${BENCH_SIZE_MIB:-512}
mkdir -p "$cache"
raw=$cache/data.raw
if [ ! -f "$raw" ] || [ "$(stat -c %s "$raw")" -ne $((size_mib * 1048576)) ]; then
    # Real file contents: libraries and text, as a system disk holds; sorted for repeatability.
    find /usr/lib /usr/share -xdev -type f -size +8k 2>/dev/null | LC_ALL=C sort | \
        xargs cat 2>/dev/null | head -c $((size_mib * 1048576)) > "$raw.tmp" || true
    truncate -s $((size_mib * 1048576)) "$raw.tmp"
    mv "$raw.tmp" "$raw"
fi
make_image() { # name, qemu-img convert arguments...
    name=$1; shift
    [ -f "$cache/$name" ] && return
    qemu-img convert -f raw "$@" "$raw" "$cache/$name.tmp"
    mv "$cache/$name.tmp" "$cache/$name"
}
make_image plain.qcow2 -O qcow2
make_image deflate.qcow2 -O qcow2 -c
make_image sparse.vmdk -O vmdk -o subformat=monolithicSparse
make_image stream.vmdk -O vmdk -o subformat=streamOptimized
make_image dynamic.vhd -O vpc -o subformat=dynamic,force_size=on
make_image dynamic.vhdx -O vhdx -o subformat=dynamic
make_image dynamic.vdi -O vdi
make_image expanding.hds -O parallels
echo "$cache"
