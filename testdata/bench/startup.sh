#!/bin/bash
# Start-up: `vdmount --version`, `vdmount info` of the sample and `vdmount list` on each Java the
# launcher finds, each against a bare `java -version` of the same Java (median of 20 runs each,
# taking turns). Target: info of the sample <= 0.12 s on the newest Java.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/testdata/bench/lib.sh"
BENCH_RUNS=${BENCH_STARTUP_RUNS:-20}
sample=$top/testdata/sample/sample.qcow2
vd=$(printf %q "$top/bin/vdmount")
while IFS=$'\t' read -r version java build; do
    j=$(printf %q "$java")
    cache=$(ls "$top/mounter/target/vdmount-$build".* 2>/dev/null | sed 's/.*\.//')
    for cmd in "--version" "info $(printf %q "$sample")" "list"; do
        compare start-up "vdmount ${cmd%% *}" "${version%%.*}${cache:+/$cache}" : "JAVA=$j $vd $cmd" \
            "java -version" "$j -version"
    done
done < <(javas)
