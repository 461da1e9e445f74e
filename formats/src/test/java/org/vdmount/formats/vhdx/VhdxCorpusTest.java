package org.vdmount.formats.vhdx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.Corpus;
import org.vdmount.formats.testing.TestImages;

/** Real VHDX files (Hyper-V, Disk2VHD, qemu's samples) read as qemu reads them. */
class VhdxCorpusTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({
        "dissect/dynamic.vhdx.gz, dynamic, 10485760",
        "dissect/fixed.vhdx.gz, fixed, 10485760",
        "qemu/iotest-dynamic-1G.vhdx.bz2, dynamic, 1073741824",
        "qemu/test-disk2vhd.vhdx.bz2, dynamic, 268435456"})
    void readsLikeQemu(String name, String subformat, long size) throws Exception {
        Path image = Corpus.unpack(name, dir);
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals("vhdx", disk.info().format());
            assertEquals(subformat, disk.info().subformat());
            assertEquals(size, disk.size());
            TestImages.assertSameAsQemu(image, "vhdx", disk);
        }
    }

    /**
     * qemu's own sample of a crash: a log to replay. qemu refuses to open it read-only; a copy it
     * opens for writing is replayed, and vdmount reads the original, in memory, the same way.
     */
    @Test
    void aDirtyLogIsReplayedInMemoryLikeQemu() throws Exception {
        Path image = Corpus.unpack("qemu/iotest-dirtylog-10G-4M.vhdx.bz2", dir);
        byte[] before = Files.readAllBytes(image);
        Path copy = dir.resolve("replayed.vhdx");
        Files.copy(image, copy);
        TestImages.qemuIo(copy, "vhdx", "read 0 512");
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(image, OpenOptions.readOnly(), warnings::add)) {
            assertEquals("replayed in memory: 1 entries (sequence 7 to 7), 1 sectors written, 0 ranges zeroed",
                    disk.info().details().get("log"));
            TestImages.assertSameAsQemu(copy, "vhdx", disk);
        }
        assertArrayEquals(before, Files.readAllBytes(image), "the image file is unchanged");
        assertEquals(List.of(image + ": the image was not closed cleanly; its log (1 entries) was replayed in "
                + "memory, the file is unchanged"), warnings);
    }

    /** Hyper-V's snapshot disk, without its parent: every path its locator gives is tried and named. */
    @Test
    void aDifferencingDiskWithoutItsParentSaysWhereItLooked() throws Exception {
        Path image = Corpus.unpack("dissect/differencing.avhdx.gz", dir);
        ImageException e = assertThrows(ImageException.class, () -> Images.open(image));
        String parent = "Generation 1_49C4BAF3-4B25-4406-8C4B-D39E65C32385.avhdx";
        assertEquals(image + ": parent disk '.\\" + parent + "' not found (looked for " + dir.resolve(parent)
                + " (relative_path))", e.getMessage());
    }

    /** With a parent of the right name but not the right disk, the DataWriteGuid tells. */
    @Test
    void aDifferencingDiskRefusesAParentThatIsNotIts() throws Exception {
        Path image = Corpus.unpack("dissect/differencing.avhdx.gz", dir);
        Path other = Corpus.unpack("dissect/dynamic.vhdx.gz", dir);
        Path parent = dir.resolve("Generation 1_49C4BAF3-4B25-4406-8C4B-D39E65C32385.avhdx");
        Files.move(other, parent);
        ImageException e = assertThrows(ImageException.class, () -> Images.open(image));
        assertTrue(e.getMessage().endsWith(parent + " is not this disk's parent: its DataWriteGuid is "
                + "28e09ae1-ab94-4815-a155-f143e2d00a3f, the parent_linkage is ff34003b-11ed-4cf8-a166-b2be05e20b80"),
                e.getMessage());
    }
}
