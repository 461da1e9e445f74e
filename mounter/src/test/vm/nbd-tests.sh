#!/bin/bash
# vdmount over the kernel's nbd driver, inside the qemu guest (run by run-nbd-tests.sh through
# kmod/vmtest/run-in-guest.sh). Arguments: the directory of test disks
# (testdata/make-disk-images.sh), then which groups to run (default all, in this order: auto
# images rw overlay crash nopartscan maxpart0). "auto" needs nbd not loaded yet, so it goes first.
# VMTEST_IMAGES, when set, lists the images the images group attaches (`make test` spreads them
# over the kernels and transports: see the Makefile's GUEST_IMAGES).
# Prints PASS/FAIL lines and "N passed, N failed"; exits non-zero if anything failed.
set -u
top=$(pwd)
vd=$top/bin/vdmount
disks=$1
shift
groups=${*:-auto images rw overlay crash nopartscan maxpart0}
img=/tmp/images
. "$top/mounter/src/test/vm/lib.sh"

export VDMOUNT_DEBUG=1

for m in ext4 vfat nls_cp437 nls_ascii nls_iso8859_1 nls_utf8 dm_mod; do modprobe "$m" 2>/dev/null; done

mkdir -p "$img" /mnt/a /mnt/b
# Every image (VMTEST_IMAGES may name any), the E01 set ewfacquire made among them; qemu's
# conversions (*.qemu.raw) stay on the host's 9p share, read once each.
for f in "$disks"/*; do
    case "$f" in
    *.qemu.raw) ;;
    *) cp -a "$f" "$img"/ ;;
    esac
done
# A split raw image of the test disk too (disk-split.001…).
(cd "$img" && split -b 24M -a 3 --numeric-suffixes=1 disk.raw disk-split.)
(cd "$img" && sha256sum -- *.qcow2 *.vmdk *.vhdx *.vdi *.raw *.E0? disk-split.0?? > /tmp/images.before)
image_times > /tmp/images.mtimes

# The server's pid: the kernel shows the thread in NBD_DO_IT; its thread group is the process.
server_pid() { awk '/^Tgid:/ { print $2 }' "/proc/$(cat "/sys/block/$(basename "$1")/pid")/status"; }
stuck() { ps -eo stat=,pid=,comm= | awk '$1 ~ /^D/'; }
# Every device released: no nbd device has a serving process any more.
all_released() { ! ls /sys/block/nbd*/pid >/dev/null 2>&1; }


detach_image() { # name: detach $dev; the device must be disconnected and empty afterwards
    local name=$1 t0
    t0=$(date +%s)
    if vdm detach "$dev" && [ ! -e "/sys/block/$(basename "$dev")/pid" ] &&
        [ "$(cat "/sys/block/$(basename "$dev")/size")" = 0 ]; then
        ok "detach $name ($(($(date +%s) - t0)) s)"
    else
        ko "detach $name" "$dev still connected"
    fi
    elapsed
}

# Plain `vdmount IMAGE` on a guest with neither abuse nor nbd loaded: auto must pick nbd and
# load it with partitions; the raw image is checked through it. On a kernel with ublk (6.12) auto
# prefers ublk: here modprobe refuses ublk_drv, as an administrator's modprobe.d can, and auto must
# pass over it to nbd.
test_auto() {
    local refused=
    if [ -e /sys/module/nbd ] || [ -e /dev/abctl ] || [ -e /sys/module/ublk_drv ]; then
        ko "auto loads nbd" "nbd, ublk_drv or abuse is loaded already"
        return
    fi
    if [ -n "$(find "/lib/modules/$(uname -r)/kernel/drivers/block" -name 'ublk_drv.ko*' 2>/dev/null)" ]; then
        mkdir -p /tmp/modprobe.d
        cp -a /etc/modprobe.d/. /tmp/modprobe.d/ 2>/dev/null
        echo "install ublk_drv /bin/false" > /tmp/modprobe.d/no-ublk.conf
        mount --bind /tmp/modprobe.d /etc/modprobe.d && refused=1
    fi
    attach_checked disk.raw
    [ -n "$refused" ] && umount /etc/modprobe.d
    [ -n "$dev" ] || return
    case "$dev" in
    /dev/nbd*) echo "$out" | device_lines | head -1 | grep -q ", nbd)$" && ok "auto picks nbd" || ko "auto picks nbd" "$out";;
    *) ko "auto picks nbd" "$out";;
    esac
    if [ -d /sys/module/nbd ] && [ "$(cat /sys/module/nbd/parameters/max_part)" -ge 16 ]; then
        ok "auto loads nbd with partitions"
    else
        ko "auto loads nbd with partitions" "max_part $(cat /sys/module/nbd/parameters/max_part 2>&1)"
    fi
    detach_image disk.raw
    # Unloading proves that the detach let go of every reference to the driver.
    if all_released && rmmod nbd; then ok "module free after detach"; else ko "module free after detach" "rmmod nbd failed"; fi
}

