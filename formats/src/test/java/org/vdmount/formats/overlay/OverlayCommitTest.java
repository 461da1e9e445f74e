package org.vdmount.formats.overlay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * Writes through an overlay (the qcow2 writer), read back by qemu; then committed into the image,
 * as qemu-img commit does, and the overlay emptied.
 */
class OverlayCommitTest {
    private static final int SIZE = 6 << 20;

    @TempDir
    Path dir;

    private Path rawBase() throws IOException {
        Path base = dir.resolve("base.img");
        Files.write(base, TestImages.pattern(SIZE, 11));
        return base;
    }

    /** Random writes and discards through an overlay of {@code image}; returns what the disk must read. */
    private byte[] writeThrough(Path image, Path overlay, byte[] model, long seed) throws IOException {
        Random random = new Random(seed);
        VirtualDisk base = Images.open(image);
        try (VirtualDisk disk = Overlays.open(image, base, overlay, w -> { })) {
            assertTrue(disk.writable());
            for (int i = 0; i < 60; i++) {
                int len = 1 + random.nextInt(200_000);
                int at = random.nextInt(SIZE - len);
                if (i % 6 == 5) {
                    disk.discard(at, len);
                    Arrays.fill(model, at, at + len, (byte) 0);
                } else {
                    byte[] data = TestImages.pattern(len, (int) seed * 1000 + i);
                    disk.write(ByteBuffer.wrap(data), at);
                    System.arraycopy(data, 0, model, at, len);
                }
            }
            disk.flush();
            ByteBuffer all = ByteBuffer.allocate(SIZE);
            disk.read(all, 0);
            assertArrayEquals(model, all.array(), "the overlay reads back what was written");
        }
        return model;
    }

    private static void assertChecksClean(Path image) throws Exception {
        String check = TestImages.qemuImg(image.getParent(), "check", image.toString());
        assertTrue(check.contains("No errors were found on the image."), check);
    }

    private static byte[] qemuBytes(Path image, String format) throws Exception {
        Path raw = TestImages.qemuRaw(image, format);
        byte[] bytes = Files.readAllBytes(raw);
        Files.delete(raw);
        return bytes;
    }

    @Test
    void writesLandInTheOverlayQemuReadsThemAndTheImageStaysAsItWas() throws Exception {
        Path raw = rawBase();
        Path qcow2 = dir.resolve("base.qcow2");
        TestImages.qemuImg(dir, "convert", "-O", "qcow2", raw.toString(), qcow2.toString());
        Path vmdk = dir.resolve("base.vmdk");
        TestImages.qemuImg(dir, "convert", "-O", "vmdk", raw.toString(), vmdk.toString());
        for (Path image : List.of(raw, qcow2, vmdk)) {
            byte[] original = Files.readAllBytes(image);
            Path overlay = dir.resolve(image.getFileName() + ".ovl");
            byte[] model = writeThrough(image, overlay, Files.readAllBytes(raw), 1);
            assertChecksClean(overlay);
            assertArrayEquals(model, qemuBytes(overlay, "qcow2"), "qemu reads the overlay's chain as written");
            assertArrayEquals(original, Files.readAllBytes(image), image + " must not change");
            // Reopened, the overlay shows the earlier writes and takes more.
            model = writeThrough(image, overlay, model, 2);
            assertChecksClean(overlay);
            assertArrayEquals(model, qemuBytes(overlay, "qcow2"));
            assertArrayEquals(original, Files.readAllBytes(image), image + " must not change");
        }
    }

