#!/bin/bash
# make vmtest: run tests.sh in a guest booting kernel $KVER (else the newest); fail unless it
# finished with no failure.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
kver=$(vmtest_kver)
missing=$(vmtest_missing "$kver")
if [ -n "$missing" ]; then
	echo "**************************************************************"
	echo "*** vmtest: kernel tests SKIPPED, missing packages:$missing"
	echo "**************************************************************"
	exit 77
fi
[ -e "$(vmtest_abuse_ko "$kver")" ] || { echo "vmtest: build the module first (make -C kmod modules-all)"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
KVER=$kver VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-1500} "$here/run-in-guest.sh" "$here/tests.sh" | tee "$out"
rc=${PIPESTATUS[0]}
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
if [ -z "$summary" ]; then
	echo "vmtest: FAILED on $kver, the guest did not finish the tests (status $rc)"
	exit 1
fi
if [ "$rc" != 0 ] || ! echo "$summary" | grep -q ' 0 failed$'; then
	echo "vmtest: FAILED on $kver ($summary)"
	exit 1
fi
echo "vmtest: OK on $kver ($summary)"
