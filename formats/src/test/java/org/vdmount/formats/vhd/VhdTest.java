package org.vdmount.formats.vhd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vdmount.formats.testing.TestImages.qemuImg;
import static org.vdmount.formats.testing.TestImages.qemuIo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.QemuMap;
import org.vdmount.formats.testing.TestImages;

/** VHD made by qemu at test time, differencing chains built from them, and hostile headers. */
class VhdTest {
    @TempDir
    Path dir;

    private Path raw(long size) throws IOException {
        return TestImages.patternedDisk(dir.resolve("src.raw"), size);
    }

    /** Sizes that are and are not a whole CHS geometry; both creators' size rules; both subformats. */
    @ParameterizedTest
    @CsvSource({
        "dynamic, off, 10485760", "dynamic, on, 10485760", "dynamic, off, 10488320", "dynamic, on, 10488320",
        "fixed, off, 10485760", "fixed, on, 10488320", "dynamic, off, 33554432"})
    void readsWhatQemuMakesLikeQemu(String subformat, String forceSize, long size) throws Exception {
        Path image = dir.resolve("disk.vhd");
        qemuImg(dir, "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=" + subformat + ",force_size=" + forceSize,
                raw(size).toString(), image.toString());
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals("vhd", disk.info().format());
            assertEquals(subformat, disk.info().subformat());
            TestImages.assertSameAsQemu(image, "vpc", disk);
            TestImages.assertSameBytes(TestImages.qemuRaw(image, "vpc"), disk);
        }
    }

    @Test
    void aDynamicDiskMapsHolesAsHoles() throws Exception {
        Path image = dir.resolve("holes.vhd");
        qemuImg(dir, "create", "-f", "vpc", image.toString(), "64M");
        qemuIo(image, "vpc", "write -P 0x33 5M 4k");
        try (VirtualDisk disk = Images.open(image)) {
            List<Run> runs = new ArrayList<>();
            disk.map(0, disk.size(), runs::add);
            assertEquals(3, runs.size(), runs.toString());
            assertEquals(RunKind.UNALLOCATED, runs.get(0).kind());
            assertEquals(RunKind.DATA, runs.get(1).kind());
            assertEquals(4L << 20, runs.get(1).offset(), "the 2 MiB block holding 5M");
            assertEquals(2L << 20, runs.get(1).length());
            assertEquals("vhd", disk.info().format());
            assertEquals(2 << 20, disk.info().clusterSize());
            assertEquals("qemu 5.3 (Wi2k)", disk.info().details().get("creator"));
        }
    }

    /** The parent: data everywhere; the child: its own writes, and a few sectors whose bitmap bits are clear. */
    private record Chain(Path parent, Path child, byte[] expected) {
    }

    private Chain chain(String platform, String writtenPath) throws Exception {
        long size = 16L << 20;
        Path parent = dir.resolve("parent.vhd");
        qemuImg(dir, "convert", "-f", "raw", "-O", "vpc", raw(size).toString(), parent.toString());
        Path child = dir.resolve("child.vhd");
        qemuImg(dir, "create", "-f", "vpc", child.toString(), String.valueOf(size));
        qemuIo(child, "vpc", "write -P 0xc1 100k 64k", "write -P 0xc2 5M 3M", "write -P 0xc3 15M 512");
        byte[] expected = Files.readAllBytes(TestImages.qemuRaw(parent));
        byte[] own = Files.readAllBytes(TestImages.qemuRaw(child));
        for (QemuMap.Range r : QemuMap.dataOfTopLayer(child, "vpc")) {
            System.arraycopy(own, (int) r.start(), expected, (int) r.start(), (int) r.length());
        }
        // Sectors 200 to 215 of block 0 (100 KiB in) are left to the parent again.
        VhdFixtures.clearBitmap(child, 0, 200, 16);
        byte[] parentBytes = Files.readAllBytes(TestImages.qemuRaw(parent));
        System.arraycopy(parentBytes, 200 * 512, expected, 200 * 512, 16 * 512);
        VhdFixtures.makeDifferencing(child, writtenPath, VhdFixtures.uuid(parent), platform);
        return new Chain(parent, child, expected);
    }

    @ParameterizedTest
    @CsvSource({"W2ru, .\\parent.vhd", "W2ku, C:\\Hyper-V\\Disks\\parent.vhd", "MacX, /Users/someone/parent.vhd"})
    void readsADifferencingDiskOverItsParentSectorBySector(String platform, String written) throws Exception {
        Chain chain = chain(platform, written);
        try (VirtualDisk disk = Images.open(chain.child())) {
            assertEquals("differencing", disk.info().subformat());
            assertEquals(chain.parent().toString(), disk.backing().orElseThrow().info().name());
            Path expected = dir.resolve("expected.raw");
            Files.write(expected, chain.expected());
            TestImages.assertSameBytes(expected, disk);
        }
    }

    @Test
    void aParentWithAnotherUuidIsNotTheParent() throws Exception {
        Chain chain = chain("W2ru", ".\\parent.vhd");
        Path impostor = dir.resolve("impostor.vhd");
        qemuImg(dir, "create", "-f", "vpc", impostor.toString(), "16M");
        Files.move(impostor, chain.parent(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ImageException e = assertThrows(ImageException.class, () -> Images.open(chain.child()));
        assertTrue(e.getMessage().startsWith(chain.child() + ": parent disk '.\\parent.vhd' not found: "
                + chain.parent() + " is not this disk's parent: its UUID is "), e.getMessage());
    }

    @Test
    void aMissingParentNamesEveryPathTried() throws Exception {
        Chain chain = chain("W2ku", "D:\\VMs\\base\\parent.vhd");
        Files.delete(chain.parent());
        ImageException e = assertThrows(ImageException.class, () -> Images.open(chain.child()));
        assertEquals(chain.child() + ": parent disk 'D:\\VMs\\base\\parent.vhd' not found (looked for "
                + chain.parent() + " (file name of W2ku locator, next to the image))", e.getMessage());
    }

    @Test
    void aQcow2OverAVhdReadsLikeQemu() throws Exception {
        Path base = dir.resolve("base.vhd");
        qemuImg(dir, "convert", "-f", "raw", "-O", "vpc", raw(8L << 20).toString(), base.toString());
        Path top = dir.resolve("top.qcow2");
        qemuImg(dir, "create", "-f", "qcow2", "-b", "base.vhd", "-F", "vpc", top.toString());
        qemuIo(top, "qcow2", "write -P 0x77 1M 100k");
        try (VirtualDisk disk = Images.open(top)) {
            assertEquals("vhd", disk.backing().orElseThrow().info().format());
            TestImages.assertSameBytes(TestImages.qemuRaw(top), disk);
        }
    }

    private Path dynamic() throws Exception {
        Path image = dir.resolve("hostile.vhd");
        Files.deleteIfExists(image);
        qemuImg(dir, "convert", "-f", "raw", "-O", "vpc", raw(8L << 20).toString(), image.toString());
        return image;
    }

    private void refused(Path image, String reason) {
        ImageException e = assertThrows(ImageException.class, () -> {
            try (VirtualDisk disk = Images.open(image)) {
                disk.read(ByteBuffer.allocate((int) Math.min(disk.size(), 8 << 20)), 0);
            }
        });
        assertTrue(e.getMessage().startsWith(image + ": ") && e.getMessage().contains(reason), e.getMessage());
    }

    private static void patch(Path file, long at, ByteBuffer bytes) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(bytes.rewind(), at);
        }
    }

    @Test
    void hostileHeadersAreRefusedInOneLine() throws Exception {
        Path image = dynamic();
        long table = ByteBuffer.wrap(Files.readAllBytes(image)).getLong(512 + 16);
        patch(image, table, ByteBuffer.allocate(4).putInt(0, 1));
        refused(image, "block 0 of the block allocation table points to sector 1, inside the image's headers");

        image = dynamic();
        patch(image, table, ByteBuffer.allocate(4).putInt(0, 0x7fffffff));
        refused(image, "lies past the end of the");

        image = dynamic();
        patch(image, 512 + 32, ByteBuffer.allocate(4).putInt(0, 0x80000000));
        VhdFixtures.resign(image, 512, 1024, 36);
        refused(image, "block 0 at sector 4 (2148007936 bytes) lies past the end of the 6295552-byte file");

        image = dynamic();
        patch(image, 512 + 28, ByteBuffer.allocate(4).putInt(0, 2));
        VhdFixtures.resign(image, 512, 1024, 36);
        refused(image, "block allocation table has 2 entries, too few for a disk of 8390656 bytes");

        image = dynamic();
        patch(image, 512 + 32, ByteBuffer.allocate(4).putInt(0, 3000));
        VhdFixtures.resign(image, 512, 1024, 36);
        refused(image, "block size 3000 is not a power of two");

        image = dynamic();
        patch(image, 512 + 28, ByteBuffer.allocate(4).putInt(0, 0x40000001));
        VhdFixtures.resign(image, 512, 1024, 36);
        refused(image, "block allocation table at offset 1536 (1073741825 entries) lies outside the");

        image = dynamic();
        patch(image, 48, ByteBuffer.allocate(8).putLong(0, Long.MAX_VALUE));
        patch(image, 56, ByteBuffer.allocate(4).putInt(0, 0xffff10ff));
        VhdFixtures.resign(image, 0, 512, 64);
        refused(image, "is more than the 2040 GiB a VHD can hold");

        image = dynamic();
        patch(image, 40, ByteBuffer.allocate(8).putLong(0, 1));
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(image, OpenOptions.readOnly(), warnings::add)) {
            assertEquals(List.of(image + ": the footer copy at the start has a wrong checksum; using the copy at "
                    + "the end"), warnings);
        }
        patch(image, Files.size(image) - 512 + 40, ByteBuffer.allocate(8).putLong(0, 1));
        refused(image, "footer checksum is");

        image = dynamic();
        patch(image, 16, ByteBuffer.allocate(8).putLong(0, -1));
        VhdFixtures.resign(image, 0, 512, 64);
        refused(image, "dynamic disk header at offset 18446744073709551615 lies outside");
    }

    @Test
    void aDifferencingDiskThatIsItsOwnParentIsALoop() throws Exception {
        Chain chain = chain("W2ru", ".\\child.vhd");
        // Its own UUID as the parent's, so that the identity check passes and the loop shows.
        UUID own = VhdFixtures.uuid(chain.child());
        VhdFixtures.makeDifferencing(chain.child(), ".\\child.vhd", own, "W2ru");
        ImageException e = assertThrows(ImageException.class, () -> Images.open(chain.child()));
        assertTrue(e.getMessage().contains("backing chain loops: " + chain.child() + " -> " + chain.child()),
                e.getMessage());
    }

    @Test
    void formatVhdReadsAFixedDiskAndRawReadsTheContainer() throws Exception {
        Path image = dir.resolve("fixed.vhd");
        qemuImg(dir, "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed", raw(4L << 20).toString(),
                image.toString());
        try (VirtualDisk disk = Images.open(image, OpenOptions.readOnly().withFormat("vpc"), w -> { })) {
            assertEquals("vhd", disk.info().format());
        }
        try (VirtualDisk disk = Images.open(image, OpenOptions.readOnly().withFormat("raw"), w -> { })) {
            assertEquals(Files.size(image), disk.size());
        }
    }
}
