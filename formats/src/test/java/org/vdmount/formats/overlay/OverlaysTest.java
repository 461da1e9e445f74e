package org.vdmount.formats.overlay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/** Overlay files as qemu makes them: created, checked by qemu-img, written by qemu-io, reopened, refused. */
class OverlaysTest {
    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;

    private Path rawBase() throws IOException {
        Path base = dir.resolve("base.img");
        Files.write(base, TestImages.pattern(SIZE, 7));
        return base;
    }

    /** Creates (or reopens) {@code overlay} over {@code image} the way attach does, and closes it. */
    private List<String> open(Path image, Path overlay) throws IOException {
        List<String> warnings = new ArrayList<>();
        VirtualDisk base = Images.open(image);
        try (VirtualDisk disk = Overlays.open(image, base, overlay, warnings::add)) {
            assertEquals(base.size(), disk.size());
        }
        return warnings;
    }

    private static String info(Path image) throws Exception {
        return TestImages.qemuImg(image.getParent(), "info", "--output=json", image.toString());
    }

    private static void assertChecksClean(Path image) throws Exception {
        String check = TestImages.qemuImg(image.getParent(), "check", image.toString());
        assertTrue(check.contains("No errors were found on the image."), check);
    }

    @Test
    void newOverlaysAreCleanQcow2FilesNamingTheImageAndItsFormat() throws Exception {
        Path raw = rawBase();
        Path qcow2 = dir.resolve("base.qcow2");
        TestImages.qemuImg(dir, "convert", "-O", "qcow2", raw.toString(), qcow2.toString());
        Path vmdk = dir.resolve("base.vmdk");
        TestImages.qemuImg(dir, "convert", "-O", "vmdk", raw.toString(), vmdk.toString());
        for (Path image : List.of(raw, qcow2, vmdk)) {
            String format = image.equals(raw) ? "raw" : image.equals(qcow2) ? "qcow2" : "vmdk";
            Path overlay = dir.resolve(format + ".ovl");
            assertEquals(List.of(), open(image, overlay));
            String info = info(overlay);
            assertTrue(info.contains("\"format\": \"qcow2\""), info);
            assertTrue(info.contains("\"cluster-size\": 65536"), info);
            assertTrue(info.contains("\"virtual-size\": " + SIZE), info);
            assertTrue(info.contains("\"backing-filename\": \"" + image.toAbsolutePath() + "\""), info);
            assertTrue(info.contains("\"backing-filename-format\": \"" + format + "\""), info);
            assertTrue(info.contains("\"compat\": \"1.1\""), info);
            assertChecksClean(overlay);
            // Nothing is allocated: qemu reads the image itself through the overlay.
            assertArrayEquals(Files.readAllBytes(raw), Files.readAllBytes(TestImages.qemuRaw(overlay)));
        }
    }

    @Test
    void qemuWritesIntoTheOverlayAndVdmountReadsThemBackOverTheImage() throws Exception {
        Path raw = rawBase();
        byte[] original = Files.readAllBytes(raw);
        Path overlay = dir.resolve("changes.qcow2");
        open(raw, overlay);
        TestImages.qemuIo(overlay, "qcow2", "write -P 0x5a 0 64k", "write -P 0xa5 100000 3000",
                "write -z 1048576 131072");
        assertChecksClean(overlay);
        Path expected = TestImages.qemuRaw(overlay);
        VirtualDisk base = Images.open(raw);
        try (VirtualDisk disk = Overlays.open(raw, base, overlay, w -> { })) {
            TestImages.assertSameBytes(expected, disk);
            List<RunKind> kinds = new ArrayList<>();
            disk.map(1048576, 131072, run -> kinds.add(run.kind()));
            assertEquals(List.of(RunKind.ZERO), kinds);
        }
        try (VirtualDisk chain = Images.open(overlay)) {
            TestImages.assertSameBytes(expected, chain); // the overlay alone opens as its chain too
        }
        assertArrayEquals(original, Files.readAllBytes(raw), "the image must not change");
    }

