#!/bin/bash
# The Java mounter over the abuse module, inside the qemu guest (run by run-guest-tests.sh through
# kmod/vmtest/run-in-guest.sh). Arguments: the directory of test disks (testdata/make-disk-images.sh),
# then which groups to run (default all: images evidence rw overlay takeover kpartx).
# VMTEST_IMAGES, when set, lists the images the images group attaches (`make test` spreads them
# over the kernels and transports: see the Makefile's GUEST_IMAGES).
# Prints PASS/FAIL lines and "N passed, N failed"; exits non-zero if anything failed.
set -u
top=$(pwd)
vd=$top/bin/vdmount
disks=$1
shift
groups=${*:-images evidence rw overlay takeover kpartx}
img=/tmp/images
. "$top/mounter/src/test/vm/lib.sh"
export VDMOUNT_DEBUG=1

# The kernel cannot load modules on demand from inside the chroot: load what the tests use.
for m in dm_mod ext4 vfat nls_cp437 nls_ascii nls_iso8859_1 nls_utf8 loop; do modprobe "$m" 2>/dev/null; done
# Under emulation a JVM takes tens of seconds to start, and its first requests are slow: give a
# replacement server time to arrive before queued requests fail, and a request time to be served
# (the defaults, 30 s each, suit real machines).
insmod "$ABUSE_KO" no_server_timeout=300 io_timeout=120 || { echo "FAIL insmod"; echo "0 passed, 1 failed"; exit 1; }

