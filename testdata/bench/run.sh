#!/bin/sh
# make bench: every benchmark that runs on this host, one table each, on the same cached images.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=$("$here/images.sh")
echo "== vdmount cat -o vs qemu-img convert -O raw (seconds, best of ${BENCH_RUNS:-3}) =="
"$here/cat.sh"
echo
echo "== NBD: vdmount serve vs qemu-nbd (fio nbd engine) =="
"$here/nbd.sh"
echo
echo "== NBD over TLS: vdmount serve --tls-creds vs qemu-nbd --tls-creds (fio nbd engine, nbds://) =="
"$here/nbd-tls.sh"
echo
echo "== FUSE: vdmount's file vs qemu-storage-daemon's FUSE export (fio, O_DIRECT) =="
"$here/fuse.sh" "$cache/plain.qcow2"
