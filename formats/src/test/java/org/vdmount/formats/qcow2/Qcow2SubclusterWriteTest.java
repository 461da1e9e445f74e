package org.vdmount.formats.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * Writing qcow2 images with extended L2 entries (32 subclusters per cluster), made by qemu-img:
 * random writes, discards and flushes compared with a byte-array model (the backing file's bytes
 * where nothing was written), then qemu-img check clean and qemu-img convert equal to the model;
 * subcluster allocation as qemu's map shows it; compressed clusters, internal snapshots, threads;
 * qemu and vdmount writing in turns.
 */
class Qcow2SubclusterWriteTest {
    private static final int MIB = 1 << 20;
    private static final Pattern MAP_ENTRY = Pattern.compile(
            "\\{ \"start\": (\\d+), \"length\": (\\d+), \"depth\": (\\d+), \"present\": (\\w+), \"zero\": (\\w+),"
                    + " \"data\": (\\w+)");

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} clusters, backing file: {1}")
    @CsvSource({
        "16384, false", "16384, true",
        "65536, false", "65536, true",
        "2097152, false", "2097152, true",
    })
    void randomWritesAgreeWithQemu(int clusterSize, boolean backing) throws Exception {
        int size = (clusterSize == 2 * MIB ? 20 : clusterSize == 16384 ? 4 : 8) * MIB - 3584;
        byte[] model = new byte[size];
        String options = "extended_l2=on,cluster_size=" + clusterSize;
        Path image = dir.resolve("xl2.qcow2");
        if (backing) {
            // Shorter than the image: past its end the backing file reads as zeros.
            byte[] base = WriteChecks.randomRaw(dir.resolve("base.raw"), size / 4 * 3 & -4096, clusterSize);
            System.arraycopy(base, 0, model, 0, base.length);
            TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", "-o", options, "-b", "base.raw", "-F", "raw",
                    image.toString(), Integer.toString(size));
        } else {
            WriteChecks.create(dir, "xl2.qcow2", options, size);
        }
        int grain = clusterSize / SubclusterWriter.SUBCLUSTERS;
        int operations = clusterSize == 2 * MIB ? 120 : 300;
        Random random = new Random(clusterSize * 31L + (backing ? 1 : 0));
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            assertTrue(disk.writable());
            WriteChecks.grainWrites(disk, model, random, operations, clusterSize, grain);
            assertArrayEquals(model, WriteChecks.readAll(disk));
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            WriteChecks.grainWrites(disk, model, random, operations / 3, clusterSize, grain);
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
    }

    @Test
    void aWriteAllocatesOnlyTheSubclustersItTouches() throws Exception {
        int cluster = 65536;
        int sub = cluster / 32;
        byte[] model = WriteChecks.randomRaw(dir.resolve("base.raw"), 4 * MIB, 5);
        Path image = dir.resolve("top.qcow2");
        TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", "-o", "extended_l2=on,cluster_size=65536",
                "-b", "base.raw", "-F", "raw", image.toString(), "4M");
        long at = 2L * cluster + 5L * sub - 50; // 100 bytes across subclusters 4 and 5 of cluster 2
        long zeroed = 3L * cluster + 7L * sub; // subclusters 7 and 8 of cluster 3, discarded
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            byte[] bytes = new byte[100];
            Arrays.fill(bytes, (byte) 0x5c);
            disk.write(ByteBuffer.wrap(bytes), at);
            System.arraycopy(bytes, 0, model, (int) at, bytes.length);
            disk.discard(zeroed, 2L * sub);
            Arrays.fill(model, (int) zeroed, (int) zeroed + 2 * sub, (byte) 0);
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
        assertEquals(List.of((2L * cluster + 4L * sub) + "+" + 2 * sub + " data", zeroed + "+" + 2 * sub + " zero"),
                topLayer(image), "the image's own ranges are not just the written and the zeroed subclusters");
    }

    @Test
    void overwrittenCompressedClustersBecomeNormalOnesWithEverySubclusterAllocated() throws Exception {
        Path source = Qcow2Fixtures.sourceRaw(dir, "source.raw", 4 * MIB);
        Path image = dir.resolve("packed.qcow2");
        TestImages.qemuImg(dir, "convert", "-q", "-c", "-f", "raw", "-O", "qcow2", "-o",
                "extended_l2=on,cluster_size=16384", source.toString(), image.toString());
        byte[] model = Files.readAllBytes(source);
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            WriteChecks.grainWrites(disk, model, new Random(12), 200, 16384, 512);
            for (int at = 0; at < model.length; at += 16384 * 3) {
                byte[] bit = {(byte) at, 1, 2};
                disk.write(ByteBuffer.wrap(bit), at + 700);
                System.arraycopy(bit, 0, model, at + 700, bit.length);
            }
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
    }

    @Test
    void writingNeverChangesAnInternalSnapshot() throws Exception {
        // Over a backing file, so that a lost zero bit or allocation bit shows as the backing file's bytes.
        WriteChecks.randomRaw(dir.resolve("base.raw"), 4 * MIB, 13);
        Path image = dir.resolve("snap.qcow2");
        TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", "-o", "extended_l2=on,cluster_size=16384",
                "-b", "base.raw", "-F", "raw", image.toString(), "4M");
        TestImages.qemuIo(image, "qcow2", "write -P 0x22 1k 3k", "write -P 0x23 100k 1M", "write -z 300k 8k",
                "write -P 0x24 2M 17k", "write -z 3M 64k");
        TestImages.qemuImg(dir, "snapshot", "-c", "before", image.toString());
        Path before = dir.resolve("before.raw");
        TestImages.qemuImg(dir, "convert", "-l", "before", "-O", "raw", image.toString(), before.toString());
        byte[] snapshot = Files.readAllBytes(before);
        byte[] model = snapshot.clone();
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            WriteChecks.grainWrites(disk, model, new Random(13), 300, 16384, 512);
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
        Files.delete(before);
        TestImages.qemuImg(dir, "convert", "-l", "before", "-O", "raw", image.toString(), before.toString());
        assertArrayEquals(snapshot, Files.readAllBytes(before), "the snapshot changed");
        TestImages.qemuImg(dir, "snapshot", "-d", "before", image.toString());
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
    }

    @Test
    void threadsWritingSubclustersOfTheSameClusters() throws Exception {
        int cluster = 65536;
        int threads = 4;
        byte[] model = WriteChecks.randomRaw(dir.resolve("base.raw"), 4 * MIB, 14);
        Path image = dir.resolve("threads.qcow2");
        TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", "-o", "extended_l2=on,cluster_size=65536",
                "-b", "base.raw", "-F", "raw", image.toString(), "4M");
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> done = new ArrayList<>();
            int share = cluster / threads;
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    Random random = new Random(thread);
                    for (int pass = 0; pass < 2; pass++) {
                        for (int c = 0; c < model.length / cluster; c++) {
                            int at = c * cluster + thread * share + random.nextInt(share / 2);
                            byte[] data = new byte[1 + random.nextInt(share / 2)];
                            random.nextBytes(data);
                            disk.write(ByteBuffer.wrap(data), at);
                            synchronized (model) {
                                System.arraycopy(data, 0, model, at, data.length);
                            }
                            ByteBuffer back = ByteBuffer.allocate(data.length);
                            disk.read(back, at);
                            assertArrayEquals(data, back.array());
                            if (random.nextInt(30) == 0) {
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
    void qemuThenVdmountThenQemuAgain() throws Exception {
        int cluster = 65536;
        byte[] model = new byte[6 * MIB];
        byte[] base = WriteChecks.randomRaw(dir.resolve("base.raw"), 5 * MIB, 15);
        System.arraycopy(base, 0, model, 0, base.length);
        Path image = dir.resolve("turns.qcow2");
        TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", "-o", "extended_l2=on,cluster_size=65536",
                "-b", "base.raw", "-F", "raw", image.toString(), "6M");
        Random random = new Random(16);
        qemuWrites(image, model, random, 40, cluster);
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            assertArrayEquals(model, WriteChecks.readAll(disk), "vdmount reads qemu's writes differently");
            WriteChecks.grainWrites(disk, model, random, 300, cluster, cluster / 32);
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
        qemuWrites(image, model, random, 40, cluster);
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            assertArrayEquals(model, WriteChecks.readAll(disk), "vdmount reads qemu's second writes differently");
        }
    }

    /**
     * qemu-io writes, write-zeroes and (cluster-aligned: qemu ignores the rest) discards at random
     * places, applied to the model too, in one qemu-io run.
     */
    private static void qemuWrites(Path image, byte[] model, Random random, int count, int cluster) throws Exception {
        List<String> commands = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int kind = random.nextInt(4);
            int length = 1 + random.nextInt(kind == 0 ? 3000 : 3 * cluster);
            int offset = random.nextInt(model.length - length);
            if (kind == 3) {
                offset &= -cluster;
                length = cluster * (1 + random.nextInt(3));
                length = Math.min(length, model.length - offset);
                commands.add("discard " + offset + " " + length);
                Arrays.fill(model, offset, offset + length, (byte) 0);
            } else if (kind == 2) {
                commands.add("write -z " + offset + " " + length);
                Arrays.fill(model, offset, offset + length, (byte) 0);
            } else {
                int pattern = 1 + random.nextInt(255);
                commands.add("write -P " + pattern + " " + offset + " " + length);
                Arrays.fill(model, offset, offset + length, (byte) pattern);
            }
        }
        TestImages.qemuIo(image, "qcow2", commands.toArray(String[]::new));
    }

    /** The ranges qemu finds in the image itself (depth 0), as "start+length data|zero". */
    private List<String> topLayer(Path image) throws Exception {
        String map = TestImages.run(dir, "qemu-img", "map", "--output=json", image.toString());
        List<String> top = new ArrayList<>();
        Matcher m = MAP_ENTRY.matcher(map);
        while (m.find()) {
            if (m.group(3).equals("0")) {
                top.add(m.group(1) + "+" + m.group(2) + (Boolean.parseBoolean(m.group(6)) ? " data" : " zero"));
            }
        }
        return top;
    }
}
