#!/bin/bash
# make vmbench: run bench.sh in a guest.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
missing=$(vmtest_missing "$(vmtest_kver)")
if [ -n "$missing" ]; then
	echo "*** vmbench: SKIPPED, missing packages:$missing"
	exit 77
fi
VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-900} exec "$here/run-in-guest.sh" "$here/bench.sh"
