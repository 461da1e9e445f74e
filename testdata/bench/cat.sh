#!/bin/sh
# `vdmount cat -o` against `qemu-img convert -O raw` on the same images, in the same run, both
# from a warm page cache, best of $BENCH_RUNS. Target: ratio (vdmount / qemu-img) <= 1.0.
# The vdmount time includes starting the JVM.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${BENCH_RUNS:-3}
cache=$("$top/testdata/bench/images.sh")
out=$cache/out.raw
vdmount=$top/bin/vdmount

best() { # command...: prints the best wall time in seconds of $runs runs
    b=
    for _ in $(seq "$runs"); do
        rm -f "$out"
        s=$(date +%s.%N)
        "$@" >/dev/null
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}

printf '%-16s %10s %12s %12s %8s\n' image size "vdmount s" "qemu-img s" ratio
for image in ${BENCH_IMAGES:-plain.qcow2 deflate.qcow2 sparse.vmdk stream.vmdk}; do
    [ -f "$cache/$image" ] || continue
    if ! "$vdmount" info "$cache/$image" >/dev/null 2>&1; then
        printf '%-16s %s\n' "$image" "(vdmount cannot read this format yet)"
        continue
    fi
    v=$(best "$vdmount" cat "$cache/$image" -o "$out")
    cmp -s "$out" "$cache/data.raw" || { echo "$image: vdmount output differs from the source" >&2; exit 1; }
    q=$(best qemu-img convert -O raw "$cache/$image" "$out")
    printf '%-16s %10s %12.2f %12.2f %8.2f\n' "$image" "$(du -h "$cache/$image" | cut -f1)" "$v" "$q" \
        "$(echo "scale=4; $v / $q" | bc)"
done
rm -f "$out"
