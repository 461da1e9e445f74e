#!/bin/bash
# The abuse module's tests.  Runs inside the vmtest guest (as root, under
# run-in-guest.sh), never on a host: it loads and unloads the module.
# Prints "PASS name" or "FAIL name: why" per test, then "N passed, N failed";
# exits non-zero if anything failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
kmod=$(dirname "$here")
ABUSECTL=$kmod/abusectl/abusectl
HOSTILE=$here/hostile
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
   [ "$(sysattr 0 servers)" = 2 ]; then
	pass sysfs
else
	fail sysfs "backing=$(sysattr 0 backing) pid=$(sysattr 0 server_pid) servers=$(sysattr 0 servers)"
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
# The server is stopped while fio fills the queue, let run for a moment so
# its threads fetch batches, stopped again and killed holding them.
stop_server
$ABUSECTL remove 0 2>/dev/null
if serve $IMG --index 0 --threads 4; then
	kill -STOP "$srv_pid"
	fio --name=crashqd --filename=/dev/abuse0 --direct=1 --ioengine=libaio \
		--iodepth=32 --rw=randwrite --bsrange=4k-64k --size=24m \
		--verify=crc32c --verify_fatal=1 --do_verify=1 >$W/fioqd.out 2>&1 &
	fio_pid=$!
	if wait_for 60 busy; then
		kill -CONT "$srv_pid"
		for i in $(seq 1 20000); do
			read -r n </sys/block/abuse0/abuse/inflight
			[ "$n" -gt 0 ] && break
		done
		kill -STOP "$srv_pid"
		sleep 0.5
		before="queued=$(sysattr 0 queued) inflight=$(sysattr 0 inflight)"
		kill -9 "$srv_pid"
		wait "$srv_pid" 2>/dev/null
		srv_pid=
		after="queued=$(sysattr 0 queued) $(dmesg | grep -o 'abuse0: server gone.*' | tail -1)"
		if ! serve $IMG --index 0 --threads 2; then
			fail crash-recovery-qd32 "restart: $(tail -1 $W/serve.err)"
		elif ! wait $fio_pid || grep -q "err= *[1-9]" $W/fioqd.out; then
			fail crash-recovery-qd32 "$(grep -E 'err|verify' $W/fioqd.out | head -3)"
		else
			pass crash-recovery-qd32
			echo "  (at the kill: $before; after: $after)"
		fi
	else
		fail crash-recovery-qd32 "fio queued nothing: $(head -3 $W/fioqd.out)"
		kill -CONT "$srv_pid"
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

# ---- hostile ioctls ----
if timeout 150 "$HOSTILE" >$W/hostile.out 2>&1; then
	pass hostile-ioctls
else
	fail hostile-ioctls "$(grep FAIL $W/hostile.out | head -5 | tr '\n' ';')"
fi

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
if dmesg | grep -E "BUG|WARNING|Oops|Call Trace|general protection|UBSAN|KASAN|refcount_t" >$W/dmesg.bad; then
	fail dmesg "$(head -3 $W/dmesg.bad)"
	dmesg | tail -60
else
	pass dmesg
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
