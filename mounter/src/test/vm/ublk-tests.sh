#!/bin/bash
# vdmount over the kernel's ublk driver, inside the qemu guest (run by run-ublk-tests.sh through
# kmod/vmtest/run-in-guest.sh, on a kernel that has ublk_drv). Arguments: the directory of test disks
# (testdata/make-disk-images.sh), then which groups to run (default all, in this order: auto images
# rw overlay takeover killattach kpartx). "auto" needs ublk_drv not loaded yet, so it goes first.
# VMTEST_IMAGES, when set, lists the images the images group attaches (`make test` spreads them
# over the kernels and transports: see the Makefile's GUEST_IMAGES).
# Prints PASS/FAIL lines and "N passed, N failed"; exits non-zero if anything failed.
set -u
top=$(pwd)
vd=$top/bin/vdmount
disks=$1
shift
groups=${*:-auto images rw overlay takeover killattach kpartx}
img=/tmp/images
. "$top/mounter/src/test/vm/lib.sh"
export VDMOUNT_DEBUG=1

for m in ext4 vfat nls_cp437 nls_ascii nls_iso8859_1 nls_utf8 dm_mod loop; do modprobe "$m" 2>/dev/null; done

# Images on tmpfs (9p is slow); checksums of every image file before, to prove nothing wrote them.
# qemu's conversions (*.qemu.raw) stay on the host's share, read once each.
mkdir -p "$img" /mnt/a /mnt/b
for f in "$disks"/*; do
    case "$f" in
    *.qemu.raw) ;;
    *) cp -a "$f" "$img"/ ;;
    esac
done
(cd "$img" && sha256sum -- *.qcow2 *.vmdk *.vhdx *.vdi *.raw > /tmp/images.before)
image_times > /tmp/images.mtimes

# The server's pid, from vdmount list --json (the driver does not show it in sysfs).
server_pid() {
    "$vd" list --json | tr -d '\n' | sed -n "s|.*\"pid\": \([0-9]*\),[^]]*\"path\": \"$1\".*|\1|p"
}
# Every device deleted: no ublk device is left.
all_deleted() { ! ls /sys/class/ublk-char/ublkc* >/dev/null 2>&1; }


detach_image() { # name: detach $dev; its nodes and the ublk device must be gone afterwards
    local name=$1 t0
    t0=$(date +%s)
    if vdm detach "$dev" && [ ! -e "$dev" ] && [ ! -e "/sys/class/ublk-char/ublkc${dev#/dev/ublkb}" ]; then
        ok "detach $name ($(($(date +%s) - t0)) s)"
    else
        ko "detach $name" "$dev still there"
    fi
    elapsed
}

# Plain `vdmount IMAGE` with neither abuse nor ublk_drv loaded: auto must pick ublk and load it.
test_auto() {
    if [ -e /sys/module/ublk_drv ] || [ -e /dev/abctl ]; then
        ko "auto loads ublk_drv" "ublk_drv or abuse is loaded already"
        return
    fi
    attach_checked disk.raw || return
    case "$dev" in
    /dev/ublkb*) echo "$out" | device_lines | head -1 | grep -q ", ublk)$" && ok "auto picks ublk" || ko "auto picks ublk" "$out";;
    *) ko "auto picks ublk" "$out";;
    esac
    if [ -d /sys/module/ublk_drv ]; then ok "auto loads ublk_drv"; else ko "auto loads ublk_drv" "not loaded"; fi
    detach_image disk.raw
}

# Every container, read-only: the devices say so, and a write is refused by the kernel.
test_images() {
    local first=1 name
    modprobe ublk_drv || { ko "modprobe ublk_drv" "failed"; return; }
    for name in ${VMTEST_IMAGES:-disk.raw plain.qcow2 deflate.qcow2 chain-top.qcow2 sparse.vmdk stream.vmdk split.vmdk \
        delta.vmdk dynamic.vhdx dynamic.vdi}; do
        attach_checked "$name" --transport ublk || continue
        if [ -n "$first" ]; then
            first=
            if [ "$(blockdev --getro "$dev")" = 1 ] && [ "$(blockdev --getro "${dev}p1")" = 1 ] &&
                ! dd if=/dev/zero of="${dev}p2" bs=4k count=1 oflag=direct status=none 2>/dev/null; then
                ok "read-only devices"
            else
                ko "read-only devices" "getro $(blockdev --getro "$dev"), or a write went through"
            fi
        fi
        detach_image "$name"
    done
}

# --rw: writes and discards through the device change the (raw) image itself; then the writable
# formats (VMTEST_RW_FORMATS, default qcow2 and vmdk): see check_rw.
test_rw() {
    local want format
    modprobe ublk_drv
    cp "$img/disk.raw" /tmp/rw.raw
    head -c 1M /dev/urandom > /tmp/pattern
    out=$(attach --transport ublk --rw /tmp/rw.raw 2>&1)
    echo "$out"
    dev=$(echo "$out" | first_device)
    # Past the last partition, before the backup GPT: 56 MiB written, 58 MiB discarded.
    if [ "$(blockdev --getro "$dev")" = 0 ] &&
        dd if=/tmp/pattern of="$dev" bs=64K seek=$((56 * 16)) oflag=direct conv=fsync status=none &&
        blkdiscard -o $((58 << 20)) -l $((1 << 20)) "$dev" && vdm detach "$dev"; then
        want=$(cat /tmp/pattern | sha256sum)
        if [ "$(dd if=/tmp/rw.raw bs=1M skip=56 count=1 status=none | sha256sum)" = "$want" ] &&
            cmp -s <(dd if=/tmp/rw.raw bs=1M skip=58 count=1 status=none) <(head -c 1M /dev/zero); then
            ok "--rw writes and discards reach the image"
        else
            ko "--rw writes and discards reach the image" "the image does not hold them"
        fi
    else
        ko "--rw writes and discards reach the image" "$out"
        "$vd" detach --all --force >/dev/null 2>&1
    fi
    rm -f /tmp/rw.raw
    for format in ${VMTEST_RW_FORMATS:-qcow2 vmdk}; do
        check_rw "$format" ublk
    done
}

# --overlay: mkfs and writes through the device land in the overlay; the image stays as it was.
# Served by 3 threads asked for, which ublk makes 2 queues in this 2-CPU guest (it says so).
test_overlay() {
    modprobe ublk_drv
    out=$(attach --transport ublk --threads 3 --overlay /tmp/changes.ovl "$img/plain.qcow2" 2>&1)
    echo "$out"
    dev=$(echo "$out" | first_device)
    if echo "$out" | grep -q "at most one queue per CPU: served by 2 threads, not 3"; then
        ok "--threads 3 on 2 CPUs: 2 queues, and a warning"
    else
        ko "--threads 3 on 2 CPUs: 2 queues, and a warning" "$out"
    fi
    if [ -b "${dev}p1" ] && mkfs.ext4 -q -F -L REWRITTEN "${dev}p1" && mount "${dev}p1" /mnt/a &&
        echo "written through vdmount" > /mnt/a/new.txt && umount /mnt/a && "$vd" detach "$dev"; then
        ok "overlay write"
    else
        ko "overlay write" "$out"
        umount /mnt/a 2>/dev/null
        "$vd" detach --all --force >/dev/null 2>&1
    fi
    out=$(attach --transport ublk --overlay /tmp/changes.ovl "$img/plain.qcow2" 2>&1)
    dev=$(echo "$out" | first_device)
    if mount -o ro "${dev}p1" /mnt/a && [ "$(cat /mnt/a/new.txt)" = "written through vdmount" ] &&
        [ "$(blkid -o value -s LABEL "${dev}p1")" = REWRITTEN ]; then
        ok "overlay re-attach sees the writes"
    else
        ko "overlay re-attach sees the writes" "$out"
    fi
    umount /mnt/a 2>/dev/null
    detach_image overlay
}

# kill -9 of the server under a running reader: a new attach takes the device over, and the reader
# finishes with no error and the right bytes. The kill comes once the reader has read 2 MiB and
# while it still runs, with requests in flight.
test_takeover() {
    local read_sectors inflight stat pid t0 want
    modprobe ublk_drv
    want=$(sha256sum < "$img/disk.raw" | cut -d' ' -f1)
    out=$(attach --transport ublk "$img/deflate.qcow2" 2>&1)
    echo "$out"
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
    inflight=$(awk '{ print $1 }' "/sys/block/$(basename "$dev")/inflight")
    if [ -z "$pid" ] || [ -e /tmp/reader.rc ]; then
        ko "kill -9 and take over" "no server pid for $dev, or the reader ended before the kill: $out"
        [ -n "$pid" ] && kill -CONT "$pid"
        wait "$reader"
    else
        kill -9 "$pid"
        sleep 1
        t0=$(date +%s)
        out2=$(attach --transport ublk "$img/deflate.qcow2" 2>&1)
        echo "$out2"
        echo "takeover: $read_sectors sectors read and $inflight requests in flight at the kill;" \
            "the new server was ready after $(($(date +%s) - t0)) s"
        wait "$reader"
        if [ "$(cat /tmp/reader.rc)" = 0 ] && [ "$(cat /tmp/reader.sum)" = "$want" ] &&
            [ "$(echo "$out2" | first_device)" = "$dev" ] && [ "$("$vd" list | grep -c '^[0-9]*:')" = 1 ]; then
            ok "kill -9 and take over"
        else
            ko "kill -9 and take over" "rc $(cat /tmp/reader.rc), sum $(cat /tmp/reader.sum), want $want; $out2; $("$vd" list)"
        fi
    fi
    detach_image takeover
}

# kill -9 of a server half way through its attach, as soon as its device is made (the disk not yet
# started): the next attach of the image deletes that device, so once that one is detached no
# device is left. (Should the kill land later, the next attach takes the device over instead.)
test_killattach() {
    local pid= n=0 when left
    modprobe ublk_drv
    "$vd" attach --transport ublk "$img/sparse.vmdk" >/dev/null 2>&1 &
    for _ in $(seq 1 2400); do
        pid=$(pgrep -f -- "attach --server" | head -1)
        [ -n "$pid" ] && break
        sleep 0.05
    done
    # No device is left by the groups before: this attach's will be number 0.
    while [ ! -e /sys/class/ublk-char/ublkc0 ] && [ -n "$pid" ] && [ -e "/proc/$pid" ] && [ $((n += 1)) -lt 1000000 ]; do :; done
    [ -n "$pid" ] && kill -9 "$pid"
    when=$([ -e /dev/ublkb0 ] && echo "after its disk started" || echo "before its disk started")
    wait
    "$vd" detach --all >/dev/null 2>&1
    left=$(ls /sys/class/ublk-char 2>&1 | tr '\n' ' ')
    echo "killed the server $when; devices left: ${left:-none}"
    out=$(attach --transport ublk "$img/sparse.vmdk" 2>&1)
    echo "$out"
    dev=$(echo "$out" | first_device)
    if [ -n "$pid" ] && [ -b "${dev}p1" ] && "$vd" detach "$dev" && all_deleted; then
        ok "an attach killed half way leaves no device behind ($when)"
    else
        ko "an attach killed half way leaves no device behind" "pid $pid; $out; $(ls /sys/class/ublk-char 2>&1)"
        "$vd" detach --all --force >/dev/null 2>&1
    fi
}

# --no-partscan leaves partitions to kpartx.
test_kpartx() {
    modprobe ublk_drv
    out=$(attach --transport ublk --no-partscan "$img/plain.qcow2" 2>&1)
    echo "$out"
    dev=$(echo "$out" | first_device)
    base=$(basename "$dev")
    if [ ! -e "${dev}p1" ] && [ "$(echo "$out" | device_lines | wc -l)" = 1 ] && kpartx -r -a "$dev" &&
        mount -o ro "/dev/mapper/${base}p1" /mnt/a && (cd /mnt/a && sha256sum --quiet -c "$disks/files.sha256"); then
        ok "kpartx on --no-partscan"
    else
        ko "kpartx on --no-partscan" "$out"
    fi
    umount /mnt/a 2>/dev/null
    kpartx -d "$dev" 2>/dev/null
    detach_image kpartx
}

for group in $groups; do
    "test_$group"
done

# Unloading proves that every detach let go of the driver.
if all_deleted && { [ ! -e /sys/module/ublk_drv ] || rmmod ublk_drv; }; then
    ok "module free after every detach"
else
    ko "module free after every detach" "$(ls /sys/class/ublk-char 2>&1)"
fi
finish
