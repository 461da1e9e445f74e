package org.vdmount.formats.vmdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/** Damaged and hostile VMDK files: each a one-line error naming the file and the reason, quickly. */
class VmdkHostileTest {
    @TempDir
    Path dir;
    private Path raw;
    private Path sparse;

    @BeforeEach
    void makeImages() throws Exception {
        raw = dir.resolve("src.raw");
        Files.write(raw, TestImages.pattern(3 << 20, 11));
        sparse = dir.resolve("sparse.vmdk");
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "vmdk", raw.toString(), sparse.toString());
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long headerLong(Path file, int at) throws IOException {
        ByteBuffer b = le(8).put(Files.readAllBytes(file), at, 8).flip();
        return b.getLong();
    }

    /** Opens and reads it all; expects an ImageException naming the file and containing {@code reason}. */
    private static ImageException refused(Path file, String reason) {
        ImageException e = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThrows(ImageException.class,
                () -> {
                    try (VirtualDisk disk = Images.open(file)) {
                        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
                        for (long at = 0; at < disk.size(); at += buf.capacity()) {
                            buf.clear().limit((int) Math.min(buf.capacity(), disk.size() - at));
                            disk.read(buf, at);
                        }
                    }
                }));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e;
    }

    @Test
    void aFileHoldingOnlyTheMagic() throws Exception {
        Path tiny = dir.resolve("tiny.vmdk");
        Files.write(tiny, "KDMV".getBytes(StandardCharsets.US_ASCII));
        refused(tiny, "too short for a VMDK sparse extent");
        Files.write(tiny, "COWD".getBytes(StandardCharsets.US_ASCII));
        refused(tiny, "too short for a COWD extent");
    }

    @Test
    void grainDirectoryPastTheEndFallsBackToTheRedundantOne() throws Exception {
        VmdkFixtures.patch(sparse, 56, le(8).putLong(0, 1L << 40));
        try (VirtualDisk disk = Images.open(sparse)) {
            TestImages.assertSameBytes(raw, disk);
        }
        VmdkFixtures.patch(sparse, 48, le(8).putLong(0, 1L << 40));
        refused(sparse, "grain directory at sector 1099511627776");
    }

    @Test
    void grainTablePastTheEndFallsBackToTheRedundantOne() throws Exception {
        long gd = headerLong(sparse, 56);
        long rgd = headerLong(sparse, 48);
        VmdkFixtures.patch(sparse, gd * 512, le(4).putInt(0, 0x7fffffff));
        try (VirtualDisk disk = Images.open(sparse)) {
            TestImages.assertSameBytes(raw, disk);
        }
        VmdkFixtures.patch(sparse, rgd * 512, le(4).putInt(0, 0x7ffffff0));
        refused(sparse, "grain table 0 at sector 2147483647 lies outside the file");
    }

    @Test
    void aGrainPastTheEndIsAnErrorNotZeros() throws Exception {
        long gd = headerLong(sparse, 56);
        ByteBuffer entry = le(4).put(Files.readAllBytes(sparse), (int) (gd * 512), 4).flip();
        long table = entry.getInt() & 0xffffffffL;
        VmdkFixtures.patch(sparse, table * 512 + 4 * 3, le(4).putInt(0, 0x00ffffff));
        long rgd = headerLong(sparse, 48);
        entry = le(4).put(Files.readAllBytes(sparse), (int) (rgd * 512), 4).flip();
        VmdkFixtures.patch(sparse, (entry.getInt() & 0xffffffffL) * 512 + 4 * 3, le(4).putInt(0, 0x00ffffff));
        refused(sparse, "truncated: needs");
    }

    @Test
    void absurdHeaderValues() throws Exception {
        byte[] good = Files.readAllBytes(sparse);
        VmdkFixtures.patch(sparse, 44, le(4).putInt(0, 1 << 31));
        refused(sparse, "numGTEsPerGT of 2147483648 is out of range");
        Files.write(sparse, good);
        VmdkFixtures.patch(sparse, 20, le(8).putLong(0, 0));
        refused(sparse, "grain size of 0 sectors is out of range");
        Files.write(sparse, good);
        VmdkFixtures.patch(sparse, 20, le(8).putLong(0, 1L << 40));
        refused(sparse, "grain size of 1099511627776 sectors is out of range");
        Files.write(sparse, good);
        VmdkFixtures.patch(sparse, 12, le(8).putLong(0, -5));
        refused(sparse, "capacity of 18446744073709551611 sectors is out of range");
        Files.write(sparse, good);
        VmdkFixtures.patch(sparse, 12, le(8).putLong(0, 1L << 44));
        refused(sparse, "grain tables; refusing more than");
        Files.write(sparse, good);
        VmdkFixtures.patch(sparse, 4, le(4).putInt(0, 77));
        refused(sparse, "sparse extent version 77 is not supported");
        Files.write(sparse, good);
        VmdkFixtures.patch(sparse, 73, le(4).putInt(0, 0x0a0a200a));
        refused(sparse, "as by a copy in text mode (FTP ASCII)");
        Files.write(sparse, good);
        VmdkFixtures.patch(sparse, 36, le(8).putLong(0, 1L << 30));
        refused(sparse, "embedded descriptor of 1073741824 sectors is out of range");
    }

    @Test
    void aDescriptorWithMillionsOfExtentLines() throws Exception {
        Path huge = dir.resolve("huge.vmdk");
        String header = "# Disk DescriptorFile\nversion=1\ncreateType=\"custom\"\n";
        Files.writeString(huge, header + "RW 1 ZERO\n".repeat(2_000_000));
        refused(huge, "descriptor is 20000052 bytes; a VMDK descriptor is at most 1048576 bytes");
        Files.writeString(huge, header + "RW 1 ZERO\n".repeat(40_000));
        refused(huge, "descriptor has more than 32768 extent lines");
    }

    @Test
    void badExtentLines() throws Exception {
        Path d = dir.resolve("bad.vmdk");
        VmdkFixtures.descriptor(d, "custom", null, null, "RW many FLAT \"x\"");
        refused(d, "bad sector count in extent line 9: RW many FLAT \"x\"");
        VmdkFixtures.descriptor(d, "custom", null, null, "RW 8 FLOPPY \"x\"");
        refused(d, "unknown extent type FLOPPY in line 9");
        VmdkFixtures.descriptor(d, "custom", null, null, "RW 8 FLAT \"x");
        refused(d, "unterminated file name");
        VmdkFixtures.descriptor(d, "custom", null, null, "RW 99999999999999999 ZERO");
        refused(d, "extent size out of range");
        VmdkFixtures.descriptor(d, "custom", null, null);
        refused(d, "descriptor has no extent lines");
        Files.write(dir.resolve("notsparse.bin"), new byte[4096]);
        VmdkFixtures.descriptor(d, "custom", null, null, "RW 8 SPARSE \"notsparse.bin\"");
        ImageException e = assertThrows(ImageException.class, () -> Images.open(d));
        assertEquals(dir.resolve("notsparse.bin") + ": not a sparse extent: no KDMV, COWD or seSparse magic",
                e.getMessage());
    }

    private Path stream() throws Exception {
        Path s = dir.resolve("stream.vmdk");
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                raw.toString(), s.toString());
        return s;
    }

    private long firstCompressedGrain(Path s) throws IOException {
        try (VirtualDisk disk = Images.open(s)) {
            List<Run> runs = new ArrayList<>();
            disk.map(0, 65536, runs::add);
            assertEquals(RunKind.COMPRESSED, runs.get(0).kind());
            return runs.get(0).hostOffset();
        }
    }

    @Test
    void aTruncatedCompressedGrain() throws Exception {
        Path s = stream();
        long grain = firstCompressedGrain(s);
        byte[] good = Files.readAllBytes(s);
        VmdkFixtures.patch(s, grain + 8, le(4).putInt(0, 100));
        refused(s, "compressed grain at virtual offset 0 (host offset " + (grain + 12) + ") is truncated");
        Files.write(s, good);
        VmdkFixtures.patch(s, grain + 8, le(4).putInt(0, 0x7fffffff));
        refused(s, "compressed grain at virtual offset 0 (host offset " + grain + ") has an impossible size");
        Files.write(s, good);
        VmdkFixtures.patch(s, grain + 12 + 40, ByteBuffer.wrap(new byte[64]));
        refused(s, "compressed grain at virtual offset 0 (host offset " + (grain + 12) + ") is damaged");
    }

    /**
     * A stream with its grain directory at the end (as VMware writes them; qemu puts it first, so
     * the header is patched) cut short: the grains before the cut read, the rest is an error.
     */
    @Test
    void aStreamCutShortIsWalkedUpToTheCut() throws Exception {
        Path s = stream();
        VmdkFixtures.patch(s, 56, le(8).putLong(0, -1));
        byte[] all = Files.readAllBytes(s);
        Files.write(s, java.util.Arrays.copyOf(all, all.length + 512)); // an end-of-stream marker
        List<String> complete = new ArrayList<>();
        try (VirtualDisk disk = Images.open(s, org.vdmount.formats.OpenOptions.readOnly(), complete::add)) {
            TestImages.assertSameBytes(raw, disk);
        }
        assertEquals(1, complete.size(), complete.toString());
        assertTrue(complete.get(0).contains("up to its end-of-stream marker"), complete.get(0));
        Files.write(s, java.util.Arrays.copyOf(all, all.length / 2));
        byte[] expected = Files.readAllBytes(raw);
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(s, org.vdmount.formats.OpenOptions.readOnly(), warnings::add)) {
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).startsWith(s + ": the streamOptimized file has no footer"), warnings.get(0));
            List<Run> runs = new ArrayList<>();
            disk.map(0, disk.size(), runs::add);
            Run tail = runs.get(runs.size() - 1);
            assertEquals(RunKind.UNREADABLE, tail.kind());
            assertEquals(disk.size(), tail.end());
            long readable = tail.offset();
            assertTrue(readable > 0 && readable % 65536 == 0 && readable < disk.size(), "readable " + readable);
            ByteBuffer got = ByteBuffer.allocate((int) readable);
            disk.read(got, 0);
            assertTrue(java.util.Arrays.equals(java.util.Arrays.copyOf(expected, (int) readable), got.array()));
            ImageException e = assertThrows(ImageException.class, () -> disk.read(ByteBuffer.allocate(4096), readable));
            assertTrue(e.getMessage().contains("past the end of the cut-short stream"), e.getMessage());
        }
    }

    @Test
    void damagedCowdAndSeSparseExtents() throws Exception {
        Path cowd = dir.resolve("d-delta.vmdk");
        VmdkFixtures.cowd(cowd, 8192, 1, java.util.Map.of(5, (byte) 1));
        Path d = VmdkFixtures.descriptor(dir.resolve("d.vmdk"), "vmfsSparse", null, null,
                "RW 8192 VMFSSPARSE \"d-delta.vmdk\"");
        byte[] good = Files.readAllBytes(cowd);
        VmdkFixtures.patch(cowd, 20, le(4).putInt(0, 0x7fffffff));
        ImageException e = assertThrows(ImageException.class, () -> Images.open(d));
        assertTrue(e.getMessage().startsWith(cowd + ": COWD grain directory at sector 2147483647"), e.getMessage());
        Files.write(cowd, good);
        VmdkFixtures.patch(cowd, 16, le(4).putInt(0, 0));
        e = assertThrows(ImageException.class, () -> Images.open(d));
        assertTrue(e.getMessage().contains("COWD grain size of 0 sectors is out of range"), e.getMessage());
        Files.write(cowd, good);
        VmdkFixtures.patch(cowd, 4 * 512, le(4).putInt(0, 0x7ffffff0));
        e = assertThrows(ImageException.class, () -> Images.open(d));
        assertTrue(e.getMessage().contains("COWD grain table 0 at sector 2147483632 lies outside the file"),
                e.getMessage());

        Path se = dir.resolve("s-sesparse.vmdk");
        VmdkFixtures.seSparse(se, 8192, java.util.Map.of(5, (byte) 1));
        Path s = VmdkFixtures.descriptor(dir.resolve("s.vmdk"), "seSparse", null, null,
                "RW 8192 SESPARSE \"s-sesparse.vmdk\"");
        good = Files.readAllBytes(se);
        VmdkFixtures.patch(se, 8, le(8).putLong(0, 0x300000001L));
        e = assertThrows(ImageException.class, () -> Images.open(s));
        assertTrue(e.getMessage().contains("seSparse version 0x300000001 is not supported"), e.getMessage());
        Files.write(se, good);
        VmdkFixtures.patch(se, 512 + 24, le(8).putLong(0, 1));
        e = assertThrows(ImageException.class, () -> Images.open(s));
        assertTrue(e.getMessage().contains("journal needs replaying"), e.getMessage());
        Files.write(se, good);
        VmdkFixtures.patch(se, 128, le(8).putLong(0, 1L << 50));
        e = assertThrows(ImageException.class, () -> Images.open(s));
        assertTrue(e.getMessage().contains("seSparse grain directory at sector"), e.getMessage());
        Files.write(se, good);
        VmdkFixtures.patch(se, 8 * 512, le(8).putLong(0, 0x7000000000000000L));
        e = assertThrows(ImageException.class, () -> Images.open(s));
        assertTrue(e.getMessage().contains("seSparse grain directory entry 0 is damaged"), e.getMessage());
    }
}
