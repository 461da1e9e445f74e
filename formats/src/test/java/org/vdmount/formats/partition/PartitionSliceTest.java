package org.vdmount.formats.partition;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.FileStorage;
import org.vdmount.formats.testing.TestImages;

/** A partition read as a disk of its own reads exactly its region of the parent. */
class PartitionSliceTest {
    @TempDir
    Path dir;

    private static byte[] region(byte[] all, long start, long size) {
        return Arrays.copyOfRange(all, (int) start, (int) (start + size));
    }

    private static byte[] readAll(VirtualDisk disk, long offset, int length) throws Exception {
        ByteBuffer buf = ByteBuffer.allocate(length);
        disk.read(buf, offset);
        assertEquals(length, buf.position());
        return buf.array();
    }

    @Test
    void everyPartitionOfAnSfdiskImageReadsItsRegionOfTheFile() throws Exception {
        for (String label : List.of("dos", "gpt")) {
            Path image = dir.resolve(label + ".img");
            TestImages.writePattern(image, 0, 16 << 20, 7);
            Sfdisk.partition(dir, label + ".img", 16 << 20, label.equals("dos")
                    ? "label: dos\n,3M,83\n,,5\n,2M,83\n,2M,c\n,,83\n"
                    : "label: gpt\nsize=3M, name=\"a\"\nsize=5M, name=\"b\"\nsize=1M\n");
            byte[] file = Files.readAllBytes(image);
            try (VirtualDisk disk = Images.open(image)) {
                PartitionTable table = PartitionTable.read(disk);
                assertEquals(label.equals("dos") ? 5 : 3, table.partitions().size(), table.partitions().toString());
                for (Partition p : table.partitions()) {
                    VirtualDisk slice = p.slice(disk);
                    assertEquals(p.size(), slice.size());
                    assertArrayEquals(region(file, p.start(), p.size()), readAll(slice, 0, (int) p.size()), p.toString());
                    assertArrayEquals(region(file, p.start() + 1234, 99_999), readAll(slice, 1234, 99_999));
                    assertThrows(ImageException.class, () -> slice.read(ByteBuffer.allocate(2), p.size() - 1));
                    List<Run> runs = new ArrayList<>();
                    slice.map(512, 4096, runs::add);
                    assertEquals(1, runs.size());
                    assertEquals(RunKind.DATA, runs.get(0).kind());
                    assertEquals(512, runs.get(0).offset());
                    assertEquals(p.start() + 512, runs.get(0).hostOffset());
                    slice.close();
                }
                // Closing the slices left the parent open.
                readAll(disk, 0, 512);
            }
        }
    }

    @Test
    void aSliceOfAWritableDiskWritesItsOwnRegionOnly() throws Exception {
        Path image = dir.resolve("rw.img");
        TestImages.writePattern(image, 0, 8 << 20, 5);
        Sfdisk.partition(dir, "rw.img", 8 << 20, "label: dos\n,3M,83\n,,83\n");
        byte[] before = Files.readAllBytes(image);
        try (VirtualDisk disk = Images.open(image, new org.vdmount.formats.OpenOptions(null, 0, true), w -> { })) {
            Partition p = PartitionTable.read(disk).partitions().get(1);
            VirtualDisk slice = p.slice(disk);
            assertTrue(slice.writable());
            byte[] data = TestImages.pattern(10_000, 77);
            slice.write(ByteBuffer.wrap(data), 4096);
            assertThrows(ImageException.class, () -> slice.write(ByteBuffer.allocate(2), p.size() - 1));
            assertThrows(ImageException.class, () -> slice.discard(p.size() - 512, 1024));
            slice.flush();
            byte[] after = Files.readAllBytes(image);
            byte[] expected = before.clone();
            System.arraycopy(data, 0, expected, (int) p.start() + 4096, data.length);
            assertArrayEquals(expected, after, "the write landed at the partition's offset, nothing else changed");
        }
        try (VirtualDisk disk = Images.open(image)) {
            VirtualDisk slice = PartitionTable.read(disk).partitions().get(0).slice(disk);
            assertEquals(false, slice.writable());
            assertThrows(ImageException.class, () -> slice.write(ByteBuffer.allocate(512), 0));
        }
    }

    @Test
    void aSliceOfAScatteredDiskFollowsItsRunsAndKeepsItsZeros() throws Exception {
        int blocks = 64;
        int block = ScrambledDisk.BLOCK;
        byte[] virtual = TestImages.pattern(blocks * block, 3);
        Arrays.fill(virtual, 446, 510, (byte) 0);
        TableBytes.mbrEntry(virtual, 0, 0, 0, 0x83, 100, 3000);
        TableBytes.mbrEntry(virtual, 0, 1, 0, 0x83, 3100, 4000);
        byte[] host = TestImages.pattern(blocks * block, 9);
        for (int b = 0; b < blocks; b++) {
            if (ScrambledDisk.isZeroBlock(b)) {
                Arrays.fill(virtual, b * block, (b + 1) * block, (byte) 0);
            } else {
                System.arraycopy(virtual, b * block, host, (blocks - 1 - b) * block, block);
            }
        }
        // The tables must survive the zeroing: block 0 is a data block.
        Path hostFile = dir.resolve("scrambled.host");
        Files.write(hostFile, host);
        try (VirtualDisk disk = new ScrambledDisk(FileStorage.openReadOnly(hostFile, "scrambled.img"), blocks)) {
            PartitionTable table = PartitionTable.read(disk);
            assertEquals(PartitionScheme.MBR, table.scheme());
            for (Partition p : table.partitions()) {
                VirtualDisk slice = p.slice(disk);
                assertArrayEquals(region(virtual, p.start(), p.size()), readAll(slice, 0, (int) p.size()));
                long expectedAt = 0;
                List<Run> runs = new ArrayList<>();
                slice.map(0, slice.size(), runs::add);
                assertTrue(runs.size() > 10, runs.size() + " runs");
                for (Run run : runs) {
                    assertEquals(expectedAt, run.offset());
                    expectedAt = run.end();
                    long parentOffset = p.start() + run.offset();
                    assertEquals(ScrambledDisk.isZeroBlock(parentOffset / block) ? RunKind.ZERO : RunKind.DATA,
                            run.kind());
                    if (run.kind() == RunKind.DATA) {
                        assertArrayEquals(region(virtual, parentOffset, run.length()),
                                region(host, run.hostOffset(), run.length()), run.toString());
                    }
                }
                assertEquals(p.size(), expectedAt);
            }
        }
    }

    @Test
    void aSliceNeverReachesPastItsParent() throws Exception {
        MemoryDisk parent = new MemoryDisk(TestImages.pattern(10_000, 1));
        VirtualDisk crossing = new Partition(1, 9_000, 5_000, "0x83", "Linux", null, null, false, false).slice(parent);
        assertEquals(1_000, crossing.size());
        assertArrayEquals(region(TestImages.pattern(10_000, 1), 9_000, 1_000), readAll(crossing, 0, 1_000));
        VirtualDisk beyond = new Partition(2, 20_000, 5_000, "0x83", "Linux", null, null, false, false).slice(parent);
        assertEquals(0, beyond.size());
        assertThrows(ImageException.class, () -> beyond.read(ByteBuffer.allocate(1), 0));
        assertEquals("memory.img partition 1", crossing.info().name());
        assertEquals(1_000, crossing.info().virtualSize());
    }
}
