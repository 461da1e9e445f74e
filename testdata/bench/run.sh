#!/bin/bash
# make bench: every figure of vdmount against the tool it replaces, on this host, as one table:
# start-up, copy, hashing and memory on every Java the launcher finds (see lib.sh for how runs
# alternate and what the ratio and its spread are), then NBD (reads, qcow2 writes, TLS) and FUSE
# throughput.
#   BENCH_RUNS (5): alternating runs per figure; BENCH_SIZES ("768 4096"): copy image sizes, MiB.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
echo "vdmount bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start; Javas:" \
    "$(javas | cut -f1 | tr '\n' ' ')"
echo "Each figure: median of $BENCH_RUNS runs (start-up: 20), vdmount and the other tool taking turns;" \
    "ratio = vdmount / other (median of the turns' ratios), spread = lowest-highest of them."
header
"$here/startup.sh"
sizes=${BENCH_SIZES:-768 4096}
BENCH_SIZES=${sizes%% *} "$here/copy.sh" # the small images first: the large ones take longest
"$here/verify.sh"
"$here/ewf.sh"
"$here/memory.sh"
[ "${sizes#* }" = "$sizes" ] || BENCH_SIZES=${sizes#* } "$here/copy.sh"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$here/nbd.sh"
echo
echo "== NBD writes into qcow2: vdmount serve --rw vs qemu-nbd (fio nbd engine) =="
"$here/nbd-write.sh"
echo
echo "== NBD over TLS: vdmount serve --tls-creds vs qemu-nbd --tls-creds (fio nbd engine, nbds://) =="
"$here/nbd-tls.sh"
echo
echo "== FUSE: vdmount's file vs qemu-storage-daemon's FUSE export (fio, O_DIRECT) =="
"$here/fuse.sh" "$("$here/images.sh" 768 plain.qcow2)/plain.qcow2"
