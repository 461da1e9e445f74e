#!/bin/sh
# `vdmount cat -o` against `qemu-img convert -O raw` on the same images, in the same run, both
# from a warm page cache, best of $BENCH_RUNS. Target: ratio (vdmount / qemu-img) <= 1.0.
# The vdmount time includes starting the JVM. CPU seconds (user + system, all threads) are shown
# too: on a shared machine they are disturbed far less than wall time.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${BENCH_RUNS:-3}
cache=$("$top/testdata/bench/images.sh")
out=$cache/out.raw
vdmount=$top/bin/vdmount

best() { # command...: prints "wall cpu" in seconds, of the run with the best wall time of $runs
    b=
    for _ in $(seq "$runs"); do
        rm -f "$out"
        /usr/bin/time -f "%e %U %S" -o "$out.time" "$@" >/dev/null
        read -r wall user sys < "$out.time"
        if [ -z "$b" ] || [ "$(echo "$wall < ${b%% *}" | bc)" = 1 ]; then
            b="$wall $(echo "$user + $sys" | bc)"
        fi
    done
    rm -f "$out.time"
    echo "$b"
}

printf '%-16s %6s %10s %10s %7s %10s %10s %7s\n' image size "vdmount s" "qemu-img s" ratio \
    "vd cpu s" "qemu cpu s" "cpu"
for image in ${BENCH_IMAGES:-plain.qcow2 deflate.qcow2 sparse.vmdk stream.vmdk dynamic.vhd dynamic.vhdx dynamic.vdi expanding.hds}; do
    [ -f "$cache/$image" ] || continue
    if ! "$vdmount" info "$cache/$image" >/dev/null 2>&1; then
        printf '%-16s %s\n' "$image" "(vdmount cannot read this format yet)"
        continue
    fi
    v=$(best "$vdmount" cat "$cache/$image" -o "$out")
    cmp -s "$out" "$cache/data.raw" || { echo "$image: vdmount output differs from the source" >&2; exit 1; }
    q=$(best qemu-img convert -O raw "$cache/$image" "$out")
    printf '%-16s %6s %10.2f %10.2f %7.2f %10.2f %10.2f %7.2f\n' "$image" "$(du -h "$cache/$image" | cut -f1)" \
        "${v%% *}" "${q%% *}" "$(echo "scale=4; ${v%% *} / ${q%% *}" | bc)" \
        "${v##* }" "${q##* }" "$(echo "scale=4; ${v##* } / ${q##* }" | bc)"
done
rm -f "$out"
