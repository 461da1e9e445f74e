package org.vdmount.formats.vmdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/** Hand-built VMDK files: what qemu-img cannot make, or reads differently from VMware. */
class VmdkFixtureTest {
    @TempDir
    Path dir;

    private static byte[] read(VirtualDisk disk, long offset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        disk.read(buf, offset);
        return buf.array();
    }

    @Test
    void readsZeroRdonlyAndFlatExtentsInAnyMixWithOffsetsAndSubdirectories() throws Exception {
        Files.createDirectories(dir.resolve("parts"));
        byte[] a = TestImages.pattern(8 * 512, 1);
        byte[] b = TestImages.pattern(20 * 512, 2);
        Files.write(dir.resolve("parts/a.bin"), a);
        Files.write(dir.resolve("b.bin"), b);
        Path vmdk = VmdkFixtures.descriptor(dir.resolve("mix.vmdk"), "custom", null, null,
                "RW 8 FLAT \"parts/a.bin\" 0",
                "RW 4 ZERO",
                "RDONLY 10 FLAT \"b.bin\" 10",
                "NOACCESS 2 FLAT \"missing-but-unused.bin\"",
                "RDONLY 3 VMFS \"b.bin\"");
        try (VirtualDisk disk = Images.open(vmdk)) {
            assertEquals((8 + 4 + 10 + 2 + 3) * 512, disk.size());
            byte[] expected = new byte[22 * 512];
            System.arraycopy(a, 0, expected, 0, 8 * 512);
            System.arraycopy(b, 10 * 512, expected, 12 * 512, 10 * 512);
            assertArrayEquals(expected, read(disk, 0, 22 * 512));
            byte[] tail = new byte[3 * 512];
            System.arraycopy(b, 0, tail, 0, 3 * 512);
            assertArrayEquals(tail, read(disk, 24 * 512, 3 * 512));
            ImageException e = assertThrows(ImageException.class, () -> read(disk, 21 * 512, 2048));
            assertTrue(e.getMessage().contains("NOACCESS") && e.getMessage().contains("line 12: NOACCESS 2 FLAT"), e.getMessage());
            List<Run> runs = new ArrayList<>();
            disk.map(0, disk.size(), runs::add);
            assertEquals(List.of(RunKind.DATA, RunKind.ZERO, RunKind.DATA, RunKind.UNREADABLE, RunKind.DATA),
                    runs.stream().map(Run::kind).toList());
            assertEquals("custom", disk.info().subformat());
            assertEquals("lsilogic", disk.info().details().get("ddb.adapter-type"));
        }
    }

    @Test
    void readsExtentNamesInWindows1252AndUtf8() throws Exception {
        for (String charset : new String[] {"windows-1252", "UTF-8"}) {
            Path sub = Files.createDirectories(dir.resolve(charset));
            String name = "d\u00e9j\u00e0-vu \u00fc.bin";
            byte[] data = TestImages.pattern(4096, 3);
            Files.write(sub.resolve(name), data);
            String text = "# Disk DescriptorFile\nversion=1\nencoding=\"" + charset + "\"\nCID=fffffffe\n"
                    + "parentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 8 FLAT \"" + name + "\" 0\n"
                    + "ddb.comment = \"caf\u00e9\"\n";
            Path vmdk = sub.resolve("disk.vmdk");
            Files.write(vmdk, text.getBytes(Charset.forName(charset)));
            try (VirtualDisk disk = Images.open(vmdk)) {
                assertArrayEquals(data, read(disk, 0, 4096));
                assertEquals("caf\u00e9", disk.info().details().get("ddb.comment"));
            }
        }
    }

    @Test
    void readsAnUndeclaredWindows1252Descriptor() throws Exception {
        String name = "\u00e9t\u00e9.bin";
        Files.write(dir.resolve(name), TestImages.pattern(512, 6));
        Path vmdk = dir.resolve("old.vmdk");
        Files.write(vmdk, ("# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\nRW 1 FLAT \"" + name
                + "\" 0\n").getBytes(Charset.forName("windows-1252")));
        try (VirtualDisk disk = Images.open(vmdk)) {
            assertArrayEquals(TestImages.pattern(512, 6), read(disk, 0, 512));
        }
    }

    @Test
    void endsTheDescriptorAtTheFirstNul() throws Exception {
        Files.write(dir.resolve("f.bin"), TestImages.pattern(512, 4));
        Path vmdk = dir.resolve("nul.vmdk");
        Files.write(vmdk, ("# Disk DescriptorFile\nversion=1\nCID=abc\ncreateType=\"monolithicFlat\"\n"
                + "RW 1 FLAT \"f.bin\" 0\n\0leftover of a longer former text\nRW 9 ZERO\n")
                .getBytes(StandardCharsets.US_ASCII));
        try (VirtualDisk disk = Images.open(vmdk)) {
            assertEquals(512, disk.size());
            assertArrayEquals(TestImages.pattern(512, 4), read(disk, 0, 512));
        }
    }

