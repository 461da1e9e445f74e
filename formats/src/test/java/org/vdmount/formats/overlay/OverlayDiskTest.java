package org.vdmount.formats.overlay;

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
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

class OverlayDiskTest {
    private static final int SIZE = 3 * 1024 * 1024 + 4096;

    @TempDir
    Path dir;

    private Path base() throws IOException {
        Path base = dir.resolve("base.img");
        Files.write(base, TestImages.pattern(SIZE, 5));
        return base;
    }

    private static byte[] readAll(VirtualDisk disk) throws IOException {
        ByteBuffer all = ByteBuffer.allocate((int) disk.size());
        disk.read(all, 0);
        return all.array();
    }

    @Test
    void writesLandInTheOverlayAndTheBaseStaysUntouched() throws IOException {
        Path base = base();
        byte[] original = Files.readAllBytes(base);
        byte[] model = original.clone();
        Path overlay = dir.resolve("changes.ovl");
        Random random = new Random(42);
        try (VirtualDisk disk = OverlayDisk.open(Images.open(base), overlay)) {
            for (int i = 0; i < 200; i++) {
                int len = 1 + random.nextInt(200_000);
                int at = random.nextInt(SIZE - len);
                if (random.nextInt(5) == 0) {
                    disk.discard(at, len);
                    java.util.Arrays.fill(model, at, at + len, (byte) 0);
                } else {
                    byte[] data = TestImages.pattern(len, i + 100);
                    disk.write(ByteBuffer.wrap(data), at);
                    System.arraycopy(data, 0, model, at, len);
                }
            }
            assertArrayEquals(model, readAll(disk));
        }
        assertArrayEquals(original, Files.readAllBytes(base), "the base image must not change");
        try (VirtualDisk again = OverlayDisk.open(Images.open(base), overlay)) {
            assertArrayEquals(model, readAll(again), "a re-opened overlay must show the writes");
        }
    }

    @Test
    void mapsOverlayBlocksAsDataAndTheRestAsTheBase() throws IOException {
        Path base = base();
        try (VirtualDisk disk = OverlayDisk.open(Images.open(base), dir.resolve("o.ovl"))) {
            disk.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 70_000);
            disk.discard(2 * 65536, 65536);
            List<Run> runs = new ArrayList<>();
            disk.map(0, 4 * 65536, runs::add);
            assertEquals(RunKind.DATA, runs.get(0).kind());
            assertEquals(base.toString(), runs.get(0).storage().name());
            assertEquals(RunKind.DATA, runs.get(1).kind());
            assertEquals(dir.resolve("o.ovl").toString(), runs.get(1).storage().name());
            assertEquals(RunKind.ZERO, runs.get(2).kind());
            assertEquals(RunKind.DATA, runs.get(3).kind());
        }
    }

    @Test
    void refusesAnOverlayOfAnotherSizeOrAFileThatIsNoOverlay() throws IOException {
        Path base = base();
        Path overlay = dir.resolve("o.ovl");
        OverlayDisk.open(Images.open(base), overlay).close();
        Path small = dir.resolve("small.img");
        Files.write(small, new byte[65536]);
        ImageException e = assertThrows(ImageException.class, () -> OverlayDisk.open(Images.open(small), overlay));
        assertTrue(e.getMessage().contains("was made for a disk of " + SIZE + " bytes"), e.getMessage());
        Path notOverlay = dir.resolve("precious.txt");
        Files.write(notOverlay, TestImages.pattern(8192, 1));
        byte[] before = Files.readAllBytes(notOverlay);
        e = assertThrows(ImageException.class, () -> OverlayDisk.open(Images.open(base), notOverlay));
        assertTrue(e.getMessage().contains("not a vdmount overlay"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(notOverlay));
    }
}
