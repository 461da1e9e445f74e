#!/bin/sh
# make vmbench (Java part): boots the guest once and runs bench.sh in it.
set -eu
top=$(cd "$(dirname "$0")/../../../.." && pwd)
cache=$("$top/testdata/bench/images.sh" 768 data.raw) # only the raw data: the guest converts it
cd "$top"
VMTEST_MEM=${VMTEST_MEM:-3072} VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-2400} exec kmod/vmtest/run-in-guest.sh mounter/src/test/vm/bench.sh "$cache/data.raw"
