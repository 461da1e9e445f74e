package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.vdmount.formats.testing.TestImages;

/** Source data and header surgery for the qcow2 tests. */
final class Qcow2Fixtures {
    static final int MIB = 1 << 20;

    private Qcow2Fixtures() {
    }

    /**
     * A raw file of {@code size} bytes with holes, random stretches and compressible text at offsets
     * that straddle cluster boundaries of every size class.
     */
    static Path sourceRaw(Path dir, String name, long size) throws IOException {
        Path raw = dir.resolve(name);
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.truncate(size);
        }
        TestImages.writePattern(raw, 0, 70_000, 1);
        writeText(raw, 300_000, 900_000, 2);
        TestImages.writePattern(raw, 2 * MIB - 1000, 5000, 3);
        writeText(raw, 3 * MIB + 512, 2 * MIB + 77, 4);
        TestImages.writePattern(raw, size - 4096, 4096, 5);
        resize(raw, size);
        return raw;
    }

    /** Compressible bytes: words from a small vocabulary in a repeatable order. */
    static void writeText(Path raw, long offset, int length, int seed) throws IOException {
        String[] words = {"qcow2 ", "cluster ", "backing ", "snapshot ", "forensic ", "zero ", "L2 ", "table\n"};
        byte[] noise = TestImages.pattern(length, seed);
        byte[] out = new byte[length];
        int at = 0;
        int i = 0;
        while (at < length) {
            byte[] w = words[(noise[i++ % length] & 0xff) % words.length].getBytes();
            int n = Math.min(w.length, length - at);
            System.arraycopy(w, 0, out, at, n);
            at += n;
        }
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(out);
            while (b.hasRemaining()) {
                ch.write(b, offset + b.position());
            }
        }
    }

    static void resize(Path raw, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
            if (ch.size() > size) {
                ch.truncate(size);
            } else if (ch.size() < size) {
                ch.write(ByteBuffer.allocate(1), size - 1);
            }
        }
    }

    /** Overwrites bytes of a file at {@code offset} (big-endian fields). */
    static void patch(Path file, long offset, ByteBuffer bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            while (bytes.hasRemaining()) {
                ch.write(bytes, offset + bytes.position());
            }
        }
    }

    static void patchInt(Path file, long offset, int value) throws IOException {
        patch(file, offset, ByteBuffer.allocate(4).putInt(0, value));
    }

    static void patchLong(Path file, long offset, long value) throws IOException {
        patch(file, offset, ByteBuffer.allocate(8).putLong(0, value));
    }

    static long readLong(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(8);
            ch.read(b, offset);
            return b.getLong(0);
        }
    }

    static int readInt(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4);
            ch.read(b, offset);
            return b.getInt(0);
        }
    }
}
