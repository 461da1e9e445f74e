#!/bin/bash
# The abuse module's tests.  Runs inside the vmtest guest (as root, under
# run-in-guest.sh), never on a host: it loads and unloads the module.
# Prints "PASS name" or "FAIL name: why" per test, then "N passed, N failed";
# exits non-zero if anything failed.  VMTEST_CHURN_SECONDS (90) and
# VMTEST_FUZZ_ITERATIONS (3000 per thread) size the two long tests;
# VMTEST_FUZZ_SEED (the time) replays a fuzzer run, VMTEST_FUZZ_SECONDS
# (600) is its deadline.
set -u
here=$(cd "$(dirname "$0")" && pwd)
kmod=$(dirname "$here")
. "$here/lib.sh"
ABUSECTL=$kmod/abusectl/abusectl
HOSTILE=$here/hostile
FUZZ=$here/fuzz
KO=${ABUSE_KO:-$kmod/abuse.ko}
W=/tmp/abuse-test		# tmpfs in the guest
IMG=$W/disk.img
passed=0
failed=0
srv_pid=

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local t=$(($1 * 10))
	shift
	while ! "$@" 2>/dev/null; do
		t=$((t - 1))
		[ $t -le 0 ] && return 1
		sleep 0.1
	done
}

sysattr() { cat "/sys/block/abuse$1/abuse/$2" 2>/dev/null; }
queued() { [ "$(sysattr 0 queued)" -ge 1 ] 2>/dev/null; }
# wrote_8m: at least 8 MiB written to abuse0
wrote_8m() {
	local a b c d e f w rest
	read -r a b c d e f w rest </sys/block/abuse0/stat || return 1
	[ "$w" -ge 16384 ]
}

# busy: at least 8 requests queued or in flight on abuse0 (no forks: the
# guest is slow while fio runs)
busy() {
	local q i
	read -r q </sys/block/abuse0/abuse/queued || return 1
	read -r i </sys/block/abuse0/abuse/inflight || return 1
	[ $((q + i)) -ge 8 ]
}

# serve ARGS...: start abusectl serve in the background, wait until ready.
serve() {
	: >$W/serve.out
	$ABUSECTL serve "$@" >$W/serve.out 2>>$W/serve.err &
	srv_pid=$!
	local t=300
	while ! grep -q /dev/abuse $W/serve.out; do
		kill -0 $srv_pid 2>/dev/null || { srv_pid=; return 1; }
		t=$((t - 1))
		[ $t -le 0 ] && return 1
		sleep 0.1
	done
}

# stop_server: SIGTERM, the server removes its device unless --keep.
stop_server() {
	[ -n "$srv_pid" ] || return 0
	kill -TERM "$srv_pid" 2>/dev/null
	wait "$srv_pid"
	local rc=$?
	srv_pid=
	return $rc
}

cleanup() {
	umount /mnt/abuse 2>/dev/null
	[ -n "$srv_pid" ] && kill -9 "$srv_pid" 2>/dev/null
}
trap cleanup EXIT

mkdir -p $W /mnt/abuse
echo "guest: $(uname -r), $(nproc) CPUs"

# ---- load ----
if insmod "$KO" && wait_for 5 test -c /dev/abctl; then
	pass load
else
	fail load "insmod $KO failed"
	echo "$passed passed, $failed failed"
	exit 1
fi
modprobe ext4 2>/dev/null
modprobe dm_mod 2>/dev/null

# ---- partitions: a 64 MiB image with two partitions ----
truncate -s 64M $IMG
printf 'label: dos\n1M,24M,L\n,,L\n' | sfdisk -q $IMG >/dev/null
if ! serve $IMG --threads 2; then
	fail partitions "abusectl serve did not start: $(cat $W/serve.err)"
elif ! wait_for 20 test -b /dev/abuse0p2; then
	fail partitions "no /dev/abuse0p1, /dev/abuse0p2: $(ls /dev/abuse*)"