    @Test
    void commitMergesTheOverlayIntoARawImageAndEmptiesIt() throws Exception {
        Path raw = rawBase();
        Path overlay = dir.resolve("changes.qcow2");
        byte[] model = writeThrough(raw, overlay, Files.readAllBytes(raw), 3);
        long[] progress = {-1, 0};
        OverlayCommit.Result result = OverlayCommit.commit(overlay, false, new OverlayCommit.Progress() {
            @Override
            public void start(long total) {
                progress[0] = total;
            }

            @Override
            public void advance(long bytes) {
                progress[1] += bytes;
            }
        }, w -> { });
        assertArrayEquals(model, Files.readAllBytes(raw), "the image holds what was written");
        assertEquals(raw.toAbsolutePath(), result.backing());
        assertEquals("raw", result.backingFormat());
        assertTrue(result.emptied());
        assertEquals(progress[0], progress[1]);
        assertEquals(progress[0], result.dataBytes() + result.zeroBytes());
        assertTrue(result.dataBytes() > 0 && result.zeroBytes() > 0, result.toString());
        assertTrue(result.dataBytes() + result.zeroBytes() < SIZE, "only what the overlay holds is merged");
        assertChecksClean(overlay);
        try (VirtualDisk layer = Images.openLayer(overlay, org.vdmount.formats.OpenOptions.readOnly(), w -> { })) {
            List<RunKind> kinds = new ArrayList<>();
            layer.map(0, layer.size(), run -> kinds.add(run.kind()));
            assertEquals(List.of(RunKind.UNALLOCATED), kinds, "the overlay is empty after the commit");
        }
        assertArrayEquals(model, qemuBytes(overlay, "qcow2"), "the emptied overlay still reads the image");
    }

    @Test
    void commitIntoQcow2WithKeepLeavesTheOverlayAsItWas() throws Exception {
        Path raw = rawBase();
        Path qcow2 = dir.resolve("base.qcow2");
        TestImages.qemuImg(dir, "convert", "-O", "qcow2", raw.toString(), qcow2.toString());
        Path overlay = dir.resolve("changes.qcow2");
        byte[] model = writeThrough(qcow2, overlay, Files.readAllBytes(raw), 4);
        byte[] overlayBefore = Files.readAllBytes(overlay);
        OverlayCommit.Result result = OverlayCommit.commit(overlay, true, OverlayCommit.Progress.NONE, w -> { });
        assertFalse(result.emptied());
        assertEquals("qcow2", result.backingFormat());
        assertChecksClean(qcow2);
        assertArrayEquals(model, qemuBytes(qcow2, "qcow2"), "qemu reads the committed image as written");
        assertArrayEquals(overlayBefore, Files.readAllBytes(overlay), "--keep leaves the overlay alone");
    }

    @Test
    void commitIntoVmdk() throws Exception {
        Path raw = rawBase();
        Path vmdk = dir.resolve("base.vmdk");
        TestImages.qemuImg(dir, "convert", "-O", "vmdk", raw.toString(), vmdk.toString());
        Path overlay = dir.resolve("changes.qcow2");
        byte[] model = writeThrough(vmdk, overlay, Files.readAllBytes(raw), 6);
        OverlayCommit.Result result = OverlayCommit.commit(overlay, false, OverlayCommit.Progress.NONE, w -> { });
        assertEquals("vmdk", result.backingFormat());
        assertChecksClean(vmdk);
        assertArrayEquals(model, qemuBytes(vmdk, "vmdk"), "qemu reads the committed VMDK as written");
        assertArrayEquals(model, qemuBytes(overlay, "qcow2"), "the emptied overlay reads the image");
    }

    @Test
    void commitRefusesEvidenceAndFormatsWithoutAWriter() throws Exception {
        byte[] bytes = TestImages.pattern(SIZE, 13);
        Path first = dir.resolve("disk.001");
        Files.write(first, Arrays.copyOfRange(bytes, 0, SIZE / 2));
        Files.write(dir.resolve("disk.002"), Arrays.copyOfRange(bytes, SIZE / 2, SIZE));
        Path overlay = dir.resolve("split.ovl");
        try (VirtualDisk disk = Overlays.open(first, Images.open(first), overlay, w -> { })) {
            disk.write(ByteBuffer.wrap(new byte[4096]), 0);
        }
        String message = assertThrows(ImageException.class, () -> commit(overlay)).getMessage();
        assertTrue(message.startsWith(first.toAbsolutePath() + ": is evidence (raw), which vdmount never writes"),
                message);
        assertArrayEquals(Arrays.copyOfRange(bytes, 0, SIZE / 2), Files.readAllBytes(first));

        Path vdi = dir.resolve("base.vdi");
        Path raw = rawBase();
        TestImages.qemuImg(dir, "convert", "-O", "vdi", raw.toString(), vdi.toString());
        Path vdiOverlay = dir.resolve("vdi.ovl");
        try (VirtualDisk disk = Overlays.open(vdi, Images.open(vdi), vdiOverlay, w -> { })) {
            disk.write(ByteBuffer.wrap(new byte[4096]), 0);
        }
        byte[] vdiBefore = Files.readAllBytes(vdi);
        message = assertThrows(ImageException.class, () -> commit(vdiOverlay)).getMessage();
        assertTrue(message.startsWith(vdi.toAbsolutePath() + ": vdmount cannot write vdi images yet"), message);
        assertArrayEquals(vdiBefore, Files.readAllBytes(vdi));

        Path alone = dir.resolve("alone.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", alone.toString(), "1M");
        assertEquals(alone + ": has no backing file: there is nothing to commit it into",
                assertThrows(ImageException.class, () -> commit(alone)).getMessage());
        assertEquals(raw + ": is a raw image, not a qcow2 overlay: there is nothing to commit",
                assertThrows(ImageException.class, () -> commit(raw)).getMessage());
    }

