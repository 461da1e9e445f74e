package org.vdmount.mounter.attach;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.Run;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.transport.DiskPart;

class PartitionFilesTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void dosPrimariesBecomeSlices() throws Exception {
        Path image = dir.resolve("d.img");
        Shell.run("truncate", "-s", "16M", image.toString());
        Files.write(image, new byte[] {1, 2, 3, 4}, java.nio.file.StandardOpenOption.WRITE);
        Path script = Files.writeString(dir.resolve("l"), "label: dos\n1MiB,4MiB,L\n6MiB,2MiB,ef\n");
        Shell.run("sh", "-c", "sfdisk -q " + image + " < " + script);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("partition two".getBytes()), 6 * MIB + 10);
        }
        try (VirtualDisk disk = Images.open(image)) {
            List<DiskPart> parts = PartitionFiles.of(disk);
            assertEquals(2, parts.size());
            assertEquals("p1", parts.get(0).name());
            assertEquals("Linux", parts.get(0).description());
            assertEquals(4 * MIB, parts.get(0).disk().size());
            assertEquals("p2", parts.get(1).name());
            assertEquals("EFI System", parts.get(1).description());
            ByteBuffer b = ByteBuffer.allocate(13);
            parts.get(1).disk().read(b, 10);
            assertEquals("partition two", new String(b.array()));
            List<Run> runs = new ArrayList<>();
            parts.get(1).disk().map(0, 2 * MIB, runs::add);
            assertEquals(0, runs.get(0).offset());
            assertEquals(6 * MIB, runs.get(0).hostOffset(), "host offsets stay the parent's");
        }
    }

    @Test
    void gptPartitionsCarryTheirNamesAndUnlabelledDisksHaveNone() throws Exception {
        Path gpt = dir.resolve("gpt.img");
        Shell.run("truncate", "-s", "16M", gpt.toString());
        Path script = Files.writeString(dir.resolve("g"), "label: gpt\nsize=4MiB, type=L, name=root\nsize=2MiB, type=U\n");
        Shell.run("sh", "-c", "sfdisk -q " + gpt + " < " + script);
        try (VirtualDisk disk = Images.open(gpt)) {
            List<DiskPart> parts = PartitionFiles.of(disk);
            assertEquals(2, parts.size());
            assertEquals("Linux filesystem \"root\"", parts.get(0).description());
            assertEquals(4 * MIB, parts.get(0).disk().size());
            assertEquals("EFI System", parts.get(1).description());
        }
        Path blank = Files.write(dir.resolve("blank.img"), new byte[8192]);
        try (VirtualDisk disk = Images.open(blank)) {
            assertEquals(List.of(), PartitionFiles.of(disk));
        }
    }
}
