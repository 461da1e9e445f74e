package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.testing.TestImages;

class CliTest {
    @TempDir
    Path dir;

    private Path rawImage(int size, int seed) throws Exception {
        Path file = dir.resolve("disk.img");
        Files.write(file, TestImages.pattern(size, seed));
        return file;
    }

    @Test
    void infoDescribesARawImage() throws Exception {
        Path image = rawImage(1 << 20, 1);
        Cli.Result r = Cli.run(dir, "info", image.toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("format:          raw"), r.out());
        assertTrue(r.out().contains("virtual size:    1.0 MiB (1048576 bytes)"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void infoListsThePartitionTable() throws Exception {
        Path image = dir.resolve("mbr.img");
        Files.write(image, new byte[8 << 20]);
        Path script = dir.resolve("table");
        Files.writeString(script, "label: dos\nstart=2048, size=4096, type=83\nstart=6144, size=8192, type=c, bootable\n");
        TestImages.run(dir, "sh", "-c", "sfdisk --quiet " + image + " < " + script);
        Cli.Result text = Cli.run(dir, "info", image.toString());
        assertEquals(0, text.exit(), text.toString());
        assertTrue(text.out().contains("partition table: MBR"), text.out());
        assertTrue(text.out().matches("(?s).*\\n  1 +1048576 +3145727 +2\\.0 MiB +Linux.*"), text.out());
        assertTrue(text.out().matches("(?s).*\\n  2 +3145728 +7340031 +4\\.0 MiB +FAT32 \\(LBA\\) \\*.*"), text.out());
        assertTrue(text.out().contains("\n  (* bootable: the MBR's active flag)\n"), "the * is explained: " + text.out());
        Cli.Result json = Cli.run(dir, "info", "--json", image.toString());
        assertTrue(json.out().contains("\"partition-table\": \"mbr\""), json.out());
        assertTrue(json.out().contains("\"start\": 3145728,\n      \"size\": 4194304"), json.out());
    }

    @Test
    void infoJsonIsMachineReadable() throws Exception {
        Path image = rawImage(65536, 1);
        Cli.Result r = Cli.run(dir, "info", "--json", image.toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().startsWith("{"), r.out());
        assertTrue(r.out().contains("\"format\": \"raw\""), r.out());
        assertTrue(r.out().contains("\"virtual-size\": 65536"), r.out());
    }

    @Test
    void catWritesARangeToStdout() throws Exception {
        Path image = rawImage(3 << 20, 7);
        Cli.Result r = Cli.run(dir, "cat", image.toString(), "--offset", "1M", "--length", "4K");
        assertEquals(0, r.exit(), r.err());
        byte[] all = Files.readAllBytes(image);
        assertArrayEquals(Arrays.copyOfRange(all, 1 << 20, (1 << 20) + 4096), r.out().getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void catToAFileKeepsLengthAndBytesAndIsSparse() throws Exception {
        Path image = dir.resolve("sparse.img");
        // 64 MiB, data only at 8 MiB and in the last 4 KiB: the copy must match and hold holes.
        TestImages.writePattern(image, 8 << 20, 1 << 20, 3);
        TestImages.writePattern(image, (64 << 20) - 4096, 4096, 4);
        Path out = dir.resolve("out.raw");
        Cli.Result r = Cli.run(dir, "cat", image.toString(), "-o", out.toString());
        assertEquals(0, r.exit(), r.toString());
        assertArrayEquals(Files.readAllBytes(image), Files.readAllBytes(out));
        long blocks = ((Number) Files.getAttribute(out, "unix:size")).longValue();
        assertEquals(64 << 20, blocks);
        String du = TestImages.run(dir, "du", "-k", out.toString()).trim().split("\\s+")[0];
        assertTrue(Long.parseLong(du) < 4096, "the output should be sparse, du says " + du + " KiB");
    }

    @Test
    void catToAFileEndingInAHoleKeepsItsLength() throws Exception {
        Path image = dir.resolve("tail-hole.img");
        TestImages.writePattern(image, 4 << 20, 12345, 5);
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(40 << 20); // zeros after the data, to the end
        }
        Path out = dir.resolve("tail.raw");
        byte[] old = new byte[50 << 20];
        Arrays.fill(old, (byte) 0x55);
        Files.write(out, old); // longer than the copy, and not zeros: emptied first, then cut to its length
        Cli.Result r = Cli.run(dir, "cat", image.toString(), "-o", out.toString(), "--threads", "3");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(40L << 20, Files.size(out));
        assertArrayEquals(Files.readAllBytes(image), Files.readAllBytes(out));
    }

    @Test
    void catRefusesToOverwriteItsOwnImage() throws Exception {
        Path image = rawImage(65536, 1);
        byte[] before = Files.readAllBytes(image);
        Cli.Result r = Cli.run(dir, "cat", image.toString(), "-o", image.toString());
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().contains("refusing to overwrite"), r.err());
        assertArrayEquals(before, Files.readAllBytes(image));
    }

    @Test
    void verifyPrintsTheHashesOfTheVirtualDisk() throws Exception {
        Path image = rawImage(5 << 20, 9);
        Cli.Result r = Cli.run(dir, "verify", "--hash", "md5", "--hash", "sha256", image.toString());
        assertEquals(0, r.exit(), r.toString());
        byte[] data = Files.readAllBytes(image);
        String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        assertEquals("MD5 (" + image + ") = " + md5 + "\nSHA256 (" + image + ") = " + sha + "\n", r.out());
    }

    @Test
    void aMissingImageIsOneLineAndExitOne() throws Exception {
        Cli.Result r = Cli.run(dir, "info", "missing.qcow2");
        assertEquals(1, r.exit());
        assertEquals("vdmount: missing.qcow2: no such file\n", r.err());
    }

    /** A VHD whose footers point the dynamic header 1 TiB away (checksums left stale): one line, status 1. */
    @Test
    void aHostileImageOfANewFormatIsOneLineAndExitOne() throws Exception {
        Path image = dir.resolve("hostile.vhd");
        TestImages.qemuImg(dir, "create", "-f", "vpc", image.toString(), "8M");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(16); // the footer copy at the start: data offset (of the dynamic header)
            f.writeLong(1L << 40);
            f.seek(f.length() - 512 + 16); // and the footer at the end
            f.writeLong(1L << 40);
        }
        for (String command : new String[] {"info", "cat", "verify"}) {
            Cli.Result r = Cli.run(dir, command, image.toString());
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.err().startsWith("vdmount: " + image + ": ") && r.err().indexOf('\n') == r.err().length() - 1,
                    r.err());
        }
        Cli.Result raw = Cli.run(dir, "info", "--format", "raw", "--json", image.toString());
        assertEquals(0, raw.exit(), raw.toString());
        assertTrue(raw.out().contains("\"format\": \"raw\""), raw.out());
        assertTrue(raw.out().contains("\"virtual-size\": " + Files.size(image)), raw.out());
    }

    /** info --json of a VHDX: size on disk is what the file occupies (as du counts it), details typed. */
    @Test
    void infoJsonOfAVhdxGivesTheAllocatedSizeAndTypedDetails() throws Exception {
        Path image = dir.resolve("disk.vhdx");
        TestImages.qemuImg(dir, "create", "-f", "vhdx", image.toString(), "64M");
        Cli.Result r = Cli.run(dir, "info", "--json", image.toString());
        assertEquals(0, r.exit(), r.toString());
        long blocks = Long.parseLong(TestImages.run(dir, "stat", "-c", "%b", image.toString()).trim());
        assertTrue(r.out().contains("\"size-on-disk\": " + blocks * 512 + ","), r.out());
        assertTrue(r.out().contains("\"file-size\": " + Files.size(image) + ","), r.out());
        assertTrue(r.out().contains("\"logical-sector-size\": 512,"), r.out());
        assertTrue(r.out().contains("\"block-size\": 33554432,") || r.out().contains("\"block-size\": 8388608,"),
                r.out());
    }

    @Test
    void aBadSizeIsAUsageError() throws Exception {
        Path image = rawImage(65536, 1);
        Cli.Result r = Cli.run(dir, "cat", image.toString(), "--offset", "12Q");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("vdmount: "), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void aRangePastTheEndIsRefused() throws Exception {
        Path image = rawImage(65536, 1);
        Cli.Result r = Cli.run(dir, "cat", image.toString(), "--offset", "60K", "--length", "8K");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("runs past the end of the disk (65536 bytes)"), r.err());
    }

    /** A qcow2 image whose data for the second half of the disk is cut off the end of the file. */
    private Path cutShortQcow2() throws Exception {
        Path image = dir.resolve("cut.qcow2");
        TestImages.run(dir, "qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "16M");
        TestImages.run(dir, "qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 8M 1M",
                image.toString());
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(1500 * 1024);
        }
        return image;
    }

    @Test
    void aCopyThatFailsHalfWayLeavesNoFileOfFullSize() throws Exception {
        Path image = cutShortQcow2();
        Path out = dir.resolve("out.raw");
        Cli.Result r = Cli.run(dir, "cat", image.toString(), "-o", out.toString());
        assertEquals(1, r.exit(), r.toString());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("vdmount: " + image + ": truncated"), r.err());
        assertTrue(r.err().contains("(removed the incomplete " + out + "; --keep-partial keeps it)"), r.err());
        assertFalse(Files.exists(out), "no partial copy left behind");

        Cli.Result kept = Cli.run(dir, "cat", image.toString(), "-o", out.toString(), "--keep-partial");
        assertEquals(1, kept.exit(), kept.toString());
        assertTrue(kept.err().contains("(kept the incomplete " + out + ", as --keep-partial asks)"), kept.err());
        long keptBytes = Files.size(out);
        // As it was when the copy stopped: what was written, not sized as the whole disk.
        assertTrue(keptBytes > 0 && keptBytes < 16 << 20, "kept " + keptBytes + " bytes of a 16 MiB disk");
    }
}
