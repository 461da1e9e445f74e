package org.vdmount.mounter.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.system.Errno;

/** The checks, the errno translation and the log policy that every transport now shares. */
class RequestGatewayTest {
    private static final int SIZE = 64 * 1024;

    /** Bytes in memory; reads of the second half fail as a damaged table would, writes may hit a full disk. */
    private static class Disk implements VirtualDisk {
        final byte[] bytes = new byte[SIZE];
        final boolean writable;
        boolean full;
        int flushes;

        Disk(boolean writable) {
            this.writable = writable;
            Arrays.fill(bytes, (byte) 7);
        }

        @Override
        public long size() {
            return SIZE;
        }

        @Override
        public void read(ByteBuffer dst, long offset) throws IOException {
            if (offset + dst.remaining() > SIZE / 2 && dst.hasRemaining()) {
                throw new IOException("disk.qcow2: L2 table at offset " + (offset + 1000) + " is past the end of the file");
            }
            dst.put(bytes, (int) offset, dst.remaining());
        }

        @Override
        public void map(long offset, long length, RunSink sink) throws IOException {
            sink.accept(Run.of(RunKind.ZERO, offset, length / 2));
            sink.accept(Run.of(RunKind.UNALLOCATED, offset + length / 2, length - length / 2));
        }

        @Override
        public DiskInfo info() {
            return new DiskInfo("memory", "test");
        }

        @Override
        public Optional<VirtualDisk> backing() {
            return Optional.empty();
        }

        @Override
        public boolean writable() {
            return writable;
        }

        @Override
        public void write(ByteBuffer src, long offset) throws IOException {
            if (full) {
                throw new IOException("overlay.ovl: No space left on device");
            }
            src.get(bytes, (int) offset, src.remaining());
        }

        @Override
        public void flush() {
            flushes++;
        }

        @Override
        public void close() {
        }
    }

    private final List<String> log = new ArrayList<>();

    private RequestGateway gateway(Disk disk, boolean writable, boolean debug) {
        return new RequestGateway(disk, writable, new FailureLog("/dev/test0", log::add, debug));
    }

    @Test
    void rangesOutsideTheDiskAreInvalidOrOutOfSpace() {
        RequestGateway g = gateway(new Disk(true), true, false);
        assertEquals(Errno.EINVAL, g.read(ByteBuffer.allocate(4096), SIZE - 2048));
        assertEquals(Errno.EINVAL, g.read(ByteBuffer.allocate(1), -1));
        assertEquals(Errno.EINVAL, g.map(SIZE, 1, run -> { }));
        assertEquals(Errno.EINVAL, g.trim(0, SIZE + 1L, false));
        assertEquals(Errno.ENOSPC, g.write(ByteBuffer.allocate(4096), SIZE - 2048, false));
        assertEquals(Errno.ENOSPC, g.writeZeroes(Long.MAX_VALUE, 4096, false));
        assertEquals(0, g.read(ByteBuffer.allocate(0), SIZE), "an empty read at the very end is fine");
        assertTrue(log.isEmpty(), "the client's mistakes are not the image's failures: " + log);
    }

    @Test
    void aReadOnlyGatewayRefusesChangesEvenOfAWritableDisk() {
        Disk disk = new Disk(true);
        RequestGateway g = gateway(disk, false, false);
        assertEquals(Errno.EROFS, g.write(ByteBuffer.allocate(512), 0, false));
        assertEquals(Errno.EROFS, g.trim(0, 512, false));
        assertEquals(Errno.EROFS, g.writeZeroes(0, 512, false));
        assertEquals(0, g.flush());
        assertEquals(7, disk.bytes[0]);
        assertEquals(false, g.capabilities().writable());
        assertThrows(IllegalArgumentException.class, () -> gateway(new Disk(false), true, false));
    }

