package org.vdmount.formats.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;

/** GUID partition tables made by sfdisk, read by us, compared with {@code sfdisk --json}, then damaged. */
class GptTableTest {
    private static final long SIZE = 64 << 20;
    private static final long LAST_SECTOR = SIZE / 512 - 1;

    @TempDir
    Path dir;

    private Path image;
    private List<Sfdisk.Listed> pristine;

    @BeforeEach
    void makeImage() throws Exception {
        image = Sfdisk.partition(dir, "gpt.img", SIZE, """
                label: gpt
                size=1M, type=21686148-6449-6E6F-744E-656564454649, name="bios"
                size=8M, type=U, name="EFI system partition"
                size=16M, type=L, name="root fs"
                size=4M, type=S
                size=4M, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="données"
                size=2M, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="lvm"
                """);
        pristine = Sfdisk.list(image);
    }

    private PartitionTable read() throws Exception {
        try (VirtualDisk disk = Images.open(image)) {
            return PartitionTable.read(disk);
        }
    }

    private void overwrite(long offset, byte[] bytes) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(offset);
            f.write(bytes);
        }
    }

    private static void assertWarned(PartitionTable table, String fragment) {
        assertTrue(table.warnings().stream().anyMatch(w -> w.contains(fragment)),
                "no warning with '" + fragment + "' in " + table.warnings());
    }

    @Test
    void namesTypesAndGuidsAsSfdiskListsThem() throws Exception {
        PartitionTable table = read();
        assertEquals(PartitionScheme.GPT, table.scheme());
        assertEquals(List.of(), table.warnings());
        assertEquals(512, table.sectorSize());
        assertEquals(Sfdisk.id(image), table.diskGuid());
        Sfdisk.assertSame(pristine, table);
        List<Partition> p = table.partitions();
        assertEquals(List.of("BIOS boot", "EFI System", "Linux filesystem", "Linux swap", "Microsoft basic data",
                "Linux LVM"), p.stream().map(Partition::typeName).toList());
        assertEquals("données", p.get(4).name());
        assertEquals(null, p.get(3).name());
        assertFalse(p.get(0).extended());
        assertFalse(p.get(0).bootable());
    }

    @Test
    void aDamagedPrimaryHeaderFallsBackToTheBackup() throws Exception {
        overwrite(512 + 60, new byte[] {1, 2, 3});
        PartitionTable table = read();
        assertEquals(PartitionScheme.GPT, table.scheme());
        Sfdisk.assertSame(pristine, table);
        assertWarned(table, "primary GPT header is damaged (header CRC32 mismatch");
        assertWarned(table, "using the backup at sector " + LAST_SECTOR);
    }

    @Test
    void aDamagedPrimaryEntryArrayFallsBackToTheBackup() throws Exception {
        overwrite(1024 + 128 + 60, new byte[] {'x'});
        PartitionTable table = read();
        Sfdisk.assertSame(pristine, table);
        assertWarned(table, "partition entry array CRC32 mismatch");
    }

    @Test
    void aZeroedPrimaryFallsBackToTheBackup() throws Exception {
        overwrite(512, new byte[512]);
        PartitionTable table = read();
        assertEquals(PartitionScheme.GPT, table.scheme());
        Sfdisk.assertSame(pristine, table);
        assertWarned(table, "the sector is blank");
    }

    @Test
    void aMissingBackupIsWarnedAboutAndThePrimaryUsed() throws Exception {
        overwrite(SIZE - 512, new byte[512]);
        PartitionTable table = read();
        assertEquals(PartitionScheme.GPT, table.scheme());
        Sfdisk.assertSame(pristine, table);
        assertWarned(table, "backup GPT header (sector " + LAST_SECTOR + ") is missing or damaged");
        assertEquals(1, table.warnings().size(), table.warnings().toString());
    }

    @Test
    void bothCopiesDamagedShowTheProtectiveMbr() throws Exception {
        overwrite(512 + 60, new byte[] {1});
        overwrite(SIZE - 512 + 60, new byte[] {1});
        PartitionTable table = read();
        assertEquals(PartitionScheme.MBR, table.scheme());
        assertWarned(table, "both GPT headers are damaged");
        assertEquals(1, table.partitions().size());
        Partition protective = table.partitions().get(0);
        assertEquals("0xee", protective.typeCode());
        assertEquals(512, protective.start());
        assertEquals(SIZE - 512, protective.size());
    }

    @Test
    void aHybridMbrIsReadAsItsGpt() throws Exception {
        byte[] bytes = Files.readAllBytes(image);
        // A second MBR entry mapping the EFI partition, as hybrid-MBR tools write.
        Partition esp = read().partition(2).orElseThrow();
        TableBytes.mbrEntry(bytes, 0, 1, 0x80, 0x0c, esp.start() / 512, esp.size() / 512);
        Files.write(image, bytes);
        PartitionTable table = read();
        assertEquals(PartitionScheme.GPT, table.scheme());
        Sfdisk.assertSame(pristine, table);
        assertWarned(table, "hybrid MBR");
    }

    @Test
    void aGptWithoutProtectiveMbrIsStillFound() throws Exception {
        overwrite(0, new byte[512]);
        PartitionTable table = read();
        assertEquals(PartitionScheme.GPT, table.scheme());
        Sfdisk.assertSame(pristine, table);
        assertWarned(table, "no protective MBR");
    }

    @Test
    void aGrownImageKeepsItsTableAndSaysSo() throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(SIZE * 2);
        }
        PartitionTable table = read();
        Sfdisk.assertSame(pristine, table);
        assertWarned(table, "the disk's last sector is " + (SIZE * 2 / 512 - 1) + " (was the image resized?)");
    }

    @Test
    void aTruncatedImageClipsThePartitionsThatNoLongerFit() throws Exception {
        Partition root = read().partition(3).orElseThrow();
        long cut = root.start() + 4096 * 512;
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(cut);
        }
        PartitionTable table = read();
        assertEquals(PartitionScheme.GPT, table.scheme());
        assertEquals(List.of(1, 2, 3), table.partitions().stream().map(Partition::number).toList());
        assertEquals(cut - root.start(), table.partition(3).orElseThrow().size());
        assertWarned(table, "partition 3 runs to sector");
        assertWarned(table, "partition 4 starts at sector");
        assertWarned(table, "backup GPT header");
    }
}
