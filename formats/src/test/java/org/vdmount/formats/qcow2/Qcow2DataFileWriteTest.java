package org.vdmount.formats.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * Writing qcow2 images whose guest data lives in an external data file, made by qemu-img: data goes
 * to the data file at its guest offset, metadata to the image file. Random writes, discards and
 * flushes are compared with a byte-array model; qemu-img check must find the image clean and
 * qemu-img convert must read the model; a raw data file ({@code data_file_raw=on}) must read as the
 * model itself at every step; qemu and vdmount write in turns; the data file is locked as qemu
 * locks it.
 */
class Qcow2DataFileWriteTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "raw data file, 64k clusters; data_file_raw=on,cluster_size=65536; 65536; 65536",
        "data file, 64k clusters; data_file_raw=off,cluster_size=65536; 65536; 65536",
        "data file, 4k clusters, 1-bit refcounts; data_file_raw=off,cluster_size=4096,refcount_bits=1; 4096; 4096",
        "data file, extended L2, 16k clusters; data_file_raw=off,extended_l2=on,cluster_size=16384; 16384; 512",
        "raw data file, extended L2, 16k clusters; data_file_raw=on,extended_l2=on,cluster_size=16384; 16384; 512",
    })
    void randomWritesAgreeWithQemu(String name, String options, int clusterSize, int grain) throws Exception {
        int size = 6 * MIB - 3584;
        Path image = WriteChecks.create(dir, "ext.qcow2", "data_file=ext.data," + options, size);
        Path data = dir.resolve("ext.data");
        boolean raw = options.contains("data_file_raw=on");
        long imageBefore = Files.size(image);
        long dataBefore = Files.size(data);
        byte[] model = new byte[size];
        Random random = new Random(name.hashCode());
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            assertTrue(disk.writable());
            // The first cluster lives at offset 0 of the data file, where only COPIED tells it from
            // an unallocated one: written, zeroed whole, written in part.
            byte[] first = new byte[clusterSize];
            random.nextBytes(first);
            disk.write(ByteBuffer.wrap(first), 0);
            System.arraycopy(first, 0, model, 0, clusterSize);
            disk.flush();
            disk.discard(0, clusterSize);
            Arrays.fill(model, 0, clusterSize, (byte) 0);
            if (raw) {
                disk.flush();
                assertRawDataFile(data, model, "after the first cluster was zeroed");
            }
            disk.write(ByteBuffer.wrap(first, 0, 1000), 100);
            System.arraycopy(first, 0, model, 100, 1000);
            WriteChecks.grainWrites(disk, model, random, 300, clusterSize, grain);
            assertArrayEquals(model, WriteChecks.readAll(disk));
            if (raw) {
                disk.flush();
                assertRawDataFile(data, model, "while the image is open, after a flush");
            }
        }
        assertWritten(image, data, raw, model, imageBefore, dataBefore);
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            WriteChecks.grainWrites(disk, model, random, 100, clusterSize, grain);
        }
        assertWritten(image, data, raw, model, imageBefore, dataBefore);
    }

    @ParameterizedTest(name = "data_file_raw={0}")
    @ValueSource(strings = {"on", "off"})
    void qemuThenVdmountThenQemuAgain(String rawData) throws Exception {
        int cluster = 65536;
        int size = 6 * MIB;
        Path image = WriteChecks.create(dir, "turns.qcow2", "data_file=turns.data,data_file_raw=" + rawData, size);
        Path data = dir.resolve("turns.data");
        boolean raw = rawData.equals("on");
        long imageBefore = Files.size(image);
        long dataBefore = Files.size(data);
        byte[] model = new byte[size];
        Random random = new Random(rawData.hashCode());
        qemuWrites(image, model, random, 40, cluster);
        assertWritten(image, data, raw, model, imageBefore, dataBefore);
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            assertArrayEquals(model, WriteChecks.readAll(disk), "vdmount reads qemu's writes differently");
            WriteChecks.grainWrites(disk, model, random, 300, cluster, 512);
        }
        assertWritten(image, data, raw, model, imageBefore, dataBefore);
        qemuWrites(image, model, random, 40, cluster);
        assertWritten(image, data, raw, model, imageBefore, dataBefore);
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            assertArrayEquals(model, WriteChecks.readAll(disk), "vdmount reads qemu's second writes differently");
        }
    }

    @Test
    void theDataFileIsLockedAsQemuLocksIt() throws Exception {
        Path image = WriteChecks.create(dir, "locked.qcow2", "data_file=locked.data", MIB);
        Path data = dir.resolve("locked.data");
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            disk.write(ByteBuffer.wrap(new byte[] {1}), 0);
            TestImages.Result writer = TestImages.runAllowingFailure(dir, "qemu-io", "-f", "raw", "-c",
                    "write 0 512", data.toString());
            assertTrue(writer.exit() != 0 && writer.output().contains("lock"), writer.output());
            // (qemu's raw driver reading a raw file lets writers in; vdmount's readers do not.)
            ImageException e = assertThrows(ImageException.class, () -> Images.open(data).close());
            assertTrue(e.getMessage().contains("is being written by"), e.getMessage());
        }
        TestImages.run(dir, "qemu-io", "-f", "raw", "-c", "read 0 512", data.toString());
        WriteChecks.assertClean(image);
    }

    @Test
    void refusesADataFileThatIsTheImageOrItsBackingFile() throws Exception {
        WriteChecks.randomRaw(dir.resolve("base.raw"), MIB, 17);
        Path image = dir.resolve("me.qcow2");
        TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", "-o", "data_file=ext.data", "-b", "base.raw",
                "-F", "raw", image.toString(), "1M");
        String head = new String(Files.readAllBytes(image), 0, 65536, java.nio.charset.StandardCharsets.ISO_8859_1);
        int name = head.indexOf("ext.data"); // the data file name extension (as long as the names below)
        assertTrue(name > 0, "no data file name found");
        for (String other : List.of("me.qcow2", "base.raw")) {
            Qcow2Fixtures.patch(image, name, ByteBuffer.wrap(other.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            ImageException e = assertThrows(ImageException.class, () -> WriteChecks.openWritable(image).close());
            assertTrue(e.getMessage().startsWith(image + ": cannot open for writing: its external data file "),
                    e.getMessage());
            assertTrue(e.getMessage().endsWith(", which guest data would overwrite"), e.getMessage());
        }
        assertEquals(MIB, Files.size(dir.resolve("base.raw")));
    }

    /**
     * qemu-img check clean, qemu reading the model, the data file still as large as qemu made it
     * (and, raw, the disk itself), the image file no larger than its metadata can grow to.
     */
    private static void assertWritten(Path image, Path data, boolean raw, byte[] model, long imageBefore,
            long dataBefore) throws Exception {
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
        assertEquals(dataBefore, Files.size(data), "the data file's size");
        if (raw) {
            assertRawDataFile(data, model, "after closing");
            String info = TestImages.run(image.getParent(), "qemu-img", "info", image.toString());
            assertTrue(info.contains("data file raw: true"), "the header lost data_file_raw:\n" + info);
        }
        // Guest data never goes into the image file: L2 tables and refcount blocks at most.
        assertTrue(Files.size(image) <= imageBefore + 64 * 65536L,
                "the image file grew from " + imageBefore + " to " + Files.size(image) + " bytes");
    }

    /** The raw data file reads as the disk (qemu makes it a whole number of clusters: zeros after the disk). */
    private static void assertRawDataFile(Path data, byte[] model, String when) throws Exception {
        byte[] bytes = Files.readAllBytes(data);
        byte[] expected = Arrays.copyOf(model, Math.max(model.length, bytes.length));
        int at = Arrays.mismatch(bytes, expected);
        assertEquals(-1, at, "the raw data file differs from the disk " + when + ", from byte " + at);
    }

    /** qemu-io writes, write-zeroes and cluster-aligned discards, applied to the model too. */
    private static void qemuWrites(Path image, byte[] model, Random random, int count, int cluster) throws Exception {
        List<String> commands = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int kind = random.nextInt(4);
            int length = 1 + random.nextInt(kind == 0 ? 3000 : 3 * cluster);
            int offset = random.nextInt(model.length - length);
            if (kind == 3) {
                offset &= -cluster;
                length = Math.min(cluster * (1 + random.nextInt(3)), model.length - offset);
                commands.add("discard " + offset + " " + length);
            } else if (kind == 2) {
                commands.add("write -z " + offset + " " + length);
            } else {
                int pattern = 1 + random.nextInt(255);
                commands.add("write -P " + pattern + " " + offset + " " + length);
                Arrays.fill(model, offset, offset + length, (byte) pattern);
                continue;
            }
            Arrays.fill(model, offset, offset + length, (byte) 0);
        }
        TestImages.qemuIo(image, "qcow2", commands.toArray(String[]::new));
    }
}
