package org.vdmount.formats.ewf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.overlay.Overlays;
import org.vdmount.formats.testing.TestImages;

/** E01 sets made by ewfacquire, read against ewfexport, whole and damaged. */
class EwfTest {
    /** Not a multiple of any chunk size: the last chunk is short. */
    private static final long SIZE = (3L << 20) + 1536;

    @TempDir
    static Path dir;
    private static Path raw;

    @BeforeAll
    static void disk() throws Exception {
        raw = dir.resolve("disk.raw");
        TestImages.writePattern(raw, 0, 1 << 20, 1);
        byte[] text = new byte[1 << 19];
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) ("evidence line " + (i / 64) + "\n").charAt(i % 16);
        }
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(text), 2L << 20);
        }
        TestImages.writePattern(raw, (5L << 19), (int) (SIZE - (5L << 19)), 2);
        assertEquals(SIZE, Files.size(raw));
    }

    @ParameterizedTest(name = "{0} compression, {1}-sector chunks, segments of {2}, {3}, sha1 {4}")
    @CsvSource({
        "none, 64, 0, encase6, true",
        "empty-block, 16, 0, encase5, false",
        "fast, 128, 1048576, encase6, true",
        "best, 32768, 0, linen6, false",
        "fast, 64, 1048576, ftk, true",
        "best, 1024, 1048576, encase5, false",
        "none, 64, 1048576, ewf, false",
        "best, 64, 1048576, smart, false",
        "fast, 64, 0, encase1, false",
        "fast, 256, 0, encase7, true",
        "empty-block, 64, 0, linen7, true",
        "fast, 64, 0, ewfx, true",
    })
    void readsLikeEwfexport(String compression, int chunkSectors, long segment, String format, boolean sha1)
            throws Exception {
        Path sub = Files.createDirectories(dir.resolve(compression + chunkSectors + format + segment));
        Path e01 = Ewf.acquire(sub, raw, "evidence", compression, chunkSectors, segment, format, sha1);
        Path expected = Ewf.export(e01);
        try (VirtualDisk disk = Images.open(e01)) {
            TestImages.assertSameBytes(expected, disk);
            TestImages.assertSameBytes(raw, disk);
            DiskInfo info = disk.info();
            assertEquals("ewf", info.format());
            assertEquals(chunkSectors * 512, info.clusterSize());
            assertEquals("case 14", info.details().get("case-number"));
            assertEquals("A. Examiner", info.details().get("examiner"));
            // The stored hashes as libewf reads them (FTK's format keeps no SHA-1, whatever -d asked).
            assertEquals(hash("MD5"), info.details().get("acquisition-md5"));
            assertEquals(Ewf.storedHash(e01, "MD5"), info.details().get("acquisition-md5"));
            assertEquals(Ewf.storedHash(e01, "SHA1"), info.details().get("acquisition-sha1"));
            if (sha1 && format.matches("encase6|encase7|linen6|linen7")) {
                assertEquals(hash("SHA-1"), info.details().get("acquisition-sha1"));
            }
            if (segment > 0) {
                assertTrue(info.files().size() > 1, "several segments: " + info.files());
            }
        }
    }

    @Test
    void segmentsAreFoundInTheCaseOfTheFirstOnesName() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("lower"));
        Path e01 = Ewf.acquire(sub, raw, "Disk", "none", 64, 1 << 20, "encase6", false);
        List<Path> renamed = new ArrayList<>();
        try (var files = Files.list(sub)) {
            for (Path p : files.filter(p -> p.getFileName().toString().matches("Disk\\.E\\d\\d")).toList()) {
                String n = p.getFileName().toString();
                renamed.add(Files.move(p, p.resolveSibling(n.substring(0, n.length() - 3) + "e" + n.substring(n.length() - 2))));
            }
        }
        assertTrue(renamed.size() >= 3, "segments: " + renamed);
        try (VirtualDisk disk = Images.open(sub.resolve("Disk.e01"))) {
            TestImages.assertSameBytes(raw, disk);
            assertEquals(renamed.size(), disk.info().files().size());
        }
        assertTrue(e01.getFileName().toString().endsWith(".E01"));
    }

    @Test
    void aFlippedByteInAChunkIsAnErrorNamingIt() throws Exception {
        for (String compression : List.of("none", "best")) {
            Path sub = Files.createDirectories(dir.resolve("flip-" + compression));
            Path e01 = Ewf.acquire(sub, raw, "evidence", compression, 64, 0, "encase6", false);
            long sectors = Ewf.section(e01, "sectors").get(0)[0];
            flip(e01, sectors + 76 + 40_000);
            try (VirtualDisk disk = Images.open(e01)) {
                ImageException e = assertThrows(ImageException.class,
                        () -> disk.read(ByteBuffer.allocate((int) SIZE), 0));
                assertTrue(e.getMessage().contains("chunk at virtual offset 32768 "), e.getMessage());
                assertTrue(e.getMessage().contains(compression.equals("none") ? "Adler-32" : "damaged"), e.getMessage());
                assertEquals(1, e.getMessage().lines().count());
                // The chunks before it still read.
                disk.read(ByteBuffer.allocate(32768), 0);
            }
            TestImages.Result libewf = Ewf.verify(e01);
            assertTrue(libewf.exit() != 0, "ewfverify agrees the set is damaged: " + libewf.output());
        }
    }

    @Test
    void aTruncatedLastSegmentIsOneLineNamingIt() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("truncated"));
        Ewf.acquire(sub, raw, "evidence", "fast", 64, 1 << 20, "encase6", false);
        Path last = lastSegment(sub);
        try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 300);
        }
        String message = refusal(sub.resolve("evidence.E01"));
        assertTrue(message.contains(last.getFileName().toString()) && message.contains("truncated"), message);
    }

    @Test
    void aMissingMiddleSegmentIsNamed() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("missing"));
        Ewf.acquire(sub, raw, "evidence", "none", 64, 1 << 20, "encase6", false);
        assertTrue(Files.exists(sub.resolve("evidence.E03")));
        Files.delete(sub.resolve("evidence.E02"));
        String message = refusal(sub.resolve("evidence.E01"));
        assertTrue(message.contains("segment 'evidence.E02' not found"), message);
    }

    @Test
    void segmentsOutOfOrderAreRefused() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("swapped"));
        Ewf.acquire(sub, raw, "evidence", "none", 64, 1 << 20, "encase6", false);
        Files.move(sub.resolve("evidence.E02"), sub.resolve("x"));
        Files.move(sub.resolve("evidence.E03"), sub.resolve("evidence.E02"));
        Files.move(sub.resolve("x"), sub.resolve("evidence.E03"));
        String message = refusal(sub.resolve("evidence.E01"));
        assertTrue(message.contains("is segment 3 of its set, expected segment 2"), message);
    }

    @Test
    void aZeroedTableIsReadFromItsTable2Copy() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("table2"));
        Path e01 = Ewf.acquire(sub, raw, "evidence", "fast", 64, 0, "encase6", false);
        Path expected = Ewf.export(e01);
        long[] table = Ewf.section(e01, "table").get(0);
        // The whole table (header, entries, footer), its descriptor left to chain the sections.
        zero(e01, table[0] + 76, table[1] - 76);
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(e01, OpenOptions.readOnly(), warnings::add)) {
            TestImages.assertSameBytes(expected, disk);
        }
        assertTrue(warnings.toString().contains("table2 copy is used"), warnings.toString());
        // Entries zeroed but the header kept: the entries' checksum fails, and table2 is read.
        Path sub2 = Files.createDirectories(dir.resolve("table2-entries"));
        Path e01b = Ewf.acquire(sub2, raw, "evidence", "fast", 64, 0, "encase6", false);
        long[] tableB = Ewf.section(e01b, "table").get(0);
        zero(e01b, tableB[0] + 76 + 24, 200);
        try (VirtualDisk disk = Images.open(e01b)) {
            TestImages.assertSameBytes(expected, disk);
        }
        // Both copies zeroed: one line.
        long[] table2 = Ewf.section(e01b, "table2").get(0);
        zero(e01b, table2[0] + 76 + 24, 200);
        try (VirtualDisk disk = Images.open(e01b)) {
            ImageException e = assertThrows(ImageException.class, () -> disk.read(ByteBuffer.allocate(4096), 0));
            assertTrue(e.getMessage().contains("so is its table2 copy"), e.getMessage());
        }
    }

    @Test
    void anImageAcquiredAsAFileOpensInOneStep() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("nested"));
        Path qcow2 = sub.resolve("vm.qcow2");
        TestImages.qemuImg(sub, "convert", "-f", "raw", "-O", "qcow2", "-c", raw.toString(), qcow2.toString());
        // ewfacquire reads whole sectors: the qcow2 file padded to one (qemu-img writes whole clusters).
        assertEquals(0, Files.size(qcow2) % 512);
        Path e01 = Ewf.acquire(sub, qcow2, "vm", "fast", 64, 0, "encase6", true);
        try (VirtualDisk disk = Images.open(e01)) {
            TestImages.assertSameBytes(raw, disk);
            DiskInfo info = disk.info();
            assertEquals("qcow2", info.format());
            assertEquals("ewf E01", info.details().get("evidence.format"));
            assertEquals("case 14", info.details().get("evidence.case-number"));
            assertEquals(Files.size(qcow2), info.details().get("evidence.media-size"));
            assertEquals(List.of(e01.toString()), info.files());
        }
        // --format ewf reads the media itself: the qcow2 file's bytes.
        try (VirtualDisk media = Images.open(e01, OpenOptions.readOnly().withFormat("ewf"), w -> { })) {
            TestImages.assertSameBytes(qcow2, media);
        }
    }

    /**
     * Sectors the acquisition could not read, listed in an error2 section (built here, since
     * ewfacquire cannot meet a read error on a file: libewf's own ewfinfo lists the ranges, so the
     * section is as libewf writes it). {@code info} reports them; they read as stored, exactly as
     * libewf's ewfexport reads them: the list records what happened at acquisition, it does not
     * change the media (EnCase and ewfacquire -w stored zeros there; ewfacquire without -w, what
     * the failed read left).
     */
    @Test
    void acquisitionReadErrorsAreReportedAndReadAsLibewfReadsThem() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("error2"));
        Path e01 = Ewf.acquire(sub, raw, "evidence", "fast", 64, 0, "encase6", false);
        addErrorSection(e01, new long[][] {{8, 16}, {100, 1}});
        String ewfinfo = TestImages.run(sub, "ewfinfo", e01.toString());
        assertTrue(ewfinfo.contains("at sector(s): 8 - 23 number: 16"), ewfinfo);
        assertTrue(ewfinfo.contains("at sector(s): 100 - 100 number: 1"), ewfinfo);
        Path expected = Ewf.export(e01);
        try (VirtualDisk disk = Images.open(e01)) {
            TestImages.assertSameBytes(expected, disk);
            TestImages.assertSameBytes(raw, disk); // the pattern there is not zeros: stored bytes are read
            DiskInfo info = disk.info();
            assertEquals(2L, info.details().get("error-ranges"));
            assertEquals("sectors 8-23 (16 sectors unreadable at acquisition; read as stored, as libewf does)",
                    info.details().get("error-1"));
            assertEquals("sectors 100-100 (1 sectors unreadable at acquisition; read as stored, as libewf does)",
                    info.details().get("error-2"));
        }
    }

    /**
     * Puts an error2 section (libyal's EWF document: a 4-byte count, 512 bytes of padding and an
     * Adler-32, then 8 bytes per range and an Adler-32) where the segment's "done" section was, and
     * the "done" after it.
     */
    private static void addErrorSection(Path segment, long[][] ranges) throws IOException {
        long done = Ewf.section(segment, "done").get(0)[0];
        ByteBuffer header = ByteBuffer.allocate(520).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, ranges.length);
        header.putInt(516, (int) Checksums.adler32(header.array(), 0, 516));
        ByteBuffer entries = ByteBuffer.allocate(8 * ranges.length + 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < ranges.length; i++) {
            entries.putInt(8 * i, (int) ranges[i][0]).putInt(8 * i + 4, (int) ranges[i][1]);
        }
        entries.putInt(8 * ranges.length, (int) Checksums.adler32(entries.array(), 0, 8 * ranges.length));
        long size = Section.DESCRIPTOR_BYTES + header.capacity() + entries.capacity();
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            ch.truncate(done);
            ch.write(descriptor("error2", done + size, size), done);
            ch.write(header, done + Section.DESCRIPTOR_BYTES);
            ch.write(entries, done + Section.DESCRIPTOR_BYTES + header.capacity());
            ch.write(descriptor("done", done + size, 0), done + size); // "done" points at itself
        }
    }

    private static ByteBuffer descriptor(String type, long next, long size) {
        ByteBuffer d = ByteBuffer.allocate(Section.DESCRIPTOR_BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        d.put(type.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putLong(16, next).putLong(24, size);
        d.putInt(72, (int) Checksums.adler32(d.array(), 0, 72));
        return d.clear();
    }

    @Test
    void evidenceIsNeverOpenedForWriting() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("rw"));
        Path e01 = Ewf.acquire(sub, raw, "evidence", "fast", 64, 0, "encase6", false);
        ImageException e = assertThrows(ImageException.class,
                () -> Images.open(e01, new OpenOptions(null, 0, true), w -> { }));
        assertTrue(e.getMessage().contains("read-only: --rw is refused"), e.getMessage());
    }

    @Test
    void anOverlayTakesWritesAndTheEvidenceStaysAsItWas() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("overlay"));
        Path e01 = Ewf.acquire(sub, raw, "evidence", "fast", 64, 1 << 20, "encase6", true);
        List<Path> segments;
        try (var files = Files.list(sub)) {
            segments = files.filter(p -> p.getFileName().toString().matches("evidence\\.E\\d\\d")).sorted().toList();
        }
        List<String> before = new ArrayList<>();
        for (Path p : segments) {
            before.add(digest(p) + " " + Files.getLastModifiedTime(p));
        }
        Path overlay = sub.resolve("changes.ovl");
        ByteBuffer written = ByteBuffer.wrap(TestImages.pattern(70_000, 9));
        try (VirtualDisk disk = Overlays.open(e01, Images.open(e01), overlay, w -> { })) {
            disk.write(written.duplicate(), 100_000);
        }
        try (VirtualDisk disk = Overlays.open(e01, Images.open(e01), overlay, w -> { })) {
            ByteBuffer back = ByteBuffer.allocate(70_000);
            disk.read(back, 100_000);
            assertEquals(written.rewind(), back.flip());
            ByteBuffer head = ByteBuffer.allocate(65536);
            disk.read(head, 0);
            assertEquals(ByteBuffer.wrap(Files.readAllBytes(raw), 0, 65536), head.flip(),
                    "what the overlay does not hold reads from the evidence");
        }
        // qemu has no E01 driver: it checks the overlay alone, its backing file left unopened.
        String check = TestImages.qemuImg(sub, "check", "json:{\"driver\":\"qcow2\",\"file\":"
                + "{\"driver\":\"file\",\"filename\":\"" + overlay + "\"},\"backing\":null}");
        assertTrue(check.contains("No errors were found"), check);
        List<String> after = new ArrayList<>();
        for (Path p : segments) {
            after.add(digest(p) + " " + Files.getLastModifiedTime(p));
        }
        assertEquals(before, after);
        try (VirtualDisk disk = Images.open(e01)) {
            TestImages.assertSameBytes(raw, disk);
        }
    }

    private static String digest(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static String refusal(Path e01) {
        ImageException e = assertThrows(ImageException.class, () -> {
            try (VirtualDisk disk = Images.open(e01)) {
                disk.read(ByteBuffer.allocate((int) disk.size()), 0);
            }
        });
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        return e.getMessage();
    }

    private static Path lastSegment(Path sub) throws IOException {
        try (var files = Files.list(sub)) {
            return files.filter(p -> p.getFileName().toString().matches("evidence\\.E\\d\\d")).sorted()
                    .reduce((a, b) -> b).orElseThrow();
        }
    }

    private static void flip(Path file, long at) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x10));
            ch.write(b.rewind(), at);
        }
    }

    private static void zero(Path file, long at, long length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate((int) length), at);
        }
    }

    private static String hash(String algorithm) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(Files.readAllBytes(raw)));
    }
}