elif [ "$(blockdev --getsize64 /dev/abuse0)" != $((64 << 20)) ] ||
     [ "$(blockdev --getsize64 /dev/abuse0p1)" != $((24 << 20)) ]; then
	fail partitions "wrong sizes"
else
	pass partitions
fi
if [ "$(sysattr 0 backing)" = "$IMG" ] && [ "$(sysattr 0 server_pid)" = "$srv_pid" ] &&
   [ "$(sysattr 0 servers)" = 2 ] && [ "$(sysattr 0 io_timeout)" = 30 ] &&
   [ "$(sysattr 0 held)" = 0 ] && [ "$(sysattr 0 recovery)" = requeue ] &&
   [ "$(cat /sys/block/abuse0/queue/rotational)" = 0 ]; then
	pass sysfs
else
	fail sysfs "backing=$(sysattr 0 backing) pid=$(sysattr 0 server_pid) servers=$(sysattr 0 servers) io_timeout=$(sysattr 0 io_timeout) rotational=$(cat /sys/block/abuse0/queue/rotational)"
fi

# ---- ext4: mkfs, mount, write, fsck, remount, verify ----
(
	set -e
	mkfs.ext4 -q -F /dev/abuse0p1
	mount /dev/abuse0p1 /mnt/abuse
	head -c 8M /dev/urandom >$W/file.bin
	cp $W/file.bin /mnt/abuse/file.bin
	mkdir /mnt/abuse/dir
	for i in $(seq 1 50); do echo "$i" >/mnt/abuse/dir/f$i; done
	umount /mnt/abuse
	fsck.ext4 -fn /dev/abuse0p1 >$W/fsck.out 2>&1
	mount -o ro /dev/abuse0p1 /mnt/abuse
	cmp $W/file.bin /mnt/abuse/file.bin
	[ "$(cat /mnt/abuse/dir/f50)" = 50 ]
) >$W/ext4.out 2>&1 && pass ext4 || fail ext4 "$(tail -3 $W/ext4.out)"

# ---- removal while mounted is refused ----
if mountpoint -q /mnt/abuse; then
	if $ABUSECTL remove 0 2>$W/rm.err; then
		fail remove-busy "removed a mounted device"
	elif grep -q busy $W/rm.err && [ -b /dev/abuse0 ] && cmp -s $W/file.bin /mnt/abuse/file.bin; then
		pass remove-busy
	else
		fail remove-busy "$(cat $W/rm.err)"
	fi
	umount /mnt/abuse
else
	fail remove-busy "nothing mounted"
fi

# ---- fio with verify: random read/write mix, 4 jobs ----
if fio --name=verify --filename=/dev/abuse0 --direct=1 --ioengine=libaio \
	--iodepth=8 --rw=randrw --rwmixread=40 --bsrange=4k-128k \
	--numjobs=4 --size=8m --offset_increment=16m --verify=crc32c \
	--verify_fatal=1 --do_verify=1 --group_reporting >$W/fio.out 2>&1 &&
   ! grep -q "err= *[1-9]" $W/fio.out; then
	pass fio-verify
else
	fail fio-verify "$(grep -E 'err|verify|bad' $W/fio.out | head -3)"
fi
if stop_server && wait_for 10 test ! -e /dev/abuse0; then
	pass remove-on-sigterm
else
	fail remove-on-sigterm "abuse0 still there: $(cat $W/serve.err)"
fi

# ---- kpartx with --no-partscan (fio overwrote the partition table) ----
printf 'label: dos\n1M,24M,L\n,,L\n' | sfdisk -q $IMG >/dev/null
if serve $IMG --no-partscan --index 3 && sleep 1 && [ ! -e /dev/abuse3p1 ] &&
   DM_DISABLE_UDEV=1 timeout 60 kpartx -a /dev/abuse3 >$W/kpartx.out 2>&1 && wait_for 10 test -e /dev/mapper/abuse3p1; then
	pass no-partscan-kpartx