    @Test
    void writesZeroesAndFuaReachTheDisk() {
        Disk disk = new Disk(true);
        RequestGateway g = gateway(disk, true, false);
        assertEquals(0, g.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 100, true));
        assertEquals(1, disk.flushes);
        assertEquals(0, g.writeZeroes(1000, 3000, false));
        byte[] back = new byte[4000];
        assertEquals(0, g.read(ByteBuffer.wrap(back), 100));
        assertArrayEquals(new byte[] {1, 2, 3, 7}, Arrays.copyOf(back, 4));
        assertArrayEquals(new byte[3000], Arrays.copyOfRange(back, 900, 3900));
        assertEquals(7, back[3900]);
    }

    @Test
    void failuresBecomeOneErrnoAndOneLinePerKind() {
        Disk disk = new Disk(true);
        RequestGateway g = gateway(disk, true, false);
        for (int i = 0; i < 50; i++) {
            assertEquals(Errno.EIO, g.read(ByteBuffer.allocate(4096), SIZE / 2 + 512L * i));
        }
        disk.full = true;
        assertEquals(Errno.ENOSPC, g.write(ByteBuffer.allocate(4096), 0, false));
        assertEquals(Errno.ENOSPC, g.write(ByteBuffer.allocate(4096), 8192, false));
        assertEquals(2, log.size(), log.toString());
        assertEquals("/dev/test0: read of 4096 bytes at offset 32768 failed: disk.qcow2: L2 table at offset 33768 "
                + "is past the end of the file (answered EIO; later failures like it are counted, not logged)", log.get(0));
        assertTrue(log.get(1).startsWith("/dev/test0: write of 4096 bytes at offset 0 failed: overlay.ovl: No space"
                + " left on device (answered ENOSPC"), log.get(1));
        assertEquals(52, g.failures().failures());
        assertEquals("/dev/test0: 52 requests failed, of 2 kinds", g.failures().summary());
    }

    @Test
    void debugAddsTheStackTraceAndNothingElseChanges() {
        RequestGateway g = gateway(new Disk(false), false, true);
        assertEquals(Errno.EIO, g.read(ByteBuffer.allocate(4096), SIZE - 4096));
        assertEquals(1, log.size());
        assertTrue(log.get(0).contains("\njava.io.IOException: disk.qcow2: L2 table"), log.get(0));
        assertTrue(log.get(0).contains("\tat org.vdmount.mounter.gateway."), log.get(0));
    }

    @Test
    void runtimeFailuresAndExhaustionAreTranslatedToo() {
        RequestGateway g = new RequestGateway(new Disk(false) {
            @Override
            public void map(long offset, long length, RunSink sink) {
                if (offset == 0) {
                    throw new OutOfMemoryError("Java heap space");
                }
                throw new IllegalStateException("bug");
            }
        }, false, new FailureLog("x", log::add, false));
        assertEquals(Errno.ENOMEM, g.map(0, 10, run -> { }));
        assertEquals(Errno.EIO, g.map(10, 10, run -> { }));
        assertEquals(2, log.size(), log.toString());
        assertTrue(log.get(1).contains("IllegalStateException: bug"), log.get(1));
    }

    @Test
    void aSinkMayStopTheMapEarlyWithoutItBeingAFailure() {
        RequestGateway g = gateway(new Disk(false), false, false);
        List<Run> seen = new ArrayList<>();
        RequestGateway.StopMapping stop = new RequestGateway.StopMapping();
        assertEquals(0, g.map(0, SIZE, run -> {
            seen.add(run);
            throw stop;
        }));
        assertEquals(1, seen.size());
        assertNull(g.failures().summary());
    }

    @Test
    void newKindsPastTheCapAreCountedWithOneNotice() {
        RequestGateway g = new RequestGateway(new Disk(false) {
            @Override
            public void map(long offset, long length, RunSink sink) throws IOException {
                throw new IOException("failure kind " + (char) ('a' + offset % 26) + (char) ('a' + offset / 26));
            }
        }, false, new FailureLog("x", log::add, false));
        for (int i = 0; i < FailureLog.MAX_KINDS + 10; i++) {
            g.map(i, 1, run -> { });
        }
        assertEquals(FailureLog.MAX_KINDS + 1, log.size());
        assertTrue(log.get(FailureLog.MAX_KINDS).contains("further kinds are counted only"), log.toString());
        assertEquals(FailureLog.MAX_KINDS + 10, g.failures().failures());
    }
}