test_images() {
    modprobe nbd max_part=16 || { ko "modprobe nbd" "failed"; return; }
    for name in ${VMTEST_IMAGES:-chain-top.qcow2 delta.vmdk dynamic.vhdx dynamic.vdi evidence.E01 disk-split.001}; do
        attach_checked "$name" --transport nbd && detach_image "$name"
    done
}

# --rw on the writable formats (VMTEST_RW_FORMATS, default qcow2 and vmdk): see check_rw.
test_rw() {
    local format
    modprobe nbd max_part=16
    for format in ${VMTEST_RW_FORMATS:-qcow2 vmdk}; do
        check_rw "$format" nbd
    done
}

# --overlay: mkfs and writes through the device land in the overlay; the image stays as it was.
# Over 3 connections (the default in this 2-CPU guest is 1), so several are tested too.
# The first server is stopped with SIGTERM (what systemd or the launcher would send): it must
# flush, disconnect, and take its record away by itself.
test_overlay() {
    local pid
    modprobe nbd max_part=16
    out=$(attach --transport nbd --threads 3 --overlay /tmp/changes.ovl "$img/deflate.qcow2" 2>&1)
    echo "$out"
    dev=$(echo "$out" | first_device)
    if [ -b "${dev}p1" ] && mkfs.ext4 -q -F -L REWRITTEN "${dev}p1" && mount "${dev}p1" /mnt/a &&
        echo "written through vdmount" > /mnt/a/new.txt && umount /mnt/a; then
        ok "overlay write"
    else
        ko "overlay write" "$out"
        umount /mnt/a 2>/dev/null
    fi
    pid=$(server_pid "$dev")
    kill -TERM "$pid"
    for _ in $(seq 1 300); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
    if [ ! -e "/proc/$pid" ] && all_released && ! ls /run/vdmount/*.attachment >/dev/null 2>&1; then
        ok "SIGTERM: the server disconnects and forgets the attachment"
    else
        ko "SIGTERM: the server disconnects and forgets the attachment" "$(ls /run/vdmount 2>&1)"
        "$vd" detach --all --force >/dev/null 2>&1
    fi
    out=$(attach --transport nbd --overlay /tmp/changes.ovl "$img/deflate.qcow2" 2>&1)
    dev=$(echo "$out" | first_device)
    if mount -o ro "${dev}p1" /mnt/a && [ "$(cat /mnt/a/new.txt)" = "written through vdmount" ] &&
        [ "$(blkid -o value -s LABEL "${dev}p1")" = REWRITTEN ]; then
        ok "overlay re-attach sees the writes"
    else
        ko "overlay re-attach sees the writes" "$out"
    fi
    umount /mnt/a 2>/dev/null
    detach_image "overlay"
}

# kill -9 of the server under a running reader: the reader ends (an I/O error is right) within a
# bounded time, later I/O fails at once, nothing waits in D state, and detach clears the dead
# attachment. A second opener holds the device meanwhile, so it keeps its size and dead sockets
# (the kernel frees a device once its last opener is gone).
test_crash() {
    local pid reader killed
    modprobe nbd max_part=16
    out=$(attach --transport nbd "$img/deflate.qcow2" 2>&1)
    echo "$out"
    dev=$(echo "$out" | first_device)
    pid=$(server_pid "$dev")
    exec 3<"$dev"
    rm -f /tmp/reader.rc
    (dd if="$dev" of=/dev/null bs=16K iflag=direct status=none 2>/tmp/reader.err; echo $? > /tmp/reader.rc) &
    reader=$!
    # Kill once the reader has read 2 MiB, while it still runs: a fixed sleep can outlast a fast reader.
    for _ in $(seq 1 600); do
        [ "$(awk '{ print $3 }' "/sys/block/$(basename "$dev")/stat")" -ge 4096 ] && break
        [ -e /tmp/reader.rc ] && break
        sleep 0.1
    done
    if [ -z "$pid" ] || [ -e /tmp/reader.rc ]; then
        ko "kill -9: reader ends" "no server pid ($pid), or the reader ended before the kill"
    else
        kill -9 "$pid"
        killed=$(date +%s)
        for _ in $(seq 1 300); do [ -e /tmp/reader.rc ] && break; sleep 0.1; done
        if [ -e /tmp/reader.rc ]; then
            ok "kill -9: reader ends ($(($(date +%s) - killed)) s after the kill, status $(cat /tmp/reader.rc): $(head -1 /tmp/reader.err))"
        else
            ko "kill -9: reader ends" "still running 30 s after the kill"
        fi
        # A new reader of the still-open dead device fails at once, rather than waiting.
        timeout 20 dd if="$dev" of=/dev/null bs=4K skip=100 count=1 iflag=direct status=none 2>/tmp/late.err
        rc=$?
        if [ "$rc" = 124 ]; then
            ko "kill -9: new I/O fails" "a read of the dead device hung"
        elif [ "$rc" = 0 ]; then
            ko "kill -9: new I/O fails" "a read of the dead device succeeded (size $(cat "/sys/block/$(basename "$dev")/size"))"
        else
            ok "kill -9: new I/O fails ($(head -1 /tmp/late.err))"
        fi
    fi
    if [ -z "$(stuck)" ]; then ok "kill -9: nothing in D state"; else ko "kill -9: nothing in D state" "$(stuck)"; fi
    wait "$reader" 2>/dev/null
    list=$(vdm list 2>&1)
    if echo "$list" | grep -q "deflate.qcow2  \[nbd, read-only, server pid $pid (not running)\]" &&
        echo "$list" | grep -q "^  $dev "; then
        ok "kill -9: list shows the dead nbd attachment"
    else
        ko "kill -9: list shows the dead nbd attachment" "$list"
    fi
    # Detach while the device is still held: the sockets are cleared, and detach says who holds it.
    if msg=$(env -u VDMOUNT_DEBUG "$vd" detach "$dev" 2>&1); then
        ko "kill -9: detach of a held device refuses" "it succeeded"
    elif [ "$(echo "$msg" | wc -l)" = 1 ] && echo "$msg" | grep -q "still has it open"; then
        ok "kill -9: detach of a held device refuses ($msg)"
    else
        ko "kill -9: detach of a held device refuses" "$msg"
    fi
    exec 3<&-
    if ls /run/vdmount/*.attachment >/dev/null 2>&1 && vdm detach "$dev" &&
        ! ls /run/vdmount/*.attachment >/dev/null 2>&1 && all_released; then
        ok "kill -9: detach clears the dead attachment"
    else
        ko "kill -9: detach clears the dead attachment" "$(ls /run/vdmount/ 2>&1; ls /sys/block/nbd*/pid 2>&1)"
        "$vd" detach --all --force >/dev/null 2>&1
    fi
    elapsed
}