else
	fail no-partscan-kpartx "$(cat $W/kpartx.out 2>/dev/null; ls /dev/abuse3* /dev/mapper)"
fi
DM_DISABLE_UDEV=1 timeout 60 kpartx -d /dev/abuse3 >/dev/null 2>&1
stop_server

# ---- read-only ----
sum=$(md5sum <$IMG)
if serve $IMG --read-only && [ "$(blockdev --getro /dev/abuse0)" = 1 ] &&
   ! dd if=/dev/zero of=/dev/abuse0 bs=4k count=1 oflag=direct 2>/dev/null &&
   ! dd if=/dev/zero of=/dev/abuse0 bs=4k count=1 seek=100 conv=fsync 2>/dev/null &&
   dd if=/dev/abuse0 of=/dev/null bs=1M iflag=direct 2>/dev/null &&
   [ "$(md5sum <$IMG)" = "$sum" ]; then
	pass read-only
else
	fail read-only "getro=$(blockdev --getro /dev/abuse0) or a write got through"
fi
stop_server

# ---- crash recovery: kill -9 the server under an O_DIRECT write stream ----
head -c 48M /dev/urandom >$W/pattern
if serve $IMG --index 0 --threads 2; then
	dd if=$W/pattern of=/dev/abuse0 bs=64k oflag=direct conv=fsync 2>$W/dd.err &
	dd_pid=$!
	wait_for 30 wrote_8m
	kill -STOP "$srv_pid"	# the writer cannot finish before the kill
	written=$(awk '{print $7}' /sys/block/abuse0/stat)
	kill -9 "$srv_pid"
	wait "$srv_pid" 2>/dev/null
	srv_pid=
	sleep 1
	stuck="queued=$(sysattr 0 queued) inflight=$(sysattr 0 inflight) servers=$(sysattr 0 servers)"
	if ! kill -0 $dd_pid 2>/dev/null; then
		fail crash-recovery "writer finished before the kill (wrote $written sectors)"
	elif ! serve $IMG --index 0; then
		fail crash-recovery "restart: $(tail -1 $W/serve.err)"
	elif ! wait $dd_pid; then
		fail crash-recovery "writer failed: $(cat $W/dd.err)"
	elif ! cmp -n $((48 << 20)) $W/pattern $IMG; then
		fail crash-recovery "data differs"
	else
		pass crash-recovery
		echo "  (killed after $written sectors; then $stuck)"
	fi
else
	fail crash-recovery "serve: $(tail -1 $W/serve.err)"
fi

# ---- the same at queue depth 32 with 4 threads: many requests requeued ----
# A server that pauses 50 ms before serving each batch always holds some:
# killed with requests in flight (asserted), a new one takes them over,
# and fio's verification proves each completed once with the right data.
stop_server
$ABUSECTL remove 0 2>/dev/null
if serve $IMG --index 0 --threads 4 --delay-us 50000; then
	fio --name=crashqd --filename=/dev/abuse0 --direct=1 --ioengine=libaio \
		--iodepth=32 --rw=randwrite --bsrange=4k-64k --size=24m \
		--verify=crc32c --verify_fatal=1 --do_verify=1 >$W/fioqd.out 2>&1 &
	fio_pid=$!
	inflight=0
	for i in $(seq 1 600); do
		read -r inflight </sys/block/abuse0/abuse/inflight
		[ "$inflight" -ge 4 ] && break
		sleep 0.05
	done
	kill -9 "$srv_pid"
	wait "$srv_pid" 2>/dev/null
	srv_pid=
	gone=$(dmesg | grep -o 'abuse0: server gone, [0-9]* requests requeued' | tail -1)
	after="queued=$(sysattr 0 queued) held=$(sysattr 0 held) inflight=$(sysattr 0 inflight)"
	if [ "$inflight" -lt 4 ] || [ -z "$gone" ]; then
		fail crash-recovery-qd32 "not enough in flight at the kill (inflight=$inflight; $gone)"
		serve $IMG --index 0 --threads 2
		wait $fio_pid
	elif ! serve $IMG --index 0 --threads 2; then
		fail crash-recovery-qd32 "restart: $(tail -1 $W/serve.err)"
	elif ! wait $fio_pid || grep -q "err= *[1-9]" $W/fioqd.out; then
		fail crash-recovery-qd32 "$(grep -E 'err|verify' $W/fioqd.out | head -3)"
	else
		pass crash-recovery-qd32
		echo "  (at the kill: inflight=$inflight; after: $after; $gone)"
	fi
