#!/bin/sh
# Builds the bundled sample image, testdata/sample/sample.qcow2: an 8 MiB disk with an MBR, an ext4
# partition and a FAT partition, both holding the files of testdata/sample/files/. The committed
# image was made by this script; run it again only to change the sample (the bytes differ between
# runs because mke2fs and mkfs.vfat stamp times and UUIDs).
# Needs: sfdisk (fdisk), mke2fs (e2fsprogs), mkfs.vfat + mcopy (dosfstools, mtools), qemu-img.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$here/sample
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

raw=$work/sample.raw
truncate -s 8M "$raw"
sfdisk --quiet "$raw" <<'TABLE'
label: dos
label-id: 0x5a4d4f56
start=2048, size=10240, type=83, bootable
start=12288, size=4096, type=c
TABLE

# ext4 partition: 5 MiB at sector 2048, filled from the files directory.
truncate -s 5M "$work/p1"
mke2fs -q -t ext4 -L SAMPLE-EXT4 -U 5a4d4f56-0000-4000-8000-000000000001 -E root_owner=0:0 \
    -d "$out/files" "$work/p1"
dd if="$work/p1" of="$raw" bs=512 seek=2048 conv=notrunc status=none

# FAT partition: 2 MiB at sector 12288.
truncate -s 2M "$work/p2"
mkfs.vfat -n SAMPLE-FAT -i 5a4d4f56 "$work/p2" >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i "$work/p2" "$out/files/README.txt" "$out/files/numbers.txt" ::/
dd if="$work/p2" of="$raw" bs=512 seek=12288 conv=notrunc status=none

qemu-img convert -f raw -O qcow2 -c "$raw" "$out/sample.qcow2"
(cd "$out/files" && sha256sum README.txt numbers.txt > "$out/files.sha256")
ls -l "$out/sample.qcow2"
