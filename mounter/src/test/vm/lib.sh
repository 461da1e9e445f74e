# Shared by the mounter's guest suites (attach-tests.sh over abuse, nbd-tests.sh over nbd,
# ublk-tests.sh over ublk), sourced after they set: vd (the launcher), disks
# (testdata/make-disk-images.sh's directory) and img (the suite's copy of the images on tmpfs).
# Reporting, JVM crashes under emulation, and the checks of what an attached test disk holds.

pass=0
fail=0
started=$(date +%s)
# The guest's root is the host's, read-only: the audit trail goes to the guest's tmpfs.
export VDMOUNT_AUDIT_LOG=/tmp/vdmount-audit.jsonl

# What a kernel log must not show: one list for every guest suite.
. "$top/kmod/vmtest/lib.sh"

ok() { echo "PASS $1"; pass=$((pass + 1)); }

ko() {
    echo "FAIL $1: $2"
    fail=$((fail + 1))
    # What the kernel and the server said last, to tell a test's fault from the product's.
    dmesg | tail -8 | sed 's/^/  dmesg: /'
    tail -5 /run/vdmount/server.log 2>/dev/null | sed 's/^/  server.log: /'
    # Each attachment's own log (failed requests, devices going away), the newest last.
    local log
    for log in $(ls -tr /run/vdmount/[0-9]*.log 2>/dev/null | tail -2); do
        tail -3 "$log" | sed "s|^|  $(basename "$log"): |"
    done
    # A JVM that crashed writes its report where it could: the checkout is read-only here.
    local f
    for f in /tmp/hs_err_pid*.log; do
        [ -f "$f" ] && jvm_crash_summary "$f" | sed "s|^|  jvm crash ($f): |"
    done
}

elapsed() { echo "  ($(($(date +%s) - started)) s into the run)"; }

jvm_crash_summary() { grep -m 8 -E "^# +(SIG|Problematic|C |J |V )|^Current thread" "$1"; }

# A JVM that crashed writes its report to /tmp. The guests run single-threaded TCG (VMTEST_TCG=single),
# under which HotSpot's JIT-compiled code does not crash as it did under multi-threaded TCG, so a crash
# is a failure like any other; its summary is shown with it (see ko).
jvm_crashed_since() { # FILE: prints the summary of each crash report newer than FILE
    local found=1 f
    for f in $(find /tmp -maxdepth 1 -name 'hs_err_pid*.log' -newer "$1" 2>/dev/null); do
        echo "JVM CRASH, $f:"
        jvm_crash_summary "$f" | sed 's/^/  jvm crash: /'
        found=0
    done
    return $found
}

vdm() { "$vd" "$@"; }

