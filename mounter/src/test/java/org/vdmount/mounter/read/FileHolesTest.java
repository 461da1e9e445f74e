package org.vdmount.mounter.read;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileHolesTest {
    private static final long MIB = 1L << 20;

    @TempDir
    Path dir;

    @Test
    void aSparseFileIsAskedPerStretch() throws IOException {
        // 1 MiB of data, a hole far larger than the slack, 1 MiB of data: the file is sparse.
        Path file = dir.resolve("sparse.img");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            write(ch, 0, MIB);
            write(ch, 2 * FileHoles.SLACK, MIB);
        }
        long tail = 2 * FileHoles.SLACK;
        try (FileHoles holes = new FileHoles()) {
            assertTrue(holes.allocated(file, 0, MIB), "the first stored stretch");
            assertTrue(holes.allocated(file, tail, tail + MIB), "the last stored stretch");
            assertFalse(holes.allocated(file, 0, 2 * MIB), "a stretch running into the hole");
            assertFalse(holes.allocated(file, 4 * MIB, 8 * MIB), "a stretch inside the hole");
            assertFalse(holes.allocated(file, tail - MIB, tail + MIB), "a stretch coming out of the hole");
        }
    }

    @Test
    void aFileStoredInFullIsOneStatCall() throws IOException {
        Path file = dir.resolve("full.img");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            write(ch, 0, 4 * MIB);
        }
        try (FileHoles holes = new FileHoles()) {
            assertTrue(holes.allocated(file, 0, 4 * MIB));
            assertTrue(holes.allocated(file, MIB, 2 * MIB));
        }
    }

    @Test
    void aFileThatCannotBeAskedHasHoles() {
        try (FileHoles holes = new FileHoles()) {
            assertFalse(holes.allocated(dir.resolve("missing.img"), 0, MIB));
        }
    }

    private static void write(FileChannel ch, long at, long length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) length);
        while (b.hasRemaining()) {
            b.put((byte) 0x5a);
        }
        b.flip();
        while (b.hasRemaining()) {
            ch.write(b, at + b.position());
        }
    }
}
