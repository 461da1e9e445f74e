#!/bin/sh
# Builds (once, cached) the benchmark images of one size: a data-full disk made of real file
# contents (compressible like a real system disk: libraries and text, sorted for repeatability,
# repeated if the system has less than the size), as raw and, with qemu-img, as every image
# format of the bench. Prints the directory.
# Usage: testdata/bench/images.sh [SIZE_MIB] [IMAGE...]   (default 768, every image below)
#   BENCH_CACHE: where the images are kept (default testdata/cache/bench)
set -eu
size_mib=${1:-768}
[ $# -gt 0 ] && shift
cache=${BENCH_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/cache/bench}/$size_mib
mkdir -p "$cache"
raw=$cache/data.raw
if [ ! -f "$raw" ] || [ "$(stat -c %s "$raw")" -ne $((size_mib * 1048576)) ]; then
    echo "building a ${size_mib} MiB data-full image in $cache ..." >&2
    find /usr/lib /usr/share -xdev -type f -size +8k 2>/dev/null | LC_ALL=C sort > "$cache/files"
    for _ in 1 2 3 4 5 6 7 8; do xargs cat < "$cache/files" 2>/dev/null || true; done |
        head -c $((size_mib * 1048576)) > "$raw.tmp"
    truncate -s $((size_mib * 1048576)) "$raw.tmp" # a system with hardly any files: zeros at the end
    rm -f "$cache/files"
    mv "$raw.tmp" "$raw"
fi

# name: qemu-img convert options that make it from the raw image
options_of() {
    case $1 in
        plain.qcow2) echo "-O qcow2" ;;
        deflate.qcow2) echo "-O qcow2 -c" ;;
        zstd.qcow2) echo "-O qcow2 -c -o compression_type=zstd" ;;
        sparse.vmdk) echo "-O vmdk -o subformat=monolithicSparse" ;;
        stream.vmdk) echo "-O vmdk -o subformat=streamOptimized" ;;
        # force_size: the VHD keeps the raw image's size; sized by CHS geometry it is larger, and
        # copy.sh's check of the output against data.raw fails.
        dynamic.vhd) echo "-O vpc -o subformat=dynamic,force_size=on" ;;
        fixed.vhd) echo "-O vpc -o subformat=fixed,force_size=on" ;;
        dynamic.vhdx) echo "-O vhdx" ;;
        # qemu-img writes a fixed VHDX as a sparse file (its payload after a hole): the copy must
        # take the kernel path for the stored stretches all the same.
        fixed.vhdx) echo "-O vhdx -o subformat=fixed" ;;
        dynamic.vdi) echo "-O vdi" ;;
        static.vdi) echo "-O vdi -o static=on" ;;
        expanding.hds) echo "-O parallels" ;;
        *) return 1 ;;
    esac
}
for name in ${*:-plain.qcow2 deflate.qcow2 zstd.qcow2 sparse.vmdk stream.vmdk dynamic.vhd fixed.vhd dynamic.vhdx fixed.vhdx \
    dynamic.vdi static.vdi expanding.hds}; do
    [ "$name" = data.raw ] && continue
    if [ -f "$cache/$name" ]; then
        # Kept unless its virtual size is not the raw image's (a VHD cached before force_size).
        [ "$(qemu-img info --output=json "$cache/$name" 2>/dev/null | sed -n 's/^ *"virtual-size": \([0-9]*\),*$/\1/p')" \
            = $((size_mib * 1048576)) ] && continue
        rm -f "$cache/$name"
    fi
    # shellcheck disable=SC2046 # the options are words
    if ! qemu-img convert -f raw $(options_of "$name") "$raw" "$cache/$name.tmp" 2>"$cache/$name.err"; then
        echo "images.sh: qemu-img cannot make $name: $(tail -n 1 "$cache/$name.err")" >&2
        rm -f "$cache/$name.tmp"
        continue
    fi
    rm -f "$cache/$name.err"
    mv "$cache/$name.tmp" "$cache/$name"
done
echo "$cache"
