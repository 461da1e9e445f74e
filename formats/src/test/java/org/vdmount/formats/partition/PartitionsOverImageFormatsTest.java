package org.vdmount.formats.partition;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * The same partitioned disk stored as qcow2 and VMDK reads the same table and the same partition
 * bytes as the raw file it was converted from: partitions are a layer over any disk.
 */
class PartitionsOverImageFormatsTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "dos, qcow2, ''",
            "gpt, qcow2, -c",
            "dos, vmdk, ''",
            "gpt, vmdk, -ocompat6,subformat=streamOptimized"})
    void anImageIsPartitionedLikeItsRawBytes(String label, String format, String convertOption) throws Exception {
        Path raw = dir.resolve(label + ".img");
        TestImages.writePattern(raw, 0, 12 << 20, 5);
        Sfdisk.partition(dir, label + ".img", 12 << 20, label.equals("dos")
                ? "label: dos\n,3M,83,*\n,,5\n,2M,82\n,,83\n"
                : "label: gpt\nsize=3M, type=U, name=\"esp\"\nsize=5M, type=L, name=\"root\"\n");
        Path image = dir.resolve(label + "." + format);
        if (convertOption.isEmpty()) {
            TestImages.qemuImg(dir, "convert", "-O", format, raw.toString(), image.toString());
        } else {
            TestImages.qemuImg(dir, "convert", "-O", format, convertOption, raw.toString(), image.toString());
        }
        byte[] bytes = Files.readAllBytes(raw);
        try (VirtualDisk rawDisk = Images.open(raw); VirtualDisk disk = Images.open(image)) {
            assertEquals(format, disk.info().format());
            PartitionTable expected = PartitionTable.read(rawDisk);
            PartitionTable table = PartitionTable.read(disk);
            assertEquals(expected.scheme(), table.scheme());
            assertEquals(expected.partitions(), table.partitions());
            assertEquals(expected.diskGuid(), table.diskGuid());
            assertEquals(expected.warnings(), table.warnings());
            Sfdisk.assertSame(Sfdisk.list(raw), table);
            for (Partition p : table.partitions()) {
                ByteBuffer got = ByteBuffer.allocate((int) p.size());
                p.slice(disk).read(got, 0);
                assertArrayEquals(Arrays.copyOfRange(bytes, (int) p.start(), (int) p.end()), got.array(),
                        "partition " + p.number());
            }
        }
    }
}
