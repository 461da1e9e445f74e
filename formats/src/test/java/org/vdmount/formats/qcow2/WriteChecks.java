package org.vdmount.formats.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/** What the qcow2 write tests share: images made by qemu-img, a byte-array model, qemu's verdicts. */
final class WriteChecks {
    private WriteChecks() {
    }

    static final OpenOptions WRITABLE = new OpenOptions(null, 0, true);

    /** {@code qemu-img create -f qcow2 -o OPTIONS image size}. */
    static Path create(Path dir, String name, String options, long size) throws Exception {
        Path image = dir.resolve(name);
        TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", "-o", options, image.toString(), Long.toString(size));
        return image;
    }

    static VirtualDisk openWritable(Path image) throws IOException {
        return Images.open(image, WRITABLE, warning -> { });
    }

    /** {@code qemu-img check}'s exit status (0 clean, 3 leaks only, 2 corruption) with its output. */
    static TestImages.Result check(Path image) throws Exception {
        return TestImages.runAllowingFailure(image.getParent(), "qemu-img", "check", image.toString());
    }

    static void assertClean(Path image) throws Exception {
        TestImages.Result r = check(image);
        assertEquals(0, r.exit(), "qemu-img check:\n" + r.output());
    }

    /** qemu's reading of the image equals {@code model}. */
    static void assertQemuReads(Path image, byte[] model) throws Exception {
        Path raw = TestImages.qemuRaw(image, "qcow2");
        byte[] bytes = Files.readAllBytes(raw);
        Files.delete(raw);
        assertEquals(model.length, bytes.length, "size");
        assertArrayEquals(model, bytes, "qemu-img convert -O raw differs from what was written");
    }

    /** A raw file of {@code size} random bytes (seeded), returned as read. */
    static byte[] randomRaw(Path file, int size, long seed) throws IOException {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        Files.write(file, bytes);
        return bytes;
    }

    static byte[] readAll(VirtualDisk disk) throws IOException {
        ByteBuffer all = ByteBuffer.allocate((int) disk.size());
        disk.read(all, 0);
        return all.array();
    }

    /**
     * Random writes (unaligned, crossing clusters, some whole clusters), discards and flushes,
     * applied to the disk and the model alike; reads checked against the model on the way.
     */
    static void randomWrites(VirtualDisk disk, byte[] model, Random random, int operations, int clusterSize)
            throws IOException {
        int size = model.length;
        for (int op = 0; op < operations; op++) {
            int kind = random.nextInt(20);
            int length = switch (random.nextInt(4)) {
                case 0 -> 1 + random.nextInt(512);
                case 1 -> clusterSize;
                case 2 -> 1 + random.nextInt(3 * clusterSize);
                default -> 1 + random.nextInt(64 * 1024);
            };
            length = Math.min(length, size);
            int offset = random.nextInt(size - length + 1);
            if (random.nextBoolean()) {
                offset &= -clusterSize;
            }
            if (kind == 0) {
                disk.flush();
            } else if (kind <= 2) {
                disk.discard(offset, length);
                java.util.Arrays.fill(model, offset, offset + length, (byte) 0);
            } else if (kind <= 4) {
                ByteBuffer got = ByteBuffer.allocate(length);
                disk.read(got, offset);
                assertArrayEquals(java.util.Arrays.copyOfRange(model, offset, offset + length), got.array(),
                        "read of " + length + " at " + offset + " after " + op + " operations");
            } else {
                byte[] data = new byte[length];
                random.nextBytes(data);
                disk.write(ByteBuffer.wrap(data), offset);
                System.arraycopy(data, 0, model, offset, length);
            }
        }
    }
    /**
     * Random writes of odd sizes and places at a finer grain than {@link #randomWrites}: pieces of
     * one {@code grain} (a subcluster), spans over several of them and over cluster boundaries,
     * whole clusters; offsets anywhere, or on a grain or cluster boundary. Discards (which read as
     * zeros after), flushes and reads checked against the model in between.
     */
    static void grainWrites(VirtualDisk disk, byte[] model, Random random, int operations, int clusterSize, int grain)
            throws IOException {
        int size = model.length;
        for (int op = 0; op < operations; op++) {
            int kind = random.nextInt(20);
            int length = switch (random.nextInt(6)) {
                case 0 -> 1 + random.nextInt(Math.max(1, grain / 2));
                case 1 -> grain * (1 + random.nextInt(3)) + random.nextInt(3) - 1;
                case 2 -> 1 + random.nextInt(4 * grain);
                case 3 -> clusterSize;
                case 4 -> 1 + random.nextInt(2 * clusterSize);
                default -> 1 + random.nextInt(64 * 1024);
            };
            length = Math.max(1, Math.min(length, size));
            int offset = random.nextInt(size - length + 1);
            switch (random.nextInt(3)) {
                case 0 -> offset &= -grain;
                case 1 -> offset &= -clusterSize;
                default -> { }
            }
            if (kind == 0) {
                disk.flush();
            } else if (kind <= 3) {
                disk.discard(offset, length);
                java.util.Arrays.fill(model, offset, offset + length, (byte) 0);
            } else if (kind <= 5) {
                ByteBuffer got = ByteBuffer.allocate(length);
                disk.read(got, offset);
                assertArrayEquals(java.util.Arrays.copyOfRange(model, offset, offset + length), got.array(),
                        "read of " + length + " at " + offset + " after " + op + " operations");
            } else {
                byte[] data = new byte[length];
                random.nextBytes(data);
                disk.write(ByteBuffer.wrap(data), offset);
                System.arraycopy(data, 0, model, offset, length);
            }
        }
    }
}