# vdmount attach, with a watchdog: if it still runs after 90 s (the launcher gives up at 120),
# it shows what the server is doing, to tell a slow machine from a hang: the kernel side of its
# threads and of the nbd or abuse devices, and a Java thread dump (SIGQUIT, once the JVM handles it:
# HotSpot writes the dump to the launch pipe, so it ends up in the attach's output).
attach() {
    local watchdog rc
    (
        # Not holding the output pipe: the caller's $(...) would wait for this sleep.
        sleep 90 >/dev/null 2>&1
        pid=$(pgrep -f -- "attach --server" | head -1)
        [ -n "$pid" ] || exit 0
        echo "DIAG: attach still running after 90 s; server $pid"
        for t in /proc/"$pid"/task/*; do
            echo "DIAG: thread $(basename "$t") $(cat "$t/comm") state $(awk '{ print $3 }' "$t/stat") wchan $(cat "$t/wchan" 2>/dev/null)"
        done
        cat /proc/"$pid"/task/*/stack 2>/dev/null | sort | uniq -c | sort -rn | head -30 | sed 's/^/DIAG: kernel stack /'
        for d in /sys/block/nbd*; do
            [ -e "$d/pid" ] && echo "DIAG: $(basename "$d") inflight $(cat "$d/inflight") served by $(cat "$d/pid")"
        done
        for d in /sys/block/abuse*/abuse; do
            [ -e "$d/servers" ] && echo "DIAG: $d servers $(cat "$d/servers") queued $(cat "$d/queued") inflight $(cat "$d/inflight")"
        done
        dmesg | tail -10 | sed 's/^/DIAG: /'
        grep -qx "Signal Dispatch" /proc/"$pid"/task/*/comm && kill -QUIT "$pid"
    ) &
    watchdog=$!
    touch /tmp/.attach-start
    "$vd" attach "$@"
    rc=$?
    kill "$watchdog" 2>/dev/null
    wait "$watchdog" 2>/dev/null
    [ "$rc" != 0 ] && jvm_crashed_since /tmp/.attach-start
    return $rc
}
# The device lines of an attach's output.
device_lines() { grep '^/dev/'; }
first_device() { device_lines | awk 'NR == 1 { print $1 }'; }

# check_contents NAME DEV: DEV, the attached test disk NAME, reads byte for byte as qemu reads the
# image (its conversion made on the host, or the raw source), and both partitions mount read-only
# with the source files in them. Leaves nothing mounted.
check_contents() {
    local name=$1 dev=$2 expected=$img/disk.raw differ
    [ -f "$disks/$name.qemu.raw" ] && expected=$disks/$name.qemu.raw
    if differ=$(cmp "$dev" "$expected" 2>&1); then ok "bytes $name"; else ko "bytes $name" "$differ"; fi
    if mount -o ro "${dev}p1" /mnt/a && (cd /mnt/a && sha256sum --quiet -c "$disks/files.sha256"); then
        ok "ext4 files $name"
    else
        ko "ext4 files $name" "mount or checksums failed"
    fi
    if mount -o ro "${dev}p2" /mnt/b && cmp -s /mnt/b/large.bin "$disks/files/large.bin" &&
        cmp -s /mnt/b/notes.txt "$disks/files/notes.txt"; then
        ok "fat files $name"
    else
        ko "fat files $name" "mount or compare failed"
    fi
    umount /mnt/a 2>/dev/null
    umount /mnt/b 2>/dev/null
}

# Attaches IMAGE (with the options after it), checks its partitions and every byte and file; leaves
# it attached, its lines in $out and its disk in $dev (the nbd and ublk suites detach it themselves).
attach_checked() {
    local name=$1 t0
    shift
    t0=$(date +%s)
    dev=
    if ! out=$(attach "$@" "$img/$name" 2>&1); then
        ko "attach $name" "$out"
        return 1
    fi
    echo "$out"
    echo "  attach took $(($(date +%s) - t0)) s"
    dev=$(echo "$out" | first_device)
    if [ -b "${dev}p1" ] && [ -b "${dev}p2" ] && echo "$out" | device_lines | grep -q "^${dev}p2 "; then
        ok "partitions $name"
    else
        ko "partitions $name" "no ${dev}p1 / ${dev}p2"
    fi
    check_contents "$name" "$dev"
    return 0
}

# check_rw FORMAT TRANSPORT [OPTIONS]: a new 64 MiB image of FORMAT (qemu-img create: qcow2, or
# vmdk as monolithicSparse), attached --rw through TRANSPORT: mkfs.ext4 on the whole device, the
# test files copied in and one deleted, fio's random writes verified, then detached. qemu-img check
# must find the image clean and qemu-img must read it as the device last read.
check_rw() {
    local format=$1 transport=$2 file=/tmp/rw-test.$1 sum=
    shift 2
    rm -f "$file" /tmp/rw-test.raw
    qemu-img create -q -f "$format" "$file" 64M || { ko "--rw $format over $transport" "qemu-img create failed"; return; }
    out=$(attach --transport "$transport" --rw "$@" "$file" 2>&1)
    echo "$out"
    dev=$(echo "$out" | first_device)
    if [ -b "$dev" ] && mkfs.ext4 -q -F "$dev" && mount "$dev" /mnt/a && cp -r "$disks/files" /mnt/a/ &&
        rm /mnt/a/files/notes.txt &&
        fio --name=rw --filename=/mnt/a/fio.bin --size=8M --rw=randwrite --bs=4k --direct=1 --ioengine=psync \
            --verify=crc32c --output=/dev/null && umount /mnt/a && sum=$(sha256sum < "$dev") && vdm detach "$dev"; then
        if ! check=$(qemu-img check "$file" 2>&1); then
            ko "--rw $format over $transport" "qemu-img check: $check"
        elif qemu-img convert -O raw "$file" /tmp/rw-test.raw && [ "$(sha256sum < /tmp/rw-test.raw)" = "$sum" ]; then
            ok "--rw $format over $transport: mkfs, files, fio verify; qemu-img check clean and reads the same"
        else
            ko "--rw $format over $transport" "qemu-img reads other bytes than the device did"
        fi
    else
        ko "--rw $format over $transport" "$out"
        umount /mnt/a 2>/dev/null
        "$vd" detach --all --force >/dev/null 2>&1
    fi
    rm -f "$file" /tmp/rw-test.raw
}

# The image files of images.before with their modification times (to the nanosecond).
image_times() { (cd "$img" && awk '{ print $2 }' /tmp/images.before | xargs -d '\n' stat -c '%n %y'); }

# The checks every suite ends with, then its summary line; returns non-zero if anything failed.
finish() {
    if (cd "$img" && sha256sum --quiet -c /tmp/images.before); then
        ok "images unchanged"
    else
        ko "images unchanged" "an image file changed"
    fi
    # A suite that listed its images' modification times (image_times) has them checked too.
    if [ -f /tmp/images.mtimes ]; then
        if image_times | cmp -s - /tmp/images.mtimes; then
            ok "image mtimes unchanged"
        else
            ko "image mtimes unchanged" "$(image_times | diff /tmp/images.mtimes - | head -3)"
        fi
    fi
    if dmesg | grep -E "$VMTEST_KERNEL_LOG_BAD" >/tmp/dmesg.bad; then
        ko "kernel log" "$(head -5 /tmp/dmesg.bad)"
    else
        ok "kernel log"
    fi
    local crashes
    crashes=$(find /tmp -maxdepth 1 -name 'hs_err_pid*.log' 2>/dev/null | wc -l)
    if [ "$crashes" = 0 ]; then ok "no JVM crash"; else ko "no JVM crash" "$crashes crash reports in /tmp"; fi
    echo "$pass passed, $fail failed in $(($(date +%s) - started)) s on $(uname -r)"
    [ "$fail" = 0 ]
}
