package org.vdmount.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vdmount.formats.testing.Corpus;
import org.vdmount.formats.testing.TestImages;

/**
 * Probing: raw only when no known signature matches; formats recognised but not read refused by
 * name; {@code --format} forces a format.
 */
class ProbeTest {
    @TempDir
    Path dir;

    private void refusedAs(Path file, String what) {
        ImageException e = assertThrows(ImageException.class, () -> Images.open(file).close());
        assertEquals(file + ": is " + what + ": not supported (--format raw reads the file's own bytes as the disk)",
                e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "qemu/empty.bochs.bz2, a Bochs image",
        "qemu/simple-pattern.cloop.bz2, a cloop compressed image",
        "qemu/simple-dmg.dmg.bz2, an Apple disk image (DMG/UDIF)",
        "dissect/basic.asif.gz, an Apple sparse image (ASIF)",
        "mkimg/img-1x1-512-gpt.qcow.gz, a qcow (version 1) image",
        "mkimg/img-63x255-4096-mbr.qcow.gz, a qcow (version 1) image"})
    void realImagesOfUnreadFormatsAreRefusedByName(String name, String what) throws Exception {
        refusedAs(Corpus.unpack(name, dir), what);
    }

    @ParameterizedTest
    @CsvSource({"qed, a QED image", "qcow, a qcow (version 1) image"})
    void imagesQemuMakesInFormatsNotReadAreRefusedByName(String format, String what) throws Exception {
        Path image = dir.resolve("disk." + format);
        TestImages.qemuImg(dir, "create", "-f", format, image.toString(), "1M");
        refusedAs(image, what);
    }

    @Test
    void evidenceAndCompressedFilesAreRefusedByName() throws Exception {
        Path ex01 = dir.resolve("evidence.Ex01");
        Files.write(ex01, new byte[] {'E', 'V', 'F', '2', 13, 10, (byte) 0x81, 0, 1, 1, 0, 0, 0});
        refusedAs(ex01, "an EWF2 evidence file (Ex01)");
        Path aff = dir.resolve("evidence.aff");
        Files.write(aff, "AFF10\r\n\0rest".getBytes(StandardCharsets.ISO_8859_1));
        refusedAs(aff, "an AFF evidence file");
        Path raw = dir.resolve("disk.raw");
        TestImages.writePattern(raw, 0, 100_000, 4);
        Path gz = dir.resolve("disk.raw.gz");
        TestImages.run(dir, "sh", "-c", "gzip -c disk.raw > disk.raw.gz");
        refusedAs(gz, "a gzip-compressed file");
        Path zst = dir.resolve("disk.raw.zst");
        TestImages.run(dir, "zstd", "-q", "disk.raw", "-o", zst.toString());
        refusedAs(zst, "a zstd-compressed file");
    }

    @Test
    void formatRawReadsTheContainerBytesAndOtherNamesAreChecked() throws Exception {
        Path qed = dir.resolve("disk.qed");
        TestImages.qemuImg(dir, "create", "-f", "qed", qed.toString(), "1M");
        try (VirtualDisk disk = Images.open(qed, OpenOptions.readOnly().withFormat("raw"), w -> { })) {
            assertEquals("raw", disk.info().format());
            assertEquals(Files.size(qed), disk.size());
        }
        ImageException e = assertThrows(ImageException.class,
                () -> Images.open(qed, OpenOptions.readOnly().withFormat("bochs"), w -> { }));
        assertTrue(e.getMessage().startsWith(qed + ": format 'bochs' is not supported (")
                && e.getMessage().contains("qcow2, raw, "), e.getMessage());
    }

    @Test
    void aFileWithNoKnownSignatureIsRaw() throws Exception {
        Path mbr = Corpus.unpack("qemu/grub_mbr.raw.bz2", dir);
        try (VirtualDisk disk = Images.open(mbr)) {
            assertEquals("raw", disk.info().format());
            assertEquals(512, disk.size());
        }
        Path empty = Files.createFile(dir.resolve("empty"));
        try (VirtualDisk disk = Images.open(empty)) {
            assertEquals("raw", disk.info().format());
        }
    }
}
