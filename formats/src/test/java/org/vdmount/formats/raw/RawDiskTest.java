package org.vdmount.formats.raw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

class RawDiskTest {
    @TempDir
    Path dir;

    @Test
    void readsTheFileAsItIs() throws IOException {
        Path file = dir.resolve("disk.img");
        byte[] data = TestImages.pattern(100_000, 1);
        Files.write(file, data);
        try (VirtualDisk disk = Images.open(file)) {
            assertEquals("raw", disk.info().format());
            assertEquals(100_000, disk.size());
            ByteBuffer buf = ByteBuffer.allocate(777);
            disk.read(buf, 12_345);
            assertEquals(777, buf.position());
            byte[] expected = new byte[777];
            System.arraycopy(data, 12_345, expected, 0, 777);
            assertArrayEquals(expected, buf.array());
        }
    }

    @Test
    void mapsTheWholeFileAsOneDataRun() throws IOException {
        Path file = dir.resolve("disk.img");
        Files.write(file, new byte[4096]);
        try (VirtualDisk disk = Images.open(file)) {
            List<Run> runs = new ArrayList<>();
            disk.map(512, 1024, runs::add);
            assertEquals(List.of(Run.data(512, 1024, runs.get(0).storage(), 512)), runs);
            assertEquals(RunKind.DATA, runs.get(0).kind());
        }
    }

    @Test
    void refusesReadsOutsideTheDisk() throws IOException {
        Path file = dir.resolve("disk.img");
        Files.write(file, new byte[4096]);
        try (VirtualDisk disk = Images.open(file)) {
            ImageException e = assertThrows(ImageException.class, () -> disk.read(ByteBuffer.allocate(10), 4090));
            assertTrue(e.getMessage().contains("outside the disk"), e.getMessage());
        }
    }

    @Test
    void refusesASnapshotItCannotHave() throws IOException {
        Path file = dir.resolve("disk.img");
        Files.write(file, new byte[4096]);
        ImageException e = assertThrows(ImageException.class,
                () -> Images.open(file, org.vdmount.formats.OpenOptions.readOnly().withSnapshot("s1"), w -> { }));
        assertEquals(file + ": raw images have no internal snapshots (--snapshot s1)", e.getMessage());
    }

    @Test
    void namesAMissingFile() {
        ImageException e = assertThrows(ImageException.class, () -> Images.open(dir.resolve("nope.img")));
        assertEquals(dir.resolve("nope.img") + ": no such file", e.getMessage());
    }
}
