# Shared by the mounter's guest suites (attach-tests.sh over abuse, nbd-tests.sh over nbd), sourced
# after they set: vd (the launcher), disks (testdata/make-disk-images.sh's directory) and img (the
# suite's copy of the images on tmpfs). Reporting, JVM crashes under emulation, and the checks of
# what an attached test disk holds.

pass=0
fail=0
started=$(date +%s)
rm -f /tmp/jvm-crashes

ok() { echo "PASS $1"; pass=$((pass + 1)); }

ko() {
    echo "FAIL $1: $2"
    fail=$((fail + 1))
    # What the kernel and the server said last, to tell a test's fault from the product's.
    dmesg | tail -8 | sed 's/^/  dmesg: /'
    tail -5 /run/vdmount/server.log 2>/dev/null | sed 's/^/  server.log: /'
    # A JVM that crashed writes its report where it could: the checkout is read-only here.
    local f
    for f in /tmp/hs_err_pid*.log; do
        [ -f "$f" ] && jvm_crash_summary "$f" | sed "s|^|  jvm crash ($f): |"
    done
}

elapsed() { echo "  ($(($(date +%s) - started)) s into the run)"; }

jvm_crash_summary() { grep -m 8 -E "^# (SIG|Problematic|C |J |V )|^Current thread" "$1"; }

# A JVM that crashes under emulation (qemu's TCG: SIGSEGV at the entry of code HotSpot compiled,
# seen in a few in a hundred starts) is not a vdmount failure. Returns 0, and prints the crash
# report's summary, if a JVM crashed since FILE was touched.
jvm_crashed_since() {
    local found=1 f
    for f in $(find /tmp -maxdepth 1 -name 'hs_err_pid*.log' -newer "$1" 2>/dev/null); do
        echo "JVM CRASH (emulation), $f:"
        jvm_crash_summary "$f" | sed 's/^/  jvm crash: /'
        echo "$f" >> /tmp/jvm-crashes
        found=0
    done
    return $found
}

# vdmount COMMAND...: run once more if a JVM crashed (for commands that may be repeated).
vdm() {
    touch /tmp/.vdm-start
    "$vd" "$@" && return 0
    jvm_crashed_since /tmp/.vdm-start || return 1
    echo "RETRY vdmount $* after a JVM crash"
    "$vd" "$@"
}

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

# The checks every suite ends with, then its summary line; returns non-zero if anything failed.
finish() {
    if (cd "$img" && sha256sum --quiet -c /tmp/images.before); then
        ok "images unchanged"
    else
        ko "images unchanged" "an image file changed"
    fi
    if dmesg | grep -E "BUG|WARNING|Oops|Call Trace|hung_task" >/tmp/dmesg.bad; then
        ko "kernel log" "$(head -5 /tmp/dmesg.bad)"
    else
        ok "kernel log"
    fi
    echo "$pass passed, $fail failed in $(($(date +%s) - started)) s" \
        "($(cat /tmp/jvm-crashes 2>/dev/null | wc -l) JVM crashes under emulation, retried)"
    [ "$fail" = 0 ]
}
