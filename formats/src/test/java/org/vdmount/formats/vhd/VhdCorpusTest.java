package org.vdmount.formats.vhd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.Corpus;
import org.vdmount.formats.testing.TestImages;

/** Real VHDs (Hyper-V, Virtual PC, Disk2VHD, FreeBSD mkimg, qemu) read as qemu reads them. */
class VhdCorpusTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({
        "qemu/hyperv2012r2-dynamic.vhd.bz2, dynamic, 136365211648",
        "qemu/virtualpc-dynamic.vhd.bz2, dynamic, 136363130880",
        "qemu/d2v-zerofilled.vhd.bz2, dynamic, 263454720",
        "dissect/dynamic.vhd.gz, dynamic, 10485760",
        "dissect/fixed.vhd.gz, fixed, 10485760",
        "dfvfs/ext2.vhd.gz, dynamic, 4212736"})
    void readsLikeQemu(String name, String subformat, long size) throws Exception {
        Path image = Corpus.unpack(name, dir);
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals("vhd", disk.info().format());
            assertEquals(subformat, disk.info().subformat());
            assertEquals(size, disk.size());
            TestImages.assertSameAsQemu(image, "vpc", disk);
        }
    }

    /**
     * FreeBSD's mkimg ("*img") writes the true size in the current-size field and a geometry that
     * rounds it down: qemu since 10.0 reads the current size, as vdmount does; the qemu of this
     * machine is told to do the same.
     */
    @ParameterizedTest
    @CsvSource({
        "mkimg/img-1x1-512-gpt.vhdf.gz, fixed, 5242880",
        "mkimg/img-63x255-4096-mbr.vhdf.gz, fixed, 16777216",
        "mkimg/img-1x1-512-gpt.vhd.gz, dynamic, 4352000",
        "mkimg/img-63x255-4096-mbr.vhd.gz, dynamic, 16450560"})
    void mkimgImagesHaveTheirCurrentSize(String name, String subformat, long size) throws Exception {
        Path image = Corpus.unpack(name, dir);
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals(subformat, disk.info().subformat());
            assertEquals(size, disk.size());
            TestImages.assertSameAsQemu(image, "vpc", "force_size_calc=current_size,", disk);
        }
    }

    /** Hyper-V's differencing disk names its parent twice; the parent is not in the corpus. */
    @Test
    void aDifferencingDiskWithoutItsParentSaysWhereItLooked() throws Exception {
        Path image = Corpus.unpack("dfvfs/fat-differential.vhd.gz", dir);
        ImageException e = assertThrows(ImageException.class, () -> Images.open(image));
        assertEquals(image + ": parent disk '.\\fat-parent.vhd' not found (looked for " + dir.resolve("fat-parent.vhd")
                + " (W2ru locator))", e.getMessage());
    }

    /** Both footer copies have a wrong checksum: qemu refuses the file, and so do we, saying why. */
    @Test
    void aFooterWithAWrongChecksumIsRefused() throws Exception {
        Path image = Corpus.unpack("dfvfs/image-differential.vhd.gz", dir);
        ImageException e = assertThrows(ImageException.class, () -> Images.open(image));
        assertEquals(image + ": footer checksum is fffff683, but its bytes sum to ffffeeb6: the footer is damaged",
                e.getMessage());
    }
}
