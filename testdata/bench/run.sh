#!/bin/sh
# make bench: every benchmark that runs on this host, one table each.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
echo "== vdmount cat -o vs qemu-img convert -O raw =="
"$here/cat.sh"
for extra in "$here"/nbd.sh "$here"/fuse.sh; do
    if [ -x "$extra" ]; then
        echo
        "$extra"
    fi
done
