#!/bin/sh
# make vmtest-java: builds the test disks on the host, then boots the guest (kernel $KVER, else the
# newest) once and runs attach-tests.sh in it against the abuse module built for that kernel, with
# the groups given as arguments (default all).
# Single-threaded TCG by default: HotSpot's JIT-compiled code crashed now and then under
# multi-threaded TCG, never under single-threaded.
set -eu
top=$(cd "$(dirname "$0")/../../../.." && pwd)
disks=$("$top/testdata/make-disk-images.sh")
cd "$top"
VMTEST_TCG=${VMTEST_TCG:-single} VMTEST_MEM=${VMTEST_MEM:-3072} VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-3000} \
    exec kmod/vmtest/run-in-guest.sh mounter/src/test/vm/attach-tests.sh "$disks" "$@"
