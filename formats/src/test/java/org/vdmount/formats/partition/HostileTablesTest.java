package org.vdmount.formats.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.vdmount.formats.ImageException;

/** Hand-built tables that lie: each is read quickly, in bounded memory, with a warning saying what is wrong. */
class HostileTablesTest {
    private static final int MIB = 1 << 20;

    private static PartitionTable read(byte[] disk) throws ImageException {
        return assertTimeoutPreemptively(Duration.ofSeconds(5), () -> PartitionTable.read(new MemoryDisk(disk)));
    }

    private static void assertWarned(PartitionTable table, String fragment) {
        assertTrue(table.warnings().stream().anyMatch(w -> w.contains(fragment)),
                "no warning with '" + fragment + "' in " + table.warnings());
    }

    private static List<Integer> numbers(PartitionTable table) {
        return table.partitions().stream().map(Partition::number).toList();
    }

    /** An extended partition at sectors 100..1099 whose first EBR holds one logical. */
    private static byte[] extendedDisk() {
        byte[] disk = new byte[MIB];
        TableBytes.mbrEntry(disk, 0, 0, 0, 0x05, 100, 1000);
        TableBytes.mbrEntry(disk, 100, 0, 0, 0x83, 1, 10);
        return disk;
    }

    @Test
    void anEbrLinkingToItselfStops() throws Exception {
        byte[] disk = extendedDisk();
        TableBytes.mbrEntry(disk, 100, 1, 0, 0x05, 0, 10);
        PartitionTable table = read(disk);
        assertEquals(List.of(1, 5), numbers(table));
        assertWarned(table, "loops back to sector 100");
    }

    @Test
    void aCycleOfTwoEbrsStops() throws Exception {
        byte[] disk = extendedDisk();
        TableBytes.mbrEntry(disk, 100, 1, 0, 0x05, 100, 10);
        TableBytes.mbrEntry(disk, 200, 0, 0, 0x83, 1, 10);
        TableBytes.mbrEntry(disk, 200, 1, 0, 0x05, 0, 10);
        PartitionTable table = read(disk);
        assertEquals(List.of(1, 5, 6), numbers(table));
        assertEquals(201 * 512, table.partition(6).orElseThrow().start());
        assertWarned(table, "loops back to sector 100");
    }

    @Test
    void aChainOfTwoHundredLogicalsStopsAt128() throws Exception {
        byte[] disk = new byte[4 * MIB];
        TableBytes.mbrEntry(disk, 0, 0, 0, 0x0f, 10, 8000);
        for (int k = 0; k < 200; k++) {
            TableBytes.mbrEntry(disk, 10 + 20L * k, 0, 0, 0x83, 1, 10);
            TableBytes.mbrEntry(disk, 10 + 20L * k, 1, 0, 0x05, 20L * (k + 1), 20);
        }
        PartitionTable table = read(disk);
        assertEquals(1 + MbrReader.MAX_LOGICALS, table.partitions().size());
        assertEquals(4 + MbrReader.MAX_LOGICALS, table.partitions().get(table.partitions().size() - 1).number());
        assertWarned(table, "more than 128 logical partitions");
    }

    @Test
    void anEbrLinkOutsideTheExtendedPartitionStops() throws Exception {
        byte[] disk = extendedDisk();
        TableBytes.mbrEntry(disk, 100, 1, 0, 0x05, 1500, 10);
        PartitionTable table = read(disk);
        assertEquals(List.of(1, 5), numbers(table));
        assertWarned(table, "links to sector 1600, outside its extended partition");
    }

    @Test
    void anEbrWithoutSignatureEndsTheChain() throws Exception {
        byte[] disk = extendedDisk();
        TableBytes.mbrEntry(disk, 100, 1, 0, 0x05, 100, 10);
        PartitionTable table = read(disk);
        assertEquals(List.of(1, 5), numbers(table));
        assertWarned(table, "extended boot record at sector 200 has no 55 AA signature");
    }

