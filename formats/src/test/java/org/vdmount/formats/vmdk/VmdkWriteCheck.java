package org.vdmount.formats.vmdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * What the VMDK write tests share: a raw model file that takes the same writes as the image, the
 * checks qemu makes of the result, and a look at the grain directories in the file.
 */
final class VmdkWriteCheck {
    private VmdkWriteCheck() {
    }

    /** The tests need qemu-img and qemu-io (CI installs them); without them they are skipped. */
    static void assumeQemu() {
        Assumptions.assumeTrue(onPath("qemu-img") && onPath("qemu-io"), "qemu-img and qemu-io are not installed");
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** A sparse raw file of {@code size} bytes: the model every write also goes to. */
    static Path model(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.truncate(size);
            ch.write(ByteBuffer.allocate(1), size - 1);
        }
        return file;
    }

    /** Writes {@code data} at {@code offset} to the disk and to the model. */
    static void write(VirtualDisk disk, Path model, long offset, byte[] data) throws IOException {
        disk.write(ByteBuffer.wrap(data), offset);
        try (FileChannel ch = FileChannel.open(model, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b, offset + b.position());
            }
        }
    }

    /** Discards a range of the disk; the model gets zeros there. */
    static void discard(VirtualDisk disk, Path model, long offset, int length) throws IOException {
        disk.discard(offset, length);
        try (FileChannel ch = FileChannel.open(model, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate(length);
            while (zeros.hasRemaining()) {
                ch.write(zeros, offset + zeros.position());
            }
        }
    }

    /**
     * qemu's verdict: {@code qemu-img check} exits 0, and qemu reads the image exactly as the model
     * ({@code qemu-img compare}, which compares every byte, skipping only what both say is a hole).
     */
    static void assertQemuAgrees(Path vmdk, Path model) throws Exception {
        TestImages.qemuImg(vmdk.getParent(), "check", vmdk.toString());
        TestImages.qemuImg(vmdk.getParent(), "compare", "-f", "raw", "-F", "vmdk", model.toString(), vmdk.toString());
    }

    /** As {@link #assertQemuAgrees}, and {@code qemu-img convert -O raw} gives the model's bytes. */
    static void assertConvertsToModel(Path vmdk, Path model) throws Exception {
        assertQemuAgrees(vmdk, model);
        Path raw = TestImages.qemuRaw(vmdk, "vmdk");
        try {
            assertEquals(-1L, Files.mismatch(raw, model), "qemu-img convert -O raw differs from the model");
        } finally {
            Files.deleteIfExists(raw);
        }
    }

    /** Asserts that {@code disk} reads {@code [offset, offset + length)} as the model has it. */
    static void assertReads(VirtualDisk disk, Path model, long offset, int length) throws IOException {
        ByteBuffer want = ByteBuffer.allocate(length);
        try (FileChannel ch = FileChannel.open(model, StandardOpenOption.READ)) {
            while (want.hasRemaining() && ch.read(want, offset + want.position()) >= 0) {
                // read on until full
            }
        }
        ByteBuffer got = ByteBuffer.allocate(length);
        disk.read(got, offset);
        assertArrayEquals(want.array(), got.array(), "bytes at offset " + offset);
    }

    /** The grain directories of a hosted sparse extent file, as written. */
    record Directories(long[] primary, long[] redundant, int tableBytes) {
    }

    static Directories directories(Path extent) throws IOException {
        try (FileChannel ch = FileChannel.open(extent, StandardOpenOption.READ)) {
            ByteBuffer h = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            long capacity = h.getLong(12);
            long grain = h.getLong(20);
            int gtes = h.getInt(44);
            long rgd = h.getLong(48);
            long gd = h.getLong(56);
            int entries = (int) ((capacity + grain * gtes - 1) / (grain * gtes));
            return new Directories(readInts(ch, gd * 512, entries), readInts(ch, rgd * 512, entries), 4 * gtes);
        }
    }

    /**
     * Asserts the redundant grain directory is in step with the primary one: a table in one has a
     * table in the other, with the same entries.
     */
    static void assertRedundantInStep(Path extent) throws IOException {
        Directories d = directories(extent);
        try (FileChannel ch = FileChannel.open(extent, StandardOpenOption.READ)) {
            for (int i = 0; i < d.primary().length; i++) {
                assertEquals(d.primary()[i] == 0, d.redundant()[i] == 0, extent + ": table " + i + " in one directory only");
                if (d.primary()[i] != 0) {
                    assertArrayEquals(readInts(ch, d.primary()[i] * 512, d.tableBytes() / 4),
                            readInts(ch, d.redundant()[i] * 512, d.tableBytes() / 4),
                            extent + ": grain table " + i + " differs from its redundant copy");
                }
            }
        }
    }

    private static long[] readInts(FileChannel ch, long at, int count) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining() && ch.read(b, at + b.position()) >= 0) {
            // read on until full
        }
        b.flip();
        long[] out = new long[count];
        for (int i = 0; i < count; i++) {
            out[i] = b.getInt() & 0xffffffffL;
        }
        return out;
    }

    /** Sets directory entry {@code index} to 0 in both directories: qemu then reads its grains as unallocated. */
    static void dropTable(Path extent, int index) throws IOException {
        try (FileChannel ch = FileChannel.open(extent, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer h = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            for (long dir : new long[] {h.getLong(48), h.getLong(56)}) {
                ch.write(ByteBuffer.allocate(4), dir * 512 + 4L * index);
            }
        }
    }

    private static final Pattern CID = Pattern.compile("(?m)^CID=([0-9a-fA-F]+)");
    private static final Pattern PARENT_CID = Pattern.compile("(?m)^parentCID=([0-9a-fA-F]+)");

    /** The CID written in a descriptor file or a monolithicSparse file's embedded descriptor. */
    static String cid(Path file) throws IOException {
        return find(CID, file);
    }

    static String parentCid(Path file) throws IOException {
        return find(PARENT_CID, file);
    }

    private static String find(Pattern p, Path file) throws IOException {
        byte[] head = new byte[(int) Math.min(Files.size(file), 64 * 1024)];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.read(ByteBuffer.wrap(head), 0);
        }
        Matcher m = p.matcher(new String(head, StandardCharsets.ISO_8859_1));
        assertTrue(m.find(), file + ": no " + p.pattern());
        return m.group(1);
    }
}
