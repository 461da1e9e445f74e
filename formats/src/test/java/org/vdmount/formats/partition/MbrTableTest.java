package org.vdmount.formats.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/** DOS tables made by sfdisk, read by us and compared with {@code sfdisk --json}. */
class MbrTableTest {
    @TempDir
    Path dir;

    @Test
    void primariesExtendedAndLogicalsAsSfdiskListsThem() throws Exception {
        Path image = Sfdisk.partition(dir, "mbr.img", 64 << 20, """
                label: dos
                ,8M,83,*
                ,8M,c
                ,,5
                ,4M,82
                ,4M,8e
                ,2M,7
                ,,83
                """);
        try (VirtualDisk disk = Images.open(image)) {
            PartitionTable table = PartitionTable.read(disk);
            assertEquals(PartitionScheme.MBR, table.scheme());
            assertEquals(List.of(), table.warnings());
            Sfdisk.assertSame(Sfdisk.list(image), table);
            assertNull(table.diskGuid());

            List<Partition> p = table.partitions();
            assertEquals(List.of(1, 2, 3, 5, 6, 7, 8), p.stream().map(Partition::number).toList());
            assertEquals("Linux", p.get(0).typeName());
            assertTrue(p.get(0).bootable());
            assertEquals("0x0c", p.get(1).typeCode());
            assertEquals("FAT32 (LBA)", p.get(1).typeName());
            assertTrue(p.get(2).extended());
            assertEquals("Extended", p.get(2).typeName());
            assertEquals("Linux swap", p.get(3).typeName());
            assertEquals("Linux LVM", p.get(4).typeName());
            assertEquals("NTFS/exFAT", p.get(5).typeName());
            assertFalse(p.get(3).extended());
            assertFalse(p.get(3).bootable());
            assertNull(p.get(3).name());
            assertNull(p.get(3).uuid());
            // Logicals lie inside their container.
            for (Partition logical : p.subList(3, p.size())) {
                assertTrue(logical.start() > p.get(2).start() && logical.end() <= p.get(2).end(), logical.toString());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"5", "f", "85"})
    void everyExtendedTypeHoldsLogicals(String type) throws Exception {
        Path image = Sfdisk.partition(dir, "ext.img", 16 << 20, """
                label: dos
                ,4M,83
                ,,%s
                ,2M,83
                ,2M,83
                """.formatted(type));
        try (VirtualDisk disk = Images.open(image)) {
            PartitionTable table = PartitionTable.read(disk);
            Sfdisk.assertSame(Sfdisk.list(image), table);
            assertEquals(List.of(1, 2, 5, 6), table.partitions().stream().map(Partition::number).toList());
            assertTrue(table.partition(2).orElseThrow().extended());
        }
    }

    @Test
    void primariesKeepTheirSlotNumbers() throws Exception {
        Path image = Sfdisk.partition(dir, "gaps.img", 16 << 20, """
                label: dos
                start=2048, size=4096, type=83
                start=8192, size=4096, type=83
                """);
        byte[] bytes = Files.readAllBytes(image);
        // Move the second entry to slot 4, leaving slots 2 and 3 empty.
        System.arraycopy(bytes, 446 + 16, bytes, 446 + 48, 16);
        java.util.Arrays.fill(bytes, 446 + 16, 446 + 32, (byte) 0);
        Files.write(image, bytes);
        try (VirtualDisk disk = Images.open(image)) {
            PartitionTable table = PartitionTable.read(disk);
            Sfdisk.assertSame(Sfdisk.list(image), table);
            assertEquals(List.of(1, 4), table.partitions().stream().map(Partition::number).toList());
        }
    }

    @Test
    void aWholeDiskFatFileSystemIsNoPartitionTable() throws Exception {
        Path image = dir.resolve("fat.img");
        TestImages.run(dir, "mkfs.vfat", "-C", image.toString(), "8192");
        try (VirtualDisk disk = Images.open(image)) {
            PartitionTable table = PartitionTable.read(disk);
            assertEquals(PartitionScheme.NONE, table.scheme());
            assertEquals(List.of(), table.partitions());
            assertEquals(List.of(), table.warnings());
        }
    }

    @Test
    void blankAndTinyDisksHaveNoTable() throws Exception {
        for (int size : new int[] {0, 100, 512, 1 << 20}) {
            PartitionTable table = PartitionTable.read(new MemoryDisk(new byte[size]));
            assertEquals(PartitionScheme.NONE, table.scheme(), "size " + size);
            assertEquals(List.of(), table.partitions());
        }
    }

    @Test
    void anEmptyLabelIsAnMbrWithoutPartitions() throws Exception {
        Path image = Sfdisk.partition(dir, "empty.img", 4 << 20, "label: dos\n");
        try (VirtualDisk disk = Images.open(image)) {
            PartitionTable table = PartitionTable.read(disk);
            assertEquals(PartitionScheme.MBR, table.scheme());
            assertEquals(List.of(), table.partitions());
        }
    }
}
