#!/bin/bash
# E01 evidence: `vdmount verify` against libewf's `ewfverify` (MD5 and SHA-1 of the media, checked
# against those stored at acquisition, every chunk's checksum checked), and `vdmount cat` against
# `ewfexport -f raw` (the media out), on an E01 that ewfacquire makes (fast compression, SHA-1
# too) from the data-full disk the other benches use. Target: verify no slower than ewfverify.
#
# Usage: testdata/bench/ewf.sh   (BENCH_EWF_MIB: the disk's size, default 768)
# Needs: a built jar (make jar), ewf-tools.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/testdata/bench/lib.sh"
for tool in ewfacquire ewfverify ewfexport; do
    command -v "$tool" >/dev/null || { echo "ewf.sh: $tool is not installed (apt-get install ewf-tools)" >&2; exit 1; }
done
size=${BENCH_EWF_MIB:-768}
cache=$("$top/testdata/bench/images.sh" "$size" data.raw)
if [ ! -f "$cache/evidence.E01" ] || [ "$cache/evidence.E01" -ot "$cache/data.raw" ]; then
    echo "acquiring $cache/data.raw into $cache/evidence.E01 with ewfacquire ..." >&2
    rm -f "$cache"/evidence.E??
    ewfacquire -u -q -c fast -f encase6 -d sha1 -t "$cache/evidence" "$cache/data.raw" >/dev/null
fi
vd=$(printf %q "$top/bin/vdmount") image=$(printf %q "$cache/evidence.E01")
cat "$cache"/evidence.E?? > /dev/null
while IFS=$'\t' read -r version java build; do
    j="JAVA=$(printf %q "$java")"
    compare evidence "verify md5+sha1 ${size}M E01" "${version%%.*}" : "$j $vd verify $image" \
        ewfverify "ewfverify -q -d sha1 $image"
    compare evidence "E01 to raw ${size}M" "${version%%.*}" : "$j $vd cat $image" \
        ewfexport "ewfexport -q -u -f raw -t - $image"
done < <(javas)