else
	fail crash-recovery-qd32 "no server"
fi

# ---- reset: fails what is queued, the device keeps working ----
[ -n "$srv_pid" ] || serve $IMG --index 0
if [ -n "$srv_pid" ]; then
	kill -STOP $srv_pid
	dd if=/dev/abuse0 of=/dev/null bs=4k count=1 skip=777 iflag=direct 2>/dev/null &
	dd_pid=$!
	if wait_for 10 queued && $ABUSECTL reset 0 &&
	   ! wait $dd_pid && kill -CONT $srv_pid &&
	   dd if=/dev/abuse0 of=/dev/null bs=4k count=1 skip=778 iflag=direct 2>/dev/null; then
		pass reset
	else
		fail reset "queued=$(sysattr 0 queued)"
		kill -CONT $srv_pid
	fi
else
	fail reset "no server"
fi

# ---- no server for `timeout` seconds: requests fail with EIO ----
if [ -n "$srv_pid" ]; then
	echo 2 >/sys/block/abuse0/abuse/timeout
	kill -9 $srv_pid
	wait $srv_pid 2>/dev/null
	srv_pid=
	start=$(date +%s)
	if dd if=/dev/abuse0 of=/dev/null bs=4k count=1 skip=999 iflag=direct 2>/dev/null; then
		fail no-server-timeout "read succeeded without a server"
	elif [ $(($(date +%s) - start)) -gt 10 ]; then
		fail no-server-timeout "took $(($(date +%s) - start)) s"
	elif serve $IMG --index 0 &&
	     dd if=/dev/abuse0 of=/dev/null bs=4k count=1 skip=999 iflag=direct 2>/dev/null; then
		pass no-server-timeout
	else
		fail no-server-timeout "no recovery after a new server"
	fi
fi
stop_server

# ---- 4096-byte blocks; write-zeroes and discard reach the server ----
head -c 1M /dev/urandom >$W/one
mib() { dd if="$1" bs=1M skip="$2" count=1 iflag="${3:-fullblock}" 2>/dev/null; }
$ABUSECTL remove 0 2>/dev/null
if ! serve $IMG --index 0 --block-size 4096; then
	fail discard-zeroes "serve: $(tail -1 $W/serve.err)"
elif [ "$(blockdev --getss /dev/abuse0)" != 4096 ]; then
	fail discard-zeroes "logical block size $(blockdev --getss /dev/abuse0)"
elif ! dd if=$W/one of=/dev/abuse0 bs=1M count=1 oflag=direct 2>/dev/null ||
     ! dd if=$W/one of=/dev/abuse0 bs=1M seek=1 count=1 oflag=direct 2>/dev/null ||
     ! cmp -s $W/one <(mib /dev/abuse0 1 direct); then
	fail discard-zeroes "write/read back at 4096-byte blocks"
elif ! blkdiscard -z -o 0 -l 1M /dev/abuse0 || ! blkdiscard -o 1M -l 1M /dev/abuse0; then
	fail discard-zeroes "blkdiscard failed"
elif ! cmp -s <(head -c 1M /dev/zero) <(mib /dev/abuse0 0 direct) ||
     ! cmp -s <(head -c 1M /dev/zero) <(mib $IMG 0) ||
     ! cmp -s <(head -c 1M /dev/zero) <(mib $IMG 1); then
	fail discard-zeroes "zeroed or discarded range not zero in the image"
else
	pass discard-zeroes
fi
stop_server