    @Test
    void anOverlayBeingWrittenIsNotCommitted() throws Exception {
        Path raw = rawBase();
        Path overlay = dir.resolve("busy.qcow2");
        try (VirtualDisk disk = Overlays.open(raw, Images.open(raw), overlay, w -> { })) {
            disk.write(ByteBuffer.wrap(new byte[65536]), 0);
            disk.flush();
            String message = assertThrows(ImageException.class, () -> commit(overlay)).getMessage();
            assertEquals(overlay + ": is being written by this process (pid " + ProcessHandle.current().pid()
                    + "), which has it open already: stop it first", message);
        }
        assertArrayEquals(TestImages.pattern(SIZE, 11), Files.readAllBytes(raw), "nothing was committed");
        commit(overlay);
        assertArrayEquals(new byte[65536], Arrays.copyOf(Files.readAllBytes(raw), 65536));
    }

    /**
     * An overlay grown with qemu-img resize lengthens its raw image, as qemu-img commit does; one
     * shrunk merges its own range only; a qcow2 image smaller than its overlay is left to qemu-img
     * resize, with the command to run.
     */
    @Test
    void commitOfAnOverlayOfAnotherSize() throws Exception {
        Path raw = rawBase();
        Path overlay = dir.resolve("grown.qcow2");
        byte[] model = writeThrough(raw, overlay, Files.readAllBytes(raw), 8);
        TestImages.qemuImg(dir, "resize", "-f", "qcow2", overlay.toString(), String.valueOf(SIZE + (1 << 20)));
        TestImages.qemuIo(overlay, "qcow2", "write -P 0x5a " + (SIZE + 4096) + " 8192");
        byte[] grown = Arrays.copyOf(model, SIZE + (1 << 20));
        Arrays.fill(grown, SIZE + 4096, SIZE + 4096 + 8192, (byte) 0x5a);
        assertArrayEquals(grown, qemuBytes(overlay, "qcow2"), "the model is what qemu reads");
        commit(overlay);
        assertArrayEquals(grown, Files.readAllBytes(raw), "the raw image grew and holds the overlay's view");

        Path image = dir.resolve("long.img");
        byte[] original = TestImages.pattern(SIZE, 12);
        Files.write(image, original);
        Path shrunk = dir.resolve("shrunk.qcow2");
        byte[] view = writeThrough(image, shrunk, original.clone(), 9);
        TestImages.qemuImg(dir, "resize", "--shrink", "-f", "qcow2", shrunk.toString(), String.valueOf(SIZE - (1 << 20)));
        commit(shrunk);
        byte[] expected = original.clone();
        System.arraycopy(view, 0, expected, 0, SIZE - (1 << 20));
        assertArrayEquals(expected, Files.readAllBytes(image), "the overlay's range merged, the rest as it was");

        Path qcow2 = dir.resolve("short.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", qcow2.toString(), String.valueOf(SIZE));
        Path over = dir.resolve("over.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-b", qcow2.toString(), "-F", "qcow2", over.toString(),
                String.valueOf(SIZE * 2));
        byte[] before = Files.readAllBytes(qcow2);
        ImageException e = assertThrows(ImageException.class, () -> commit(over));
        assertTrue(e.getMessage().contains("qemu-img resize -f qcow2 " + qcow2 + " " + SIZE * 2), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(qcow2), "nothing was written");
    }

    private static void commit(Path overlay) throws IOException {
        OverlayCommit.commit(overlay, false, OverlayCommit.Progress.NONE, w -> { });
    }
}
