#!/bin/sh
# make vmtest-ublk: builds the test disks on the host, then boots the guest (kernel $KVER, which
# must have ublk_drv: Debian's 6.12 has it, 6.1 does not) once and runs ublk-tests.sh in it: vdmount
# over the kernel's ublk driver. Single-threaded TCG by default, as run-guest-tests.sh explains.
# Arguments, if any, choose the test groups (see ublk-tests.sh).
set -eu
top=$(cd "$(dirname "$0")/../../../.." && pwd)
disks=$("$top/testdata/make-disk-images.sh")
cd "$top"
VMTEST_TCG=${VMTEST_TCG:-single} VMTEST_MEM=${VMTEST_MEM:-3072} VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-3000} \
    exec kmod/vmtest/run-in-guest.sh mounter/src/test/vm/ublk-tests.sh "$disks" "$@"