# Images on tmpfs (9p is slow); checksums of every image file before, to prove nothing wrote them.
mkdir -p "$img" /mnt/a /mnt/b
# The images on tmpfs, for speed; qemu's conversions (*.qemu.raw) stay on the host's 9p share,
# read once each, so they do not take the guest's memory.
for f in "$disks"/*; do
    case "$f" in
    *.qemu.raw) ;;
    *) cp -a "$f" "$img"/ ;;
    esac
done
# A split raw image of the test disk, as dd/FTK write them (disk-split.001, .002, .003).
(cd "$img" && split -b 24M -a 3 --numeric-suffixes=1 disk.raw disk-split.)
(cd "$img" && sha256sum -- *.qcow2 *.vmdk *.vhdx *.vdi *.raw *.E0? disk-split.0?? > /tmp/images.before)
image_times > /tmp/images.mtimes

server_pid() { cat "/sys/block/$(basename "$1")/abuse/server_pid"; }

check_image() { # name: attach, check the partitions and contents, detach
    local name=$1 out dev
    if ! out=$(attach --transport abuse "$img/$name" 2>&1); then
        ko "attach $name" "$out"
        return
    fi
    dev=$(echo "$out" | first_device)
    echo "$out"
    if [ ! -b "${dev}p1" ] || [ ! -b "${dev}p2" ]; then
        ko "partitions $name" "no ${dev}p1 / ${dev}p2"
    else
        ok "partitions $name"
    fi
    check_contents "$name" "$dev"
    if "$vd" detach "$dev" && [ ! -e "$dev" ]; then ok "detach $name"; else ko "detach $name" "$dev still there"; fi
}

test_images() {
    for name in ${VMTEST_IMAGES:-disk.raw plain.qcow2 deflate.qcow2 chain-top.qcow2 sparse.vmdk stream.vmdk split.vmdk \
        delta.vmdk dynamic.vhdx dynamic.vdi}; do
        check_image "$name"
    done
}

# Evidence: an E01 set (several segments: the end line must list the last) and a split raw image,
# each given by its first file, attach with their partitions and read as the disk they were made
# from. The audit trail has a line for each attach, each end (with the bytes read) and each detach.
test_evidence() {
    local before lines last
    before=0
    [ -f "$VDMOUNT_AUDIT_LOG" ] && before=$(wc -l < "$VDMOUNT_AUDIT_LOG")
    last=$(cd "$img" && ls evidence.E0? | tail -1)
    check_image evidence.E01
    check_image disk-split.001
    lines=$(tail -n +"$((before + 1))" "$VDMOUNT_AUDIT_LOG" 2>/dev/null)
    if [ "$(echo "$lines" | grep -c '"event":"attach"')" = 2 ] &&
        [ "$(echo "$lines" | grep -c '"event":"detach"')" = 2 ] &&
        echo "$lines" | grep '"event":"end"' | grep -q '"path":"'"$img/$last"'"' &&
        [ "$(echo "$lines" | grep '"event":"end"' | grep -c '"bytes-read":[1-9]')" = 2 ]; then
        ok "evidence audit trail"
    else
        ko "evidence audit trail" "$(echo "$lines" | cut -c1-300)"
    fi
}

# --rw on the writable formats (VMTEST_RW_FORMATS, default qcow2 and vmdk): see check_rw.
test_rw() {
    local format
    for format in ${VMTEST_RW_FORMATS:-qcow2 vmdk}; do
        check_rw "$format" abuse
    done
}

# --overlay: mkfs and writes through the device land in the overlay; the image stays as it was.
# Served by 3 threads (the default in this 2-CPU guest is 1), so several threads are tested too.
test_overlay() {
    out=$(attach --transport abuse --threads 3 --overlay /tmp/changes.ovl "$img/plain.qcow2" 2>&1)
    dev=$(echo "$out" | first_device)
    if [ -b "${dev}p1" ] && mkfs.ext4 -q -F -L REWRITTEN "${dev}p1" && mount "${dev}p1" /mnt/a &&
        echo "written through vdmount" > /mnt/a/new.txt && umount /mnt/a && "$vd" detach "$dev"; then
        ok "overlay write"
    else
        ko "overlay write" "$out"
        umount /mnt/a 2>/dev/null
        "$vd" detach --all --force >/dev/null 2>&1
    fi
    out=$(attach --transport abuse --overlay /tmp/changes.ovl "$img/plain.qcow2" 2>&1)
    dev=$(echo "$out" | first_device)
    if mount -o ro "${dev}p1" /mnt/a && [ "$(cat /mnt/a/new.txt)" = "written through vdmount" ]; then
        ok "overlay re-attach sees the writes"
    else
        ko "overlay re-attach sees the writes" "$out"
    fi
    umount /mnt/a 2>/dev/null
    "$vd" detach "$dev" >/dev/null 2>&1
    # The overlay is a standard qcow2 file over the image: qemu checks it clean.
    if check=$(qemu-img check /tmp/changes.ovl 2>&1) && echo "$check" | grep -q "No errors were found"; then
        ok "overlay passes qemu-img check"
    else
        ko "overlay passes qemu-img check" "$check"
    fi
}

# kill -9 of the server under a running reader: a new attach takes the orphaned device over, and
# the reader finishes with no error and the right bytes. The kill comes once the reader has read
# 2 MiB and while it still runs (a fixed sleep could outlast a fast reader), with requests in flight.
test_takeover() {
    local t0 read_sectors inflight=0 stat
    want=$(sha256sum < "$img/disk.raw" | cut -d' ' -f1)
    out=$(attach --transport abuse "$img/deflate.qcow2" 2>&1)
    dev=$(echo "$out" | first_device)
    pid=$(server_pid "$dev")
    stat=/sys/block/$(basename "$dev")/stat
    rm -f /tmp/reader.rc
    (dd if="$dev" bs=16K iflag=direct status=none | sha256sum | cut -d' ' -f1 > /tmp/reader.sum;
        echo "${PIPESTATUS[0]}" > /tmp/reader.rc) &
    reader=$!
    for _ in $(seq 1 600); do
        read_sectors=$(awk '{ print $3 }' "$stat")
        [ "$read_sectors" -ge 4096 ] && break
        sleep 0.1
    done
    [ -n "$pid" ] && kill -STOP "$pid"
    inflight=$(cat "/sys/block/$(basename "$dev")/abuse/inflight")
    if [ -z "$pid" ] || [ -e /tmp/reader.rc ]; then
        ko "kill -9 and take over" "no server pid for $dev, or the reader ended before the kill: $out"
        [ -n "$pid" ] && kill -CONT "$pid"
        wait "$reader"
    else
        kill -9 "$pid"
        sleep 1
        t0=$(date +%s)
        out2=$(attach --transport abuse "$img/deflate.qcow2" 2>&1)
        echo "takeover: $read_sectors sectors read and $inflight requests in flight at the kill;" \
            "the new server was ready after $(($(date +%s) - t0)) s"
        wait "$reader"
        if [ "$(cat /tmp/reader.rc)" = 0 ] && [ "$(cat /tmp/reader.sum)" = "$want" ] &&
            [ "$(echo "$out2" | first_device)" = "$dev" ]; then
            ok "kill -9 and take over"
        else
            ko "kill -9 and take over" "rc $(cat /tmp/reader.rc), sum $(cat /tmp/reader.sum), want $want; $out2"
        fi
    fi
    "$vd" detach "$dev" >/dev/null 2>&1
}

# --no-partscan leaves partitions to kpartx.
test_kpartx() {
    out=$(attach --transport abuse --no-partscan "$img/plain.qcow2" 2>&1)
    dev=$(echo "$out" | first_device)
    base=$(basename "$dev")
    if [ ! -e "${dev}p1" ] && kpartx -r -a "$dev" && mount -o ro "/dev/mapper/${base}p1" /mnt/a &&
        (cd /mnt/a && sha256sum --quiet -c "$disks/files.sha256"); then
        ok "kpartx on --no-partscan"
    else
        ko "kpartx on --no-partscan" "$out"
    fi
    umount /mnt/a 2>/dev/null
    kpartx -d "$dev" 2>/dev/null
    "$vd" detach "$dev" >/dev/null 2>&1
}

for group in $groups; do
    "test_$group"
done

if rmmod abuse; then ok "rmmod"; else ko "rmmod" "module busy after every detach"; fi
finish