# --no-partscan: the disk only; partitions are left to kpartx.
test_nopartscan() {
    modprobe nbd max_part=16
    out=$(attach --transport nbd --no-partscan "$img/sparse.vmdk" 2>&1)
    echo "$out"
    dev=$(echo "$out" | first_device)
    base=$(basename "$dev")
    if [ -b "$dev" ] && [ ! -e "${dev}p1" ] && [ "$(echo "$out" | device_lines | wc -l)" = 1 ] && kpartx -r -a "$dev" &&
        mount -o ro "/dev/mapper/${base}p1" /mnt/a && (cd /mnt/a && sha256sum --quiet -c "$disks/files.sha256"); then
        ok "kpartx on --no-partscan"
    else
        ko "kpartx on --no-partscan" "$out"
    fi
    umount /mnt/a 2>/dev/null
    kpartx -d "$dev" 2>/dev/null
    vdm detach "$dev" >/dev/null 2>&1
    elapsed
}

# nbd loaded without partitions: a warning says so, and the disk alone is attached.
test_maxpart0() {
    if ! all_released || ! rmmod nbd || ! modprobe nbd max_part=0; then
        ko "max_part=0" "cannot reload nbd with max_part=0"
        return
    fi
    out=$(attach --transport nbd "$img/disk.raw" 2>&1)
    echo "$out"
    dev=$(echo "$out" | first_device)
    if echo "$out" | grep -q "warning: .*max_part=0" && [ -b "$dev" ] && [ ! -e "${dev}p1" ] &&
        [ "$(echo "$out" | device_lines | wc -l)" = 1 ]; then
        ok "max_part=0: a warning and the disk alone"
    else
        ko "max_part=0: a warning and the disk alone" "$out"
    fi
    vdm detach "$dev" >/dev/null 2>&1
    all_released && rmmod nbd
    elapsed
}

for group in $groups; do
    "test_$group"
done

if [ -z "$(ls /run/vdmount/*.attachment 2>/dev/null)" ] && all_released; then
    ok "nothing left attached"
else
    ko "nothing left attached" "$(ls /run/vdmount/ 2>&1)"
fi
finish
