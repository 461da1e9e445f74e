package org.vdmount.formats.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * Writing where other layers and other writers are involved: a backing chain, compressed clusters,
 * internal snapshots, concurrent threads, qemu writing before and after vdmount; and the images
 * vdmount refuses to write.
 */
class Qcow2WriteLayersTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void writesGoToTheTopAndCopyTheRestOfTheClusterFromTheBacking() throws Exception {
        Path base = WriteChecks.create(dir, "base.qcow2", "cluster_size=65536", 4 * MIB);
        TestImages.qemuIo(base, "qcow2", "write -P 0x11 0 4M");
        byte[] baseBefore = Files.readAllBytes(base);
        Path top = dir.resolve("top.qcow2");
        TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base.toString(), top.toString());
        byte[] model = new byte[4 * MIB];
        java.util.Arrays.fill(model, (byte) 0x11);
        try (VirtualDisk disk = WriteChecks.openWritable(top)) {
            WriteChecks.randomWrites(disk, model, new Random(7), 300, 65536);
            assertArrayEquals(model, WriteChecks.readAll(disk));
        }
        assertArrayEquals(baseBefore, Files.readAllBytes(base), "the backing file changed");
        WriteChecks.assertClean(top);
        WriteChecks.assertQemuReads(top, model);
    }

    @Test
    void overwritingCompressedClustersWritesNewOnesAndFreesTheOld() throws Exception {
        Path source = Qcow2Fixtures.sourceRaw(dir, "source.raw", 6 * MIB);
        Path image = dir.resolve("packed.qcow2");
        TestImages.qemuImg(dir, "convert", "-q", "-c", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=4096",
                source.toString(), image.toString());
        byte[] model = Files.readAllBytes(source);
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            WriteChecks.randomWrites(disk, model, new Random(8), 400, 4096);
            // Every compressed cluster overwritten, some only partly: all old host clusters are released.
            for (int at = 0; at < model.length; at += 4096) {
                byte[] bit = {(byte) at, 1, 2};
                disk.write(ByteBuffer.wrap(bit), at + 100);
                System.arraycopy(bit, 0, model, at + 100, bit.length);
            }
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
    }

    @Test
    void writingNeverChangesAnInternalSnapshot() throws Exception {
        Path image = WriteChecks.create(dir, "snap.qcow2", "cluster_size=4096", 4 * MIB);
        TestImages.qemuIo(image, "qcow2", "write -P 0x22 0 3M");
        TestImages.qemuImg(dir, "snapshot", "-c", "before", image.toString());
        Path before = dir.resolve("before.raw");
        TestImages.qemuImg(dir, "convert", "-l", "before", "-O", "raw", image.toString(), before.toString());
        byte[] snapshot = Files.readAllBytes(before);
        byte[] model = snapshot.clone();
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            WriteChecks.randomWrites(disk, model, new Random(9), 300, 4096);
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
        Files.delete(before);
        TestImages.qemuImg(dir, "convert", "-l", "before", "-O", "raw", image.toString(), before.toString());
        assertArrayEquals(snapshot, Files.readAllBytes(before), "the snapshot changed");
        // qemu can still delete the snapshot, and the image stays clean.
        TestImages.qemuImg(dir, "snapshot", "-d", "before", image.toString());
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
    }

    @Test
    void manyThreadsWritingTheSameUnallocatedClusters() throws Exception {
        int clusterSize = 65536;
        int threads = 8;
        Path image = WriteChecks.create(dir, "threads.qcow2", "cluster_size=65536", 8 * MIB);
        byte[] model = new byte[8 * MIB];
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> done = new ArrayList<>();
            int share = clusterSize / threads;
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    Random random = new Random(thread);
                    // Each thread owns one slice of every cluster: all of them race for each cluster.
                    for (int pass = 0; pass < 2; pass++) {
                        for (int c = 0; c < model.length / clusterSize; c++) {
                            int at = c * clusterSize + thread * share + random.nextInt(share / 2);
                            byte[] data = new byte[1 + random.nextInt(share / 2)];
                            random.nextBytes(data);
                            disk.write(ByteBuffer.wrap(data), at);
                            synchronized (model) {
                                System.arraycopy(data, 0, model, at, data.length);
                            }
                            ByteBuffer back = ByteBuffer.allocate(data.length);
                            disk.read(back, at);
                            assertArrayEquals(data, back.array());
                            if (random.nextInt(50) == 0) {
                                disk.flush();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
            assertArrayEquals(model, WriteChecks.readAll(disk));
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
    }

    @Test
    void qemuAndVdmountTakeTurnsWriting() throws Exception {
        Path image = WriteChecks.create(dir, "turns.qcow2", "cluster_size=65536", 4 * MIB);
        TestImages.qemuIo(image, "qcow2", "write -P 0x33 0 1M", "write -z 1M 512k", "write -P 0x44 3M 100k");
        byte[] model = Files.readAllBytes(TestImages.qemuRaw(image, "qcow2"));
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            WriteChecks.randomWrites(disk, model, new Random(10), 200, 65536);
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
        TestImages.qemuIo(image, "qcow2", "write -P 0x55 500k 1M", "discard 2M 256k");
        java.util.Arrays.fill(model, 500 * 1024, 500 * 1024 + MIB, (byte) 0x55);
        java.util.Arrays.fill(model, 2 * MIB, 2 * MIB + 256 * 1024, (byte) 0);
        WriteChecks.assertClean(image);
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            assertArrayEquals(model, WriteChecks.readAll(disk));
        }
    }

    @Test
    void refusesToWriteWhatItCannotKeepConsistent() throws Exception {
        Path corrupt = WriteChecks.create(dir, "corrupt.qcow2", "compat=1.1", MIB);
        Qcow2Fixtures.patch(corrupt, 72, ByteBuffer.allocate(8).putLong(0, 2));
        assertRefused(corrupt, "marked corrupt");

        Path dirty = WriteChecks.create(dir, "dirty.qcow2", "compat=1.1,lazy_refcounts=on", MIB);
        Qcow2Fixtures.patch(dirty, 72, ByteBuffer.allocate(8).putLong(0, 1));
        assertRefused(dirty, "qemu-img check -r all");


        // Read-only opening of the same images still works.
        try (VirtualDisk disk = org.vdmount.formats.Images.open(corrupt, OpenOptions.readOnly(), warning -> { })) {
            assertFalse(disk.writable());
        }
    }

    @Test
    void lazyRefcountsImagesClosedCleanlyAreWrittenWithExactRefcounts() throws Exception {
        Path image = WriteChecks.create(dir, "lazy.qcow2", "compat=1.1,lazy_refcounts=on", 2 * MIB);
        byte[] model = new byte[2 * MIB];
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            assertTrue(disk.writable());
            WriteChecks.randomWrites(disk, model, new Random(11), 100, 65536);
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
    }

    @Test
    void qemuAndVdmountSeeEachOthersLocks() throws Exception {
        Path image = WriteChecks.create(dir, "locked.qcow2", "cluster_size=65536", MIB);
        Process qemu = new ProcessBuilder("qemu-io", "-f", "qcow2", image.toString()).redirectErrorStream(true).start();
        try {
            byte[] prompt = new byte[9];
            int got = 0;
            while (got < prompt.length) { // "qemu-io> ": the image is open and locked
                int n = qemu.getInputStream().read(prompt, got, prompt.length - got);
                assertTrue(n > 0, "qemu-io ended: " + new String(prompt, 0, got));
                got += n;
            }
            ImageException e = assertThrows(ImageException.class, () -> WriteChecks.openWritable(image).close());
            assertTrue(e.getMessage().contains("is being written by qemu-io (pid " + qemu.pid() + ")"), e.getMessage());
        } finally {
            qemu.getOutputStream().close();
            qemu.waitFor();
        }
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            disk.write(ByteBuffer.wrap(new byte[] {1}), 0);
            TestImages.Result writer = TestImages.runAllowingFailure(dir, "qemu-io", "-f", "qcow2", "-c",
                    "write 0 512", image.toString());
            assertTrue(writer.exit() != 0 && writer.output().contains("lock"), writer.output());
            TestImages.Result reader = TestImages.runAllowingFailure(dir, "qemu-img", "info", image.toString());
            assertTrue(reader.exit() != 0 && reader.output().contains("lock"), reader.output());
        }
        TestImages.run(dir, "qemu-img", "info", image.toString());
        WriteChecks.assertClean(image);
    }

    private static void assertRefused(Path image, String reason) {
        ImageException e = assertThrows(ImageException.class, () -> WriteChecks.openWritable(image).close());
        assertTrue(e.getMessage().contains(image.getFileName().toString()), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), e.getMessage());
    }
}