    @Test
    void largeDisksGetL1TablesOfSeveralClusters() throws Exception {
        Path raw = dir.resolve("big.img");
        long size = 5L << 40;
        try (var f = java.nio.channels.FileChannel.open(raw, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            f.write(ByteBuffer.wrap(new byte[] {1}), size - 1);
        }
        Path overlay = dir.resolve("big.ovl");
        open(raw, overlay);
        assertChecksClean(overlay);
        TestImages.qemuIo(overlay, "qcow2", "write -P 0x11 " + (size - 65536) + " 64k");
        assertChecksClean(overlay);
        try (VirtualDisk chain = Images.open(overlay)) {
            ByteBuffer tail = ByteBuffer.allocate(16);
            chain.read(tail, size - 16);
            assertEquals(0x11, tail.get(15));
        }
    }

    @Test
    void reopeningChecksThatTheOverlayBelongsToTheImage() throws Exception {
        Path raw = rawBase();
        Path other = dir.resolve("other.img");
        Files.write(other, new byte[SIZE]);
        Path overlay = dir.resolve("changes.qcow2");
        open(raw, overlay);
        open(raw, overlay); // the same image again: fine
        ImageException wrongImage = assertThrows(ImageException.class, () -> open(other, overlay));
        assertEquals(overlay + ": is an overlay of " + raw.toAbsolutePath() + ", not of " + other,
                wrongImage.getMessage());

        Path smaller = dir.resolve("smaller.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-b", raw.toString(), "-F", "raw", smaller.toString(), "1M");
        assertEquals(smaller + ": is an overlay of 1048576 bytes, but " + raw + " is " + SIZE + " bytes",
                assertThrows(ImageException.class, () -> open(raw, smaller)).getMessage());

        Path wrongFormat = dir.resolve("wrongformat.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-u", "-b", raw.toString(), "-F", "vmdk",
                wrongFormat.toString(), String.valueOf(SIZE));
        assertTrue(assertThrows(ImageException.class, () -> open(raw, wrongFormat)).getMessage()
                .endsWith("records the backing format 'vmdk', but " + raw + " is read as raw"));

        Path alone = dir.resolve("alone.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", alone.toString(), String.valueOf(SIZE));
        assertEquals(alone + ": is a qcow2 image without a backing file, not an overlay of " + raw,
                assertThrows(ImageException.class, () -> open(raw, alone)).getMessage());

        Path data = dir.resolve("data.bin");
        Files.write(data, TestImages.pattern(8192, 3));
        assertTrue(assertThrows(ImageException.class, () -> open(raw, data)).getMessage()
                .startsWith(data + ": is a raw file, not a qcow2 overlay"));
        assertArrayEquals(TestImages.pattern(8192, 3), Files.readAllBytes(data), "a refused file is left alone");
    }

    @Test
    void theRetiredOverlayFormatIsRefusedByName() throws Exception {
        Path raw = rawBase();
        Path old = dir.resolve("old.ovl");
        ByteBuffer header = ByteBuffer.allocate(8192);
        header.put("VDMOUNT-OVERLAY\0".getBytes(StandardCharsets.US_ASCII));
        Files.write(old, header.array());
        String message = assertThrows(ImageException.class, () -> open(raw, old)).getMessage();
        assertTrue(message.startsWith(old + ": is an overlay in vdmount's retired format"), message);
        message = assertThrows(ImageException.class, () -> Images.open(old)).getMessage();
        assertTrue(message.startsWith(old + ": is an overlay in vdmount's retired format"), message);
    }

    @Test
    void imagesQemuCannotReadGetABackingFormatQemuRefuses() throws Exception {
        byte[] bytes = TestImages.pattern(SIZE, 9);
        Path first = dir.resolve("disk.001");
        Files.write(first, java.util.Arrays.copyOfRange(bytes, 0, SIZE / 2));
        Files.write(dir.resolve("disk.002"), java.util.Arrays.copyOfRange(bytes, SIZE / 2, SIZE));
        Path overlay = dir.resolve("split.ovl");
        List<String> warnings = open(first, overlay);
        assertEquals(List.of(overlay + ": qemu cannot read " + first + " (raw), so only vdmount opens this overlay "
                + "(its backing format is 'vdmount')"), warnings);
        assertTrue(info(overlay).contains("\"backing-filename-format\": \"vdmount\""));
        TestImages.Result qemu = TestImages.runAllowingFailure(dir, "qemu-img", "convert", "-O", "raw",
                overlay.toString(), dir.resolve("x.raw").toString());
        assertFalse(qemu.exit() == 0, "qemu must refuse rather than read the first file alone: " + qemu.output());
        assertTrue(qemu.output().contains("Unknown driver 'vdmount'"), qemu.output());
        // qemu checks and writes the overlay itself when told to leave its backing file alone.
        String alone = "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":\"" + overlay
                + "\"},\"backing\":null}";
        String check = TestImages.qemuImg(dir, "check", alone);
        assertTrue(check.contains("No errors were found on the image."), check);
        TestImages.run(dir, "qemu-io", "-c", "write -P 0x77 65536 64k", alone);
        try (VirtualDisk chain = Images.open(overlay)) {
            ByteBuffer all = ByteBuffer.allocate(SIZE);
            chain.read(all, 0);
            java.util.Arrays.fill(bytes, 65536, 2 * 65536, (byte) 0x77);
            assertArrayEquals(bytes, all.array(), "vdmount reads the whole split image under the overlay");
        }
    }
}