    @Test
    void anExtendedPartitionPastTheEndWarnsOfItsUnreadableEbr() throws Exception {
        byte[] disk = new byte[MIB];
        TableBytes.mbrEntry(disk, 0, 0, 0, 0x05, 100, 100);
        TableBytes.mbrEntry(disk, 100, 0, 0, 0x83, 1, 10);
        TableBytes.mbrEntry(disk, 100, 1, 0, 0x05, 50, 10);
        TableBytes.mbrEntry(disk, 0, 1, 0, 0x05, 0xFFFFFF00L, 0xFF);
        PartitionTable table = read(disk);
        assertEquals(List.of(1, 5), numbers(table));
        assertWarned(table, "partition 2 starts at byte " + 0xFFFFFF00L * 512 + ", past the end");
        assertWarned(table, "extended boot record at sector 150 has no 55 AA signature");
    }

    @Test
    void aBadBootFlagMeansNoTable() throws Exception {
        byte[] disk = new byte[MIB];
        TableBytes.mbrEntry(disk, 0, 0, 0x12, 0x83, 1, 10);
        assertEquals(PartitionScheme.NONE, read(disk).scheme());
    }

    @Test
    void partitionsPastTheEndAreClippedOrDropped() throws Exception {
        byte[] disk = new byte[MIB];
        TableBytes.mbrEntry(disk, 0, 0, 0, 0x83, 2000, 1000);
        TableBytes.mbrEntry(disk, 0, 1, 0, 0x83, 5000, 10);
        PartitionTable table = read(disk);
        assertEquals(List.of(1), numbers(table));
        assertEquals(48 * 512, table.partitions().get(0).size());
        assertWarned(table, "partition 1 runs " + (952 * 512) + " bytes past the end of the disk; clipped");
        assertWarned(table, "partition 2 starts at byte 2560000, past the end");
    }

    @Test
    void overlappingPartitionsAreWarnedAbout() throws Exception {
        byte[] disk = new byte[MIB];
        TableBytes.mbrEntry(disk, 0, 0, 0, 0x83, 100, 100);
        TableBytes.mbrEntry(disk, 0, 1, 0, 0x83, 150, 100);
        PartitionTable table = read(disk);
        assertEquals(List.of(1, 2), numbers(table));
        assertWarned(table, "partitions 1 and 2 overlap");
    }

    private static byte[] gptDisk() {
        return TableBytes.gptDisk(512, 2048, List.of(
                new TableBytes.GptEntry(TableBytes.EFI_SYSTEM, 40, 99, "esp"),
                new TableBytes.GptEntry(TableBytes.LINUX_FS, 100, 1999, "root")));
    }

    @Test
    void theHandBuiltGptReadsCleanly() throws Exception {
        PartitionTable table = read(gptDisk());
        assertEquals(PartitionScheme.GPT, table.scheme());
        assertEquals(List.of(), table.warnings());
        assertEquals("01234567-89ab-cdef-0123-456789abcdef", table.diskGuid());
        assertEquals(new Partition(2, 100 * 512, 1900 * 512, TableBytes.LINUX_FS, "Linux filesystem", "root",
                "11111111-2222-3333-4444-000000000002", false, false), table.partition(2).orElseThrow());
    }

