package org.vdmount.formats.vhdx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vdmount.formats.testing.TestImages.qemuImg;
import static org.vdmount.formats.testing.TestImages.qemuIo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.QemuMap;
import org.vdmount.formats.testing.TestImages;

/** VHDX made by qemu at test time, differencing disks built from them, 4 KiB sectors, hostile files. */
class VhdxTest {
    @TempDir
    Path dir;

    private Path raw(long size) throws IOException {
        return TestImages.patternedDisk(dir.resolve("src.raw"), size);
    }

    @ParameterizedTest
    @CsvSource({"dynamic, 1M, 1M", "dynamic, 32M, 1M", "dynamic, 256M, 8M", "fixed, 1M, 1M", "fixed, 8M, 4M"})
    void readsWhatQemuMakesLikeQemu(String subformat, String blockSize, String logSize) throws Exception {
        Path image = dir.resolve("disk.vhdx");
        qemuImg(dir, "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=" + subformat + ",block_size="
                + blockSize + ",log_size=" + logSize, raw(20L << 20).toString(), image.toString());
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals("vhdx", disk.info().format());
            assertEquals(subformat, disk.info().subformat());
            TestImages.assertSameBytes(TestImages.qemuRaw(image), disk);
        }
    }

    /**
     * 4 KiB logical sectors make the chunk ratio eight times larger, so past the first chunk of a
     * 512-byte disk the payload entries sit elsewhere in the BAT. qemu does not read such disks; a
     * disk qemu made with 512-byte sectors and data past its first chunk is moved to the 4 KiB
     * layout, and must read as qemu read it before.
     */
    @Test
    void fourKiBLogicalSectorsChangeTheChunkRatio() throws Exception {
        Path image = dir.resolve("big.vhdx");
        qemuImg(dir, "create", "-f", "vhdx", "-o", "block_size=1M", image.toString(), "6G");
        qemuIo(image, "vhdx", "write -P 0x41 10M 1M", "write -P 0x42 4100M 2M", "write -P 0x43 5000M 1M");
        Path reference = dir.resolve("reference.vhdx");
        Files.copy(image, reference);
        VhdxFixtures f = new VhdxFixtures(image);
        f.toFourKiBSectors(1 << 20, 6 << 10);
        f.save();
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals(4096L, disk.info().details().get("logical-sector-size"));
            assertEquals(32768L, disk.info().details().get("chunk-ratio"));
            TestImages.assertSameAsQemu(reference, "vhdx", disk);
        }
    }

    private record Chain(Path parent, Path child, byte[] expected) {
    }

    /** A parent full of data; a child with writes of its own, one block of which is half the parent's again. */
    private Chain chain(Map<String, String> paths) throws Exception {
        long size = 16L << 20;
        Path parent = dir.resolve("parent.vhdx");
        qemuImg(dir, "convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M", raw(size).toString(),
                parent.toString());
        Path child = dir.resolve("child.avhdx");
        qemuImg(dir, "create", "-f", "vhdx", "-o", "block_size=1M", child.toString(), String.valueOf(size));
        qemuIo(child, "vhdx", "write -P 0xc1 100k 64k", "write -P 0xc2 5M 1M", "write -P 0xc3 9M 2M");
        byte[] expected = Files.readAllBytes(TestImages.qemuRaw(parent));
        byte[] parentBytes = expected.clone();
        byte[] own = Files.readAllBytes(TestImages.qemuRaw(child));
        for (QemuMap.Range r : QemuMap.dataOfTopLayer(child, "vhdx")) {
            System.arraycopy(own, (int) r.start(), expected, (int) r.start(), (int) r.length());
        }
        // Block 5 (5 MiB): its first 1000 sectors stay the child's, the rest is the parent's again.
        System.arraycopy(parentBytes, (5 << 20) + 1000 * 512, expected, (5 << 20) + 1000 * 512,
                (1 << 20) - 1000 * 512);
        VhdxFixtures f = new VhdxFixtures(child);
        f.makeDifferencing(VhdxFixtures.dataWriteGuid(parent), paths);
        f.saveWithBlockPartlyPresent(5, 4096, 1 << 20, 1000);
        return new Chain(parent, child, expected);
    }

    @Test
    void readsADifferencingDiskOverItsParentSectorBySector() throws Exception {
        Chain chain = chain(Map.of("relative_path", ".\\parent.vhdx",
                "absolute_win32_path", "C:\\Hyper-V\\parent.vhdx"));
        try (VirtualDisk disk = Images.open(chain.child())) {
            assertEquals("differencing", disk.info().subformat());
            assertEquals(chain.parent().toString(), disk.backing().orElseThrow().info().name());
            Path expected = dir.resolve("expected.raw");
            Files.write(expected, chain.expected());
            TestImages.assertSameBytes(expected, disk);
        }
    }

    @Test
    void findsTheParentByItsFileNameWhenTheWindowsPathIsGone() throws Exception {
        Chain chain = chain(Map.of("absolute_win32_path", "E:\\VMs\\Disks\\parent.vhdx"));
        try (VirtualDisk disk = Images.open(chain.child())) {
            Path expected = dir.resolve("expected.raw");
            Files.write(expected, chain.expected());
            TestImages.assertSameBytes(expected, disk);
        }
    }

    @Test
    void aParentWithAnotherDataWriteGuidIsNotTheParent() throws Exception {
        Chain chain = chain(Map.of("relative_path", "parent.vhdx"));
        Path other = dir.resolve("other.vhdx");
        qemuImg(dir, "create", "-f", "vhdx", other.toString(), "16M");
        Files.move(other, chain.parent(), StandardCopyOption.REPLACE_EXISTING);
        ImageException e = assertThrows(ImageException.class, () -> Images.open(chain.child()));
        assertTrue(e.getMessage().startsWith(chain.child() + ": parent disk 'parent.vhdx' not found: "
                + chain.parent() + " is not this disk's parent: its DataWriteGuid is "), e.getMessage());
    }

    /**
     * A log left by a crash: two entries, the second written over the first's data and zeroing
     * part of block 1; then a third, torn (wrong checksum), which must not be replayed. qemu
     * replays the log of a copy it opens for writing; vdmount must read what qemu then reads, and
     * leave its own file as it was.
     */
    @ParameterizedTest
    @CsvSource({"false", "true"})
    void aDirtyLogIsReplayedInMemoryLikeQemuAndTheFileIsLeftAlone(boolean tornThird) throws Exception {
        Path image = dir.resolve("dirty.vhdx");
        qemuImg(dir, "convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M", raw(8L << 20).toString(),
                image.toString());
        VhdxFixtures f = new VhdxFixtures(image);
        long block0 = (f.batEntry(0) >>> 20) << 20;
        long block3 = (f.batEntry(3) >>> 20) << 20;
        java.util.UUID log = java.util.UUID.randomUUID();
        f.setLogGuid(log);
        f.writeLogEntry(log, 0, 0, 41, TestImages.pattern(4096, 7), block0 + 8192, block3, 8192, false);
        f.writeLogEntry(log, 8192, 0, 42, TestImages.pattern(4096, 8), block0 + 8192, block3 + 65536, 4096, false);
        f.writeLogEntry(log, 16384, 0, 43, TestImages.pattern(4096, 9), block0, block3, 1 << 20, tornThird);
        f.save();
        byte[] before = Files.readAllBytes(image);
        Path copy = dir.resolve("replayed-by-qemu.vhdx");
        Files.copy(image, copy);
        qemuIo(copy, "vhdx", "read 0 512");
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(image, OpenOptions.readOnly(), warnings::add)) {
            TestImages.assertSameBytes(TestImages.qemuRaw(copy), disk);
            assertTrue(String.valueOf(disk.info().details().get("log")).startsWith("replayed in memory: "
                    + (tornThird ? 2 : 3) + " entries"), String.valueOf(disk.info().details().get("log")));
        }
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(image)), "the image file is unchanged");
        assertEquals(1, warnings.size(), warnings.toString());
    }

    private Path dynamic() throws Exception {
        Path image = dir.resolve("hostile.vhdx");
        Files.deleteIfExists(image);
        qemuImg(dir, "convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M", raw(8L << 20).toString(),
                image.toString());
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

    @Test
    void hostileFilesAreRefusedInOneLine() throws Exception {
        Path image = dynamic();
        VhdxFixtures f = new VhdxFixtures(image);
        f.setBatEntry(0, (1L << 20) | 6);
        f.save();
        refused(image, "BAT entry of block 0 points to offset 1048576, into the file's own headers, log, BAT or metadata");

        image = dynamic();
        f = new VhdxFixtures(image);
        f.setBatEntry(0, (4000L << 20) | 6);
        f.save();
        refused(image, "block 0 at offset 4194304000 (1048576 bytes) lies past the end of the");

        image = dynamic();
        f = new VhdxFixtures(image);
        f.setBatEntry(1, 4);
        f.save();
        refused(image, "BAT entry of block 1 has the unknown state 4");

        image = dynamic();
        f = new VhdxFixtures(image);
        f.setBatEntry(0, f.batEntry(0) | 7);
        f.save();
        refused(image, "block 0 is partly present, which only a differencing disk may say");

        image = dynamic();
        f = new VhdxFixtures(image);
        f.putInt(f.item(Metadata.FILE_PARAMETERS), 0x80000000);
        f.save();
        refused(image, "block size 2147483648 is not a power of two from 1 MiB to 256 MiB");

        image = dynamic();
        f = new VhdxFixtures(image);
        f.putInt(f.item(Metadata.LOGICAL_SECTOR_SIZE), 520);
        f.save();
        refused(image, "logical sector size 520 is neither 512 nor 4096");

        image = dynamic();
        f = new VhdxFixtures(image);
        f.putInt(f.item(Metadata.VIRTUAL_DISK_SIZE), 0);
        f.putInt(f.item(Metadata.VIRTUAL_DISK_SIZE) + 4, 0x7fff);
        f.save();
        refused(image, "is not a multiple of the sector size up to 64 TiB");

        image = dynamic();
        f = new VhdxFixtures(image);
        f.putInt(65536 + 100, 1);
        f.putInt(131072 + 100, 1);
        f.save();
        refused(image, "both headers are damaged (first: CRC-32C mismatch; second: CRC-32C mismatch)");

        image = dynamic();
        f = new VhdxFixtures(image);
        f.putInt(196608 + 200, 1);
        f.putInt(262144 + 200, 1);
        f.save();
        refused(image, "both region tables are damaged");
    }

    @Test
    void oneDamagedHeaderOrRegionTableIsAWarning() throws Exception {
        Path image = dynamic();
        VhdxFixtures f = new VhdxFixtures(image);
        f.putInt(131072 + 100, 1);
        f.putInt(196608 + 200, 1);
        f.save();
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(image, OpenOptions.readOnly(), warnings::add)) {
            TestImages.assertSameBytes(TestImages.qemuRaw(dynamic()), disk);
        }
        assertEquals(List.of(image + ": the header at 128 KiB is damaged (CRC-32C mismatch); using the other one",
                image + ": the region table at 192 KiB is damaged (CRC-32C mismatch); using its copy"), warnings);
    }
}