    @Test
    void readsARenamedMonolithicSparseFileFromItself() throws Exception {
        Path raw = dir.resolve("src.raw");
        Files.write(raw, TestImages.pattern(3 << 20, 5));
        Path original = dir.resolve("original.vmdk");
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "vmdk", raw.toString(), original.toString());
        Path renamed = dir.resolve("evidence-copy.vmdk");
        Files.move(original, renamed);
        try (VirtualDisk disk = Images.open(renamed)) {
            TestImages.assertSameBytes(raw, disk);
            assertEquals(List.of(renamed.toString()), disk.info().files());
        }
    }

    @Test
    void namesAMissingExtentAndTheLineThatWantedIt() throws Exception {
        Path vmdk = VmdkFixtures.descriptor(dir.resolve("d.vmdk"), "twoGbMaxExtentFlat", null, null,
                "RW 8 ZERO", "RW 8 FLAT \"gone-f002.vmdk\" 0");
        ImageException e = assertThrows(ImageException.class, () -> Images.open(vmdk));
        assertEquals(vmdk + ": extent file 'gone-f002.vmdk' not found (looked for " + dir.resolve("gone-f002.vmdk")
                + "), wanted by line 10: RW 8 FLAT \"gone-f002.vmdk\" 0", e.getMessage());
    }

    @Test
    void namesAMissingParent() throws Exception {
        Path vmdk = VmdkFixtures.descriptor(dir.resolve("child.vmdk"), "monolithicFlat", "base.vmdk", "1234",
                "RW 8 ZERO");
        ImageException e = assertThrows(ImageException.class, () -> Images.open(vmdk));
        assertTrue(e.getMessage().startsWith(vmdk + ": parent disk 'base.vmdk' not found"), e.getMessage());
        assertTrue(e.getMessage().contains("parentFileNameHint=\"base.vmdk\""), e.getMessage());
    }

    @Test
    void refusesALoopInParentHints() throws Exception {
        VmdkFixtures.descriptor(dir.resolve("a.vmdk"), "custom", "b.vmdk", null, "RW 8 ZERO");
        VmdkFixtures.descriptor(dir.resolve("b.vmdk"), "custom", "c.vmdk", null, "RW 8 ZERO");
        VmdkFixtures.descriptor(dir.resolve("c.vmdk"), "custom", "a.vmdk", null, "RW 8 ZERO");
        ImageException e = assertThrows(ImageException.class, () -> Images.open(dir.resolve("a.vmdk")));
        assertTrue(e.getMessage().contains("loops"), e.getMessage());
        VmdkFixtures.descriptor(dir.resolve("self.vmdk"), "custom", "self.vmdk", null, "RW 8 ZERO");
        e = assertThrows(ImageException.class, () -> Images.open(dir.resolve("self.vmdk")));
        assertTrue(e.getMessage().contains("loops"), e.getMessage());
    }

    @Test
    void warnsOnACidMismatchNamingBothFilesAndReadsOn() throws Exception {
        byte[] data = TestImages.pattern(4096, 7);
        Files.write(dir.resolve("base-flat.vmdk"), data);
        VmdkFixtures.descriptor(dir.resolve("base.vmdk"), "monolithicFlat", null, null,
                "RW 8 FLAT \"base-flat.vmdk\" 0");
        Path child = VmdkFixtures.descriptor(dir.resolve("child.vmdk"), "custom", "base.vmdk", "abcdef01",
                "RW 4 ZERO", "RW 4 ZERO");
        // The child's extents are ZERO: they hide the parent; make a delta by pointing the hint at a
        // parent with the wrong CID, then check the parent's bytes show through a sparse child.
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(child, OpenOptions.readOnly(), warnings::add)) {
            assertEquals(1, warnings.size());
            String w = warnings.get(0);
            assertTrue(w.contains(child.toString()) && w.contains(dir.resolve("base.vmdk").toString())
                    && w.contains("abcdef01") && w.contains("12345678"), w);
            assertArrayEquals(new byte[4096], read(disk, 0, 4096));
        }
    }

    @Test
    void findsAParentNamedByAWindowsPathNextToTheChild() throws Exception {
        Files.write(dir.resolve("base-flat.vmdk"), TestImages.pattern(4096, 8));
        VmdkFixtures.descriptor(dir.resolve("Base.vmdk"), "monolithicFlat", null, null,
                "RW 8 FLAT \"base-flat.vmdk\" 0");
        Map<Integer, Byte> grains = new LinkedHashMap<>();
        grains.put(1, (byte) 0x5a);
        VmdkFixtures.cowd(dir.resolve("child-delta.vmdk"), 8, 1, grains);
        Path child = VmdkFixtures.descriptor(dir.resolve("child.vmdk"), "vmfsSparse",
                "C:\\Virtual Machines\\XP\\Base.vmdk", "12345678", "RW 8 VMFSSPARSE \"child-delta.vmdk\"");
        try (VirtualDisk disk = Images.open(child)) {
            byte[] expected = TestImages.pattern(4096, 8);
            java.util.Arrays.fill(expected, 512, 1024, (byte) 0x5a);
            assertArrayEquals(expected, read(disk, 0, 4096));
        }
    }

    /** base (flat, qemu) <- COWD delta (hand-built) <- seSparse delta (hand-built), checked against qemu. */
    @Test
    void readsAChainMixingFlatCowdAndSeSparseLikeQemu() throws Exception {
        Path raw = dir.resolve("base.raw");
        Files.write(raw, TestImages.pattern(4 << 20, 9));
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicFlat",
                raw.toString(), dir.resolve("base.vmdk").toString());
        String baseCid = Files.readAllLines(dir.resolve("base.vmdk")).stream()
                .filter(l -> l.startsWith("CID=")).findFirst().orElseThrow().substring(4);
        Map<Integer, Byte> cowdGrains = new LinkedHashMap<>();
        cowdGrains.put(700, (byte) 0x11);
        cowdGrains.put(3, (byte) 0x22);
        cowdGrains.put(8191, (byte) 0x33);
        cowdGrains.put(4096, (byte) 0x44);
        VmdkFixtures.cowd(dir.resolve("mid-delta.vmdk"), 8192, 1, cowdGrains);
        VmdkFixtures.descriptor(dir.resolve("mid.vmdk"), "vmfsSparse", "base.vmdk", baseCid,
                "RW 8192 VMFSSPARSE \"mid-delta.vmdk\"");
        Map<Integer, Byte> seGrains = new LinkedHashMap<>();
        seGrains.put(100, (byte) 0x55);
        seGrains.put(1, (byte) 0x66);
        seGrains.put(87, null);
        seGrains.put(1023, (byte) 0x77);
        VmdkFixtures.seSparse(dir.resolve("top-sesparse.vmdk"), 8192, seGrains);
        Path top = VmdkFixtures.descriptor(dir.resolve("top.vmdk"), "seSparse", "mid.vmdk", "12345678",
                "RW 8192 SESPARSE \"top-sesparse.vmdk\"");
        Path expected = TestImages.qemuRaw(top);
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(top, OpenOptions.readOnly(), warnings::add)) {
            TestImages.assertSameBytes(expected, disk);
            assertEquals(List.of(), warnings);
            // And what the layers say, computed here rather than trusted to qemu:
            byte[] base = TestImages.pattern(4 << 20, 9);
            assertArrayEquals(java.util.Arrays.copyOfRange(base, 0, 512), read(disk, 0, 512));
            assertArrayEquals(filled(512, 0x22), read(disk, 3 * 512, 512));
            assertArrayEquals(filled(4096, 0x66), read(disk, 4096, 4096));
            assertArrayEquals(new byte[4096], read(disk, 87 * 4096, 4096));
            assertArrayEquals(filled(512, 0x77), read(disk, 8191 * 512, 512));
            assertArrayEquals(filled(512, 0x44), read(disk, 4096 * 512, 512));
            assertEquals("seSparse", disk.info().subformat());
        }
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    @Test
    void readsABareSparseExtentOpenedOnItsOwn() throws Exception {
        Path vmdk = dir.resolve("split.vmdk");
        TestImages.qemuImg(dir, "create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", vmdk.toString(), "3M");
        TestImages.qemuIo(vmdk, "vmdk", "write -P 0x42 1M 64k");
        try (VirtualDisk disk = Images.open(dir.resolve("split-s001.vmdk"))) {
            assertEquals(3 << 20, disk.size());
            assertArrayEquals(filled(65536, 0x42), read(disk, 1 << 20, 65536));
            assertEquals("sparse extent", disk.info().subformat());
        }
    }

    @Test
    void probesDescriptorsButNotOtherText() {
        VmdkFormat f = new VmdkFormat();
        assertTrue(f.probe(ByteBuffer.wrap("# Disk DescriptorFile\nversion=1\n".getBytes(StandardCharsets.UTF_8))));
        assertTrue(f.probe(ByteBuffer.wrap("version=1\ncreateType=\"custom\"\n\0\0\0".getBytes(StandardCharsets.UTF_8))));
        assertTrue(!f.probe(ByteBuffer.wrap("hello\nworld\n".getBytes(StandardCharsets.UTF_8))));
        assertTrue(!f.probe(ByteBuffer.wrap("createType=x\u0001\u0002binary".getBytes(StandardCharsets.UTF_8))));
        // qemu rewrites the CID in a sector-sized buffer: a shorter text leaves the old tail after a NUL.
        assertTrue(f.probe(ByteBuffer.wrap("# Disk DescriptorFile\nCID=1\n\0ID=12345678\n".getBytes(StandardCharsets.UTF_8))));
        assertTrue(!f.probe(ByteBuffer.allocate(512)));
    }
}
