package org.vdmount.formats.vmdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.Corpus;
import org.vdmount.formats.testing.TestImages;

/** Real VMDKs of the shared corpus, read byte for byte as qemu reads them. */
class VmdkCorpusTest {
    @TempDir
    Path dir;

    /** FreeBSD's mkimg names the extent of its embedded descriptor "": the file itself, as qemu reads it. */
    @ParameterizedTest
    @ValueSource(strings = {"img-1x1-512-apm", "img-1x1-512-bsd", "img-1x1-512-ebr", "img-1x1-512-gpt",
        "img-1x1-512-mbr", "img-1x1-512-vtoc8", "img-63x255-4096-apm", "img-63x255-4096-bsd",
        "img-63x255-4096-ebr", "img-63x255-4096-gpt", "img-63x255-4096-mbr", "img-63x255-4096-vtoc8"})
    void mkimgImagesReadLikeQemu(String name) throws Exception {
        Path image = Corpus.unpack("mkimg/" + name + ".vmdk.gz", dir);
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals("vmdk", disk.info().format());
            TestImages.assertSameBytes(TestImages.qemuRaw(image), disk);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mdx1/1GiB.vmdk.gz", "mdx1/1mb.vmdk.gz", "mdx1/1mib.vmdk.gz", "mdx1/64KiB.vmdk.gz",
        "qemu/iotest-version3.vmdk.bz2", "qemu/30abf217-iotest-version3.vmdk.bz2", "dfvfs/ext2.vmdk.gz",
        "dfvfs/image.vmdk.gz"})
    void otherRealImagesReadLikeQemu(String name) throws Exception {
        Path image = Corpus.unpack(name, dir);
        try (VirtualDisk disk = Images.open(image)) {
            TestImages.assertSameAsQemu(image, "vmdk", disk);
        }
    }

    /** A fuzzed header with zeroed newline bytes: what is wrong is its capacity, and the message says so. */
    @Test
    void fuzzedHeadersAreRefusedForWhatIsWrong() throws Exception {
        for (String name : new String[] {"qemu/afl9.vmdk.bz2", "qemu/03615d36-afl9.vmdk.bz2"}) {
            Path image = Corpus.unpack(name, dir);
            ImageException e = assertThrows(ImageException.class, () -> Images.open(image));
            assertEquals(image + ": capacity of 2233785398448881665 sectors is out of range", e.getMessage());
        }
    }
}
