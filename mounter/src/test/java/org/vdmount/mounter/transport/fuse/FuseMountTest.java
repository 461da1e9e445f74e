package org.vdmount.mounter.transport.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.system.Errno;

/** The FUSE file system alone, mounted for real in a temporary directory. */
class FuseMountTest {
    private static final int MIB = 1 << 20;

    /** lseek with SEEK_DATA/SEEK_HOLE, which Java has no API for. */
    interface Seek extends Library {
        Seek C = Native.load("c", Seek.class);

        int open(String path, int flags) throws LastErrorException;

        long lseek(int fd, long offset, int whence) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    @TempDir
    Path dir;

    @Test
    void filesReadLikeTheirDisksListAndRefuseWrites() throws Exception {
        Path raw = dir.resolve("source.raw");
        byte[] source = new byte[9 * MIB + 4608];
        new Random(42).nextBytes(source);
        Files.write(raw, source);
        HoleyDisk holey = new HoleyDisk(4 * MIB, new long[] {MIB, 2 * MIB}, new long[] {3 * MIB, 3 * MIB + 4096});
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        try (VirtualDisk disk = Images.open(raw)) {
            Map<String, VirtualDisk> files = new LinkedHashMap<>();
            files.put("disk", disk);
            files.put("p1", holey);
            try (FuseMount mount = FuseMount.mount(mnt, files, 4)) {
                assertEquals(mnt.toAbsolutePath(), mount.mountPoint());
                assertTrue(mounted(mnt), "listed in /proc/mounts");
                try (Stream<Path> list = Files.list(mnt)) {
                    assertEquals(List.of("disk", "p1"),
                            list.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
                }
                assertEquals(source.length, Files.size(mnt.resolve("disk")));
                assertEquals("r--r--r--", java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(mnt.resolve("disk"))));
                assertArrayEquals(source, Files.readAllBytes(mnt.resolve("disk")));
                assertArrayEquals(holey.bytes(), Files.readAllBytes(mnt.resolve("p1")));
                assertFalse(Files.exists(mnt.resolve("p2")));
                readConcurrently(mnt.resolve("disk"), source);
                assertThrows(IOException.class, () -> FileChannel.open(mnt.resolve("disk"), StandardOpenOption.WRITE).close());
            }
            assertFalse(mounted(mnt), "unmounted on close");
        } finally {
            FuseMount.unmount(mnt, true);
        }
    }

    @Test
    void seekDataAndHoleFollowTheMap() throws Exception {
        HoleyDisk holey = new HoleyDisk(4 * MIB, new long[] {MIB, 2 * MIB}, new long[] {3 * MIB, 3 * MIB + 4096});
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        try (FuseMount mount = FuseMount.mount(mnt, Map.of("p1", holey), 2)) {
            int fd = Seek.C.open(mount.mountPoint().resolve("p1").toString(), 0);
            try {
                int data = 3;
                int hole = 4;
                assertEquals(MIB, Seek.C.lseek(fd, 0, data));
                assertEquals(MIB + 5, Seek.C.lseek(fd, MIB + 5, data));
                assertEquals(2 * MIB, Seek.C.lseek(fd, MIB, hole));
                assertEquals(3 * MIB, Seek.C.lseek(fd, 2 * MIB, data));
                assertEquals(3 * MIB + 4096, Seek.C.lseek(fd, 3 * MIB, hole));
                assertEquals(0, Seek.C.lseek(fd, 0, hole));
                LastErrorException past = assertThrows(LastErrorException.class, () -> Seek.C.lseek(fd, 3 * MIB + 8192, data));
                assertEquals(Errno.ENXIO, past.getErrorCode());
            } finally {
                Seek.C.close(fd);
            }
        } finally {
            FuseMount.unmount(mnt, true);
        }
    }

    @Test
    void writableDisksTakeWritesButCannotGrow() throws Exception {
        Path raw = dir.resolve("rw.raw");
        Files.write(raw, new byte[2 * MIB]);
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        try (VirtualDisk disk = Images.open(raw, new org.vdmount.formats.OpenOptions(null, 0, true), w -> { });
                FuseMount mount = FuseMount.mount(mnt, Map.of("disk", disk), 2)) {
            Path file = mount.mountPoint().resolve("disk");
            assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            byte[] data = new byte[300_000];
            new Random(3).nextBytes(data);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(data);
                while (b.hasRemaining()) {
                    ch.write(b, 12345 + b.position());
                }
                ch.force(false);
                // The disk cannot grow: a write across its end stops there, one past it fails (ENOSPC).
                assertEquals(5, ch.write(ByteBuffer.wrap(new byte[10]), 2 * MIB - 5));
                assertThrows(IOException.class, () -> ch.write(ByteBuffer.wrap(new byte[10]), 2 * MIB));
            }
            byte[] back = Files.readAllBytes(raw);
            assertArrayEquals(data, java.util.Arrays.copyOfRange(back, 12345, 12345 + data.length));
            assertEquals(2 * MIB, back.length);
        } finally {
            FuseMount.unmount(mnt, true);
        }
    }

    @Test
    void unmountFromOutsideEndsTheSession() throws Exception {
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        FuseMount mount = FuseMount.mount(mnt, Map.of("disk", new HoleyDisk(MIB)), 2);
        try {
            assertEquals(MIB, Files.size(mnt.resolve("disk")));
            assertTrue(FuseMount.unmount(mnt, false));
            assertTrue(mount.awaitUnmount(10, java.util.concurrent.TimeUnit.SECONDS), "readers end on ENODEV");
        } finally {
            mount.close();
        }
        assertFalse(mounted(mnt));
    }

    private static void readConcurrently(Path file, byte[] expected) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (FileChannel ch = FileChannel.open(file)) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                jobs.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    for (int i = 0; i < 200; i++) {
                        int len = 1 + r.nextInt(300_000);
                        int off = r.nextInt(expected.length - len);
                        ByteBuffer b = ByteBuffer.allocate(len);
                        while (b.hasRemaining()) {
                            ch.read(b, off + b.position());
                        }
                        for (int k = 0; k < len; k++) {
                            if (b.get(k) != expected[off + k]) {
                                throw new AssertionError("byte " + (off + k) + " differs");
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : jobs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    static boolean mounted(Path mountPoint) throws IOException {
        String target = " " + mountPoint.toAbsolutePath() + " ";
        return Files.readAllLines(Path.of("/proc/mounts")).stream().anyMatch(l -> l.contains(target));
    }
}