# ---- a stopped server: the I/O timeout fails the reader, removal works ----
$ABUSECTL remove 0 2>/dev/null
if serve $IMG --index 0 --threads 2; then
	echo 3 >/sys/block/abuse0/abuse/io_timeout
	kill -STOP "$srv_pid"
	start=$(date +%s)
	if dd if=/dev/abuse0 of=/dev/null bs=4k count=1 skip=4321 iflag=direct 2>/dev/null; then
		fail io-timeout "a read succeeded with the server stopped"
	elif [ $(($(date +%s) - start)) -gt 15 ]; then
		fail io-timeout "the read took $(($(date +%s) - start)) s with io_timeout=3"
	elif [ "$(sysattr 0 timeouts)" -lt 1 ]; then
		fail io-timeout "timeouts=$(sysattr 0 timeouts)"
	elif ! timeout 20 $ABUSECTL remove 0 || [ -e /dev/abuse0 ]; then
		fail io-timeout "removal with the server stopped failed"
	else
		pass io-timeout
		echo "  (the read failed after $(($(date +%s) - start)) s)"
	fi
	kill -CONT "$srv_pid"
	wait "$srv_pid" 2>/dev/null
	srv_pid=
else
	fail io-timeout "serve: $(tail -1 $W/serve.err)"
fi

# ---- ext4 with 1 KiB blocks under file churn and sync: journal blocks come
# from slab caches, which hardened usercopy refuses to copy with copy_to_user ----
truncate -s 256M $W/churn.img
if serve $W/churn.img --index 0 --threads 2 && mkfs.ext4 -q -F -b 1024 /dev/abuse0 &&
   mount /dev/abuse0 /mnt/abuse; then
	(while :; do sync; sleep 0.2; done) &
	syncer=$!
	# Thousands of small files created and deleted (python: no fork per file).
	rounds=$(python3 - /mnt/abuse "${VMTEST_CHURN_SECONDS:-90}" <<'PY'
import os, shutil, sys, time
top, secs = sys.argv[1], float(sys.argv[2])
end, rounds = time.time() + secs, 0
while time.time() < end:
    d = os.path.join(top, "d%d" % (rounds % 16))
    os.makedirs(d, exist_ok=True)
    for j in range(100):
        with open(os.path.join(d, "f%d-%d" % (rounds, j)), "w") as f:
            f.write("%d %d\n" % (rounds, j) * (1 + j % 7))
    shutil.rmtree(os.path.join(top, "d%d" % ((rounds + 8) % 16)), ignore_errors=True)
    rounds += 1
print(rounds)
PY
)
	kill $syncer
	wait $syncer 2>/dev/null
	files=$(find /mnt/abuse -type f | wc -l)
	umount /mnt/abuse
	if dmesg | grep -qE "usercopy: |BUG"; then
		fail ext4-1k-churn "$(dmesg | grep -E 'usercopy: |BUG' | head -2)"
	elif ! fsck.ext4 -fn /dev/abuse0 >$W/fsck.out 2>&1; then
		fail ext4-1k-churn "fsck: $(tail -3 $W/fsck.out)"
	else
		pass ext4-1k-churn
		echo "  ($rounds rounds of 100 files, $files files at the end, fsck clean)"
	fi
else
	fail ext4-1k-churn "serve, mkfs or mount failed: $(tail -1 $W/serve.err)"
fi
stop_server

# ---- hostile servers ----
if timeout 240 "$HOSTILE" >$W/hostile.out 2>&1; then
	pass hostile-protocol
else
	fail hostile-protocol "$(grep FAIL $W/hostile.out | head -5 | tr '\n' ';')"
fi
modprobe bfq 2>/dev/null
modprobe kyber-iosched 2>/dev/null
for sched in none mq-deadline bfq kyber; do
	if timeout 240 "$HOSTILE" replay $sched >$W/replay.out 2>&1; then
		pass "replayed-handles-$sched"
		grep -o "[0-9]* requests.*" $W/replay.out | sed 's/^/  (/; s/$/)/'
	else
		fail "replayed-handles-$sched" "$(grep FAIL $W/replay.out | head -3 | tr '\n' ';')"
	fi
