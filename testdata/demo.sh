#!/bin/sh
# make demo: the main job on the bundled sample image. Describes it, hashes it, and (as root, with
# whichever transport --transport auto finds: abuse, ublk, nbd, or FUSE + loop devices) attaches
# it, mounts its ext4 partition read-only, shows a file from inside, and takes everything down again.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
vd=$top/bin/vdmount
sample=$top/testdata/sample/sample.qcow2
echo "\$ vdmount info $sample"
"$vd" info "$sample"
echo
echo "\$ vdmount verify --hash md5 --hash sha256 $sample"
"$vd" verify --hash md5 --hash sha256 "$sample"
echo
if [ "$(id -u)" != 0 ]; then
    echo "(run 'sudo make demo' to also attach the sample and mount its partition)"
    exit 0
fi
mnt=$(mktemp -d)
trap 'rmdir "$mnt" 2>/dev/null || true' EXIT
echo "\$ vdmount attach $sample"
"$vd" attach "$sample"
"$vd" detach "$sample"
echo
echo "\$ vdmount mount $sample 1 $mnt && cat $mnt/README.txt"
"$vd" mount "$sample" 1 "$mnt"
cat "$mnt/README.txt"
(cd "$mnt" && sha256sum -c "$top/testdata/sample/files.sha256")
echo
echo "\$ vdmount umount $mnt"
"$vd" umount "$mnt"
