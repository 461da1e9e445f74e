#!/bin/sh
# make vmtest-nbd: builds the test disks on the host, then boots the guest (kernel $KVER, else the
# newest) once and runs nbd-tests.sh in it: vdmount over the kernel's nbd driver (Debian's kernels
# have it as a module). Single-threaded TCG by default, as run-guest-tests.sh explains.
# Arguments, if any, choose the test groups (see nbd-tests.sh).
set -eu
top=$(cd "$(dirname "$0")/../../../.." && pwd)
disks=$("$top/testdata/make-disk-images.sh")
cd "$top"
VMTEST_TCG=${VMTEST_TCG:-single} VMTEST_MEM=${VMTEST_MEM:-3072} VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-1800} \
    exec kmod/vmtest/run-in-guest.sh mounter/src/test/vm/nbd-tests.sh "$disks" "$@"