    static Stream<Arguments> hostileHeaders() {
        return Stream.of(
                Arguments.of("entry count 2^31", (Consumer<ByteBuffer>) h -> h.putInt(80, 0x80000000),
                        "2147483648 partition entries (at most 4096"),
                Arguments.of("entry count 2^32-1", (Consumer<ByteBuffer>) h -> h.putInt(80, -1),
                        "4294967295 partition entries"),
                Arguments.of("entry size 0", (Consumer<ByteBuffer>) h -> h.putInt(84, 0),
                        "partition entry size 0 is not"),
                Arguments.of("entry size 200", (Consumer<ByteBuffer>) h -> h.putInt(84, 200),
                        "partition entry size 200 is not"),
                Arguments.of("array of 4096 x 4096 bytes", (Consumer<ByteBuffer>) h -> {
                    h.putInt(80, 4096);
                    h.putInt(84, 4096);
                }, "exceeds 4194304 bytes"),
                Arguments.of("header size 2^32-1", (Consumer<ByteBuffer>) h -> h.putInt(12, -1),
                        "header size 4294967295 is not between 92 and 512"),
                Arguments.of("entries past the end", (Consumer<ByteBuffer>) h -> h.putLong(72, -1),
                        "partition entry array at sector 18446744073709551615 lies outside the disk"),
                Arguments.of("entries ending past the end", (Consumer<ByteBuffer>) h -> h.putLong(72, 2040),
                        "partition entry array at sector 2040 lies outside the disk"),
                Arguments.of("entries over the header", (Consumer<ByteBuffer>) h -> h.putLong(72, 1),
                        "overlaps the header"),
                Arguments.of("wrong own sector", (Consumer<ByteBuffer>) h -> h.putLong(24, 7),
                        "the header says it lies at sector 7"),
                Arguments.of("usable range backwards", (Consumer<ByteBuffer>) h -> h.putLong(40, 5000),
                        "make no range"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileHeaders")
    void aHostileHeaderInBothCopiesFallsBackToTheMbr(String what, Consumer<ByteBuffer> change, String warning)
            throws Exception {
        byte[] disk = gptDisk();
        TableBytes.changeHeader(disk, 512, 1, change);
        TableBytes.changeHeader(disk, 512, 2047, change);
        PartitionTable table = read(disk);
        assertEquals(PartitionScheme.MBR, table.scheme());
        assertWarned(table, warning);
        assertWarned(table, "both GPT headers are damaged");
        assertEquals("0xee", table.partitions().get(0).typeCode());
    }

    @Test
    void aHostileHeaderInThePrimaryOnlyUsesTheBackup() throws Exception {
        byte[] disk = gptDisk();
        TableBytes.changeHeader(disk, 512, 1, h -> h.putInt(80, 0x80000000));
        PartitionTable table = read(disk);
        assertEquals(PartitionScheme.GPT, table.scheme());
        assertEquals(List.of(1, 2), numbers(table));
        assertWarned(table, "primary GPT header is damaged (2147483648 partition entries");
    }

    @Test
    void entryArrayCrcMismatchInBothCopies() throws Exception {
        byte[] disk = gptDisk();
        disk[2 * 512 + 60] ^= 1;
        disk[(2047 - 32) * 512 + 60] ^= 1;
        PartitionTable table = read(disk);
        assertEquals(PartitionScheme.MBR, table.scheme());
        assertWarned(table, "partition entry array CRC32 mismatch");
    }

    @Test
    void headerCrcMismatchInBothCopies() throws Exception {
        byte[] disk = gptDisk();
        disk[512 + 60] ^= 1;
        disk[2047 * 512 + 60] ^= 1;
        PartitionTable table = read(disk);
        assertEquals(PartitionScheme.MBR, table.scheme());
        assertWarned(table, "header CRC32 mismatch");
    }

    @Test
    void lyingEntriesAreDroppedOrClipped() throws Exception {
        byte[] disk = TableBytes.gptDisk(512, 2048, List.of(
                new TableBytes.GptEntry(TableBytes.LINUX_FS, 500, 400, "backwards"),
                new TableBytes.GptEntry(TableBytes.LINUX_FS, 100, Long.MAX_VALUE, "endless"),
                new TableBytes.GptEntry(TableBytes.LINUX_FS, 1L << 40, 1L << 41, "far away"),
                new TableBytes.GptEntry(TableBytes.LINUX_FS, 1, 150, "over the header")));
        PartitionTable table = read(disk);
        assertEquals(PartitionScheme.GPT, table.scheme());
        assertEquals(List.of(2, 4), numbers(table));
        assertEquals(1948 * 512, table.partition(2).orElseThrow().size());
        assertWarned(table, "GPT entry 1 ends (sector 400) before it starts (sector 500)");
        assertWarned(table, "partition 2 runs to sector " + Long.MAX_VALUE + ", past the end of the disk");
        assertWarned(table, "partition 3 starts at sector " + (1L << 40) + ", past the end");
        assertWarned(table, "partition 4 lies outside the usable sectors 34 to 2014");
        assertWarned(table, "partitions 4 and 2 overlap");
    }

    @Test
    void thousandsOfBadEntriesGiveABoundedListOfWarnings() throws Exception {
        byte[] disk = gptDisk();
        ByteBuffer b = TableBytes.le(disk);
        for (int i = 0; i < 1000; i++) {
            int at = 2 * 512 + 128 * i;
            TableBytes.putGuid(b, at, TableBytes.LINUX_FS);
            b.putLong(at + 32, 10);
            b.putLong(at + 40, 5);
        }
        TableBytes.changeHeader(disk, 512, 1, h -> h.putInt(80, 1000));
        TableBytes.fixCrcs(disk, 512, 1);
        PartitionTable table = read(disk);
        assertEquals(PartitionScheme.GPT, table.scheme());
        assertEquals(List.of(), table.partitions());
        assertTrue(table.warnings().size() <= 33, table.warnings().size() + " warnings");
        assertWarned(table, "more warnings about this partition table not shown");
    }

    @Test
    void aGptWith4096ByteSectors() throws Exception {
        byte[] disk = TableBytes.gptDisk(4096, 1024, List.of(
                new TableBytes.GptEntry(TableBytes.LINUX_FS, 10, 100, "big sectors")));
        PartitionTable table = read(disk);
        assertEquals(PartitionScheme.GPT, table.scheme());
        assertEquals(4096, table.sectorSize());
        assertEquals(List.of(), table.warnings());
        Partition p = table.partitions().get(0);
        assertEquals(10 * 4096, p.start());
        assertEquals(91 * 4096, p.size());
        assertEquals("big sectors", p.name());
    }

    @Test
    void aGptWith4096ByteSectorsAndADamagedPrimary() throws Exception {
        byte[] disk = TableBytes.gptDisk(4096, 1024, List.of(
                new TableBytes.GptEntry(TableBytes.LINUX_FS, 10, 100, "big sectors")));
        disk[4096] = 'X';
        PartitionTable table = read(disk);
        assertEquals(PartitionScheme.GPT, table.scheme());
        assertEquals(4096, table.sectorSize());
        assertEquals(10 * 4096, table.partitions().get(0).start());
        assertWarned(table, "primary GPT header is damaged (no \"EFI PART\" signature); using the backup at sector 1023");
    }

    /**
     * Random damage to the table sectors of a GPT disk and an MBR/EBR disk, CRCs fixed half the
     * time so that damage reaches past the checksums: reading never throws and never hangs.
     */
    @Test
    void randomDamageNeverThrows() throws Exception {
        Random random = new Random(42);
        byte[] gpt = gptDisk();
        byte[] mbr = extendedDisk();
        TableBytes.mbrEntry(mbr, 100, 1, 0, 0x05, 100, 10);
        TableBytes.mbrEntry(mbr, 200, 0, 0, 0x83, 1, 10);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (int round = 0; round < 600; round++) {
                boolean isGpt = round % 2 == 0;
                byte[] disk = (isGpt ? gpt : mbr).clone();
                int[] hot = isGpt ? new int[] {0, 512, 1024, 2047 * 512} : new int[] {0, 100 * 512, 200 * 512};
                for (int k = random.nextInt(6) + 1; k > 0; k--) {
                    int base = hot[random.nextInt(hot.length)];
                    disk[base + random.nextInt(512)] = (byte) random.nextInt(256);
                }
                if (isGpt && random.nextBoolean()) {
                    TableBytes.fixCrcs(disk, 512, 1);
                    TableBytes.fixCrcs(disk, 512, 2047);
                }
                PartitionTable table = PartitionTable.read(new MemoryDisk(disk));
                for (Partition p : table.partitions()) {
                    assertTrue(p.start() >= 0 && p.size() >= 0 && p.end() <= disk.length, p.toString());
                }
            }
        });
    }
}
