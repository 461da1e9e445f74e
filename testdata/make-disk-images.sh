#!/bin/bash
# Builds (once, cached) the disks the attach tests use: one 64 MiB GPT disk, partition 1 ext4 and
# partition 2 FAT, both holding files of known content, in every container the tests attach:
# raw, qcow2, deflate qcow2, a 3-deep qcow2 backing chain, VMDK monolithicSparse,
# streamOptimized, twoGbMaxExtentSparse and a snapshot delta, dynamic VHDX and VDI, and E01
# evidence of it (ewfacquire, in 10 MiB segments: evidence.E01, .E02...).
# Prints the cache directory, which
# also holds files.sha256 (the checksums of the files inside the file systems).
# Needs: sfdisk, mke2fs, mkfs.vfat, mcopy, qemu-img, qemu-io, ewfacquire.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${DISK_CACHE:-$here/cache/disks}
stamp=$cache/.complete-v4
if [ -f "$stamp" ]; then
    echo "$cache"
    exit 0
fi
rm -rf "$cache"
mkdir -p "$cache/files"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Files with content a reader cannot fake: pseudo-random bytes from a fixed seed, several sizes.
python3 - "$cache/files" <<'PY'
import random, sys, os
out = sys.argv[1]
rng = random.Random(20261123)
for name, size in [("small.bin", 1000), ("medium.bin", 300_000), ("large.bin", 9_000_000), ("notes.txt", 0)]:
    with open(os.path.join(out, name), "wb") as f:
        if name.endswith(".txt"):
            f.write(b"".join(b"line %d of the vdmount test disk\n" % i for i in range(20000)))
        else:
            f.write(rng.randbytes(size))
PY
mkdir -p "$cache/files/sub dir"
cp "$cache/files/small.bin" "$cache/files/sub dir/copy of small.bin"
(cd "$cache/files" && find . -type f | LC_ALL=C sort | xargs -d '\n' sha256sum) > "$cache/files.sha256"

raw=$cache/disk.raw
truncate -s 64M "$raw"
sfdisk --quiet "$raw" <<'TABLE'
label: gpt
label-id: 5A4D4F56-0000-4000-8000-00000000D15C
start=2048, size=81920, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="vdmount-ext4"
start=83968, size=20480, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="vdmount-fat"
TABLE
truncate -s 40M "$work/p1"
mke2fs -q -t ext4 -L TEST-EXT4 -E root_owner=0:0 -d "$cache/files" "$work/p1"
dd if="$work/p1" of="$raw" bs=512 seek=2048 conv=notrunc status=none
truncate -s 10M "$work/p2"
mkfs.vfat -n TEST-FAT "$work/p2" >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i "$work/p2" "$cache/files/small.bin" "$cache/files/medium.bin" \
    "$cache/files/large.bin" "$cache/files/notes.txt" ::/
dd if="$work/p2" of="$raw" bs=512 seek=83968 conv=notrunc status=none

cd "$cache"
qemu-img convert -f raw -O qcow2 disk.raw plain.qcow2
qemu-img convert -f raw -O qcow2 -c disk.raw deflate.qcow2
# A chain: the base holds the disk; the middle and the top each add a stretch of data after the
# partitions (at 60 MiB), so reads fall through two layers.
qemu-img convert -f raw -O qcow2 disk.raw chain-base.qcow2
qemu-img create -q -f qcow2 -b chain-base.qcow2 -F qcow2 chain-mid.qcow2
qemu-io -f qcow2 -c 'write -P 0x5a 60M 1M' chain-mid.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b chain-mid.qcow2 -F qcow2 chain-top.qcow2
qemu-io -f qcow2 -c 'write -P 0xa5 61M 512K' chain-top.qcow2 >/dev/null
qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse disk.raw sparse.vmdk
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized disk.raw stream.vmdk
qemu-img convert -f raw -O vmdk -o subformat=twoGbMaxExtentSparse disk.raw split.vmdk
qemu-img create -q -f vmdk -b sparse.vmdk -F vmdk delta.vmdk
qemu-io -f vmdk -c 'write -P 0x77 62M 64K' delta.vmdk >/dev/null
qemu-img convert -f raw -O vhdx -o subformat=dynamic disk.raw dynamic.vhdx
qemu-img convert -f raw -O vdi disk.raw dynamic.vdi
# Evidence as an examiner receives it: EnCase 6 format, compressed, several segments, MD5 and SHA-1.
ewfacquire -u -q -t evidence -f encase6 -c fast -S 10485760 -d sha1 -C "case 14" -E "evidence 1" \
    -e "vdmount tests" -D "the attach tests' disk" disk.raw >/dev/null
# qemu's reading of the images whose bytes differ from disk.raw, for the tests to compare with.
for name in chain-top.qcow2 delta.vmdk; do
    qemu-img convert -O raw "$name" "$name.qemu.raw"
done
touch "$stamp"
echo "$cache"