done
# Lifecycle requests race on one index; scans nobody serves fail fast.
echo 2 >/sys/module/abuse/parameters/io_timeout
if timeout 120 "$HOSTILE" race 20 >$W/race.out 2>&1 &&
   ! dmesg | grep -qE "duplicate filename|kobject"; then
	pass add-remove-race
else
	fail add-remove-race "$(grep FAIL $W/race.out | head -3 | tr '\n' ';') $(dmesg | grep -E 'duplicate|kobject' | head -2)"
fi
if setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin "$HOSTILE" unprivileged >$W/unpriv.out 2>&1; then
	pass unprivileged-refused
else
	fail unprivileged-refused "$(grep FAIL $W/unpriv.out | head -5 | tr '\n' ';')"
fi
# The fuzzer: random ioctl sequences from several threads, with I/O.
echo 1 >/sys/module/abuse/parameters/io_timeout
echo 1 >/sys/module/abuse/parameters/no_server_timeout
# It runs under a deadline of our own: a fuzzer stuck in the kernel cannot be
# killed, and `timeout` would wait for it for ever.
fuzz_seed=${VMTEST_FUZZ_SEED:-$(date +%s)}
# Said before it runs: a run that never ends must still name its seed.
echo "  (ioctl-fuzzer: seed $fuzz_seed; VMTEST_FUZZ_SEED=$fuzz_seed replays it)"
"$FUZZ" "${VMTEST_FUZZ_ITERATIONS:-3000}" "$fuzz_seed" >$W/fuzz.out 2>&1 &
fuzz_pid=$!
fuzz_ended() { ! kill -0 $fuzz_pid 2>/dev/null; }	# a function: no fork per look
if ! wait_for "${VMTEST_FUZZ_SECONDS:-600}" fuzz_ended; then
	"$here/dump-stuck.sh" $fuzz_pid | tee $W/stuck.out
	kill -9 $fuzz_pid
	wait_for 30 fuzz_ended
	fail ioctl-fuzzer "seed $fuzz_seed: still running after ${VMTEST_FUZZ_SECONDS:-600} s, $(kill -0 $fuzz_pid 2>/dev/null && echo "unkillable" || echo "killed"); $(tail -2 $W/stuck.out | tr '\n' ' ')"
	if kill -0 $fuzz_pid 2>/dev/null; then
		# Stuck in the kernel: the tests that follow would hang behind it.
		echo "$passed passed, $failed failed"
		exit 1
	fi
elif wait $fuzz_pid; then
	pass ioctl-fuzzer
	grep -m1 ' iterations x ' $W/fuzz.out | sed 's/^fuzz: /  (/; s/$/)/'
else
	fail ioctl-fuzzer "seed $fuzz_seed, status $?: $(grep -E 'FAIL|fuzz:' $W/fuzz.out | head -5 | tr '\n' ';')"
fi
echo 30 >/sys/module/abuse/parameters/io_timeout
echo 30 >/sys/module/abuse/parameters/no_server_timeout

# ---- rmmod, with a server-less device left behind ----
serve $IMG --keep --index 5 && stop_server
if [ ! -b /dev/abuse5 ]; then
	fail rmmod "--keep did not keep abuse5"
elif rmmod abuse && [ ! -e /dev/abctl ] && [ ! -e /dev/abuse5 ] &&
     [ ! -e /sys/module/abuse ] && ! ls /sys/block | grep -q abuse; then
	pass rmmod
else
	fail rmmod "leftovers: $(ls /dev/abuse* /sys/block | grep abuse)"
fi

# ---- the kernel log ----
if dmesg | grep -E "$VMTEST_KERNEL_LOG_BAD" >$W/dmesg.bad; then
	fail dmesg "$(head -3 $W/dmesg.bad)"
	dmesg | tail -60
else
	pass dmesg
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
