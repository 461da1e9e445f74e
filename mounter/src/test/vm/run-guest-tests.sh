#!/bin/sh
# make vmtest (Java part): builds the test disks on the host, then boots the guest once and runs
# attach-tests.sh in it against the abuse module built in kmod/.
set -eu
top=$(cd "$(dirname "$0")/../../../.." && pwd)
disks=$("$top/testdata/make-disk-images.sh")
cd "$top"
VMTEST_MEM=${VMTEST_MEM:-3072} VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-3000} \
    exec kmod/vmtest/run-in-guest.sh mounter/src/test/vm/attach-tests.sh "$disks"
