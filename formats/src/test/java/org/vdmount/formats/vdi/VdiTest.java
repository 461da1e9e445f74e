package org.vdmount.formats.vdi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vdmount.formats.testing.TestImages.qemuImg;
import static org.vdmount.formats.testing.TestImages.qemuIo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.Corpus;
import org.vdmount.formats.testing.QemuMap;
import org.vdmount.formats.testing.TestImages;

/** VDI made by qemu at test time, version 0 and differencing images built from them, hostile headers. */
class VdiTest {
    @TempDir
    Path dir;

    private Path raw(long size) throws IOException {
        return TestImages.patternedDisk(dir.resolve("src.raw"), size);
    }

    private Path vdi(String name, boolean isStatic, long size) throws Exception {
        Path image = dir.resolve(name);
        Files.createDirectories(image.getParent());
        Files.deleteIfExists(image);
        qemuImg(dir, "convert", "-f", "raw", "-O", "vdi", "-o", "static=" + (isStatic ? "on" : "off"),
                raw(size).toString(), image.toString());
        return image;
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsWhatQemuMakesLikeQemu(boolean isStatic) throws Exception {
        Path image = vdi("disk.vdi", isStatic, 12L << 20);
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals("vdi", disk.info().format());
            assertEquals(isStatic ? "static" : "dynamic", disk.info().subformat());
            TestImages.assertSameBytes(TestImages.qemuRaw(image), disk);
        }
    }

    private static ByteBuffer le(Path file) throws IOException {
        return ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** VBoxManage convertfromraw writes odd disk sizes; qemu reads them rounded up to a sector, and so do we. */
    @Test
    void anOddDiskSizeCountsAsWholeSectors() throws Exception {
        Path image = vdi("odd.vdi", false, 12L << 20);
        ByteBuffer b = le(image);
        b.putLong(368, (12L << 20) - 700);
        Files.write(image, b.array());
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals((12L << 20) - 512, disk.size());
            TestImages.assertSameBytes(TestImages.qemuRaw(image), disk);
        }
    }

    /**
     * Version 0 headers put the block map right after the 420-byte header and the data right after
     * the map. qemu does not read them; an image qemu made is rewritten in that layout and must read
     * as qemu read it before.
     */
    @Test
    void readsAVersion0Header() throws Exception {
        Path image = vdi("v1.vdi", false, 12L << 20);
        Path expected = TestImages.qemuRaw(image);
        ByteBuffer v1 = le(image);
        long blocks = Integer.toUnsignedLong(v1.getInt(384));
        long mapAt = v1.getInt(340);
        long dataAt = v1.getInt(344);
        int dataStart = 420 + 4 * (int) blocks;
        ByteBuffer v0 = ByteBuffer.allocate(dataStart + (int) (v1.capacity() - dataAt)).order(ByteOrder.LITTLE_ENDIAN);
        v0.put(0, v1.array(), 0, 64);
        v0.putInt(64, VdiHeader.SIGNATURE);
        v0.putInt(68, 0x00000001);
        v0.putInt(72, VdiHeader.DYNAMIC);
        v0.putInt(348, 512);
        v0.putLong(352, v1.getLong(368));
        v0.putInt(360, v1.getInt(376));
        v0.putInt(364, (int) blocks);
        v0.putInt(368, v1.getInt(388));
        v0.put(372, v1.array(), 392, 48);
        v0.put(420, v1.array(), (int) mapAt, 4 * (int) blocks);
        v0.put(dataStart, v1.array(), (int) dataAt, (int) (v1.capacity() - dataAt));
        Path old = dir.resolve("v0.vdi");
        Files.write(old, v0.array());
        try (VirtualDisk disk = Images.open(old)) {
            assertEquals("0.1", disk.info().details().get("header-version"));
            TestImages.assertSameBytes(expected, disk);
        }
    }

    private record Chain(Path parent, Path child, byte[] expected) {
    }

    /**
     * VirtualBox's layout: the base image in the VM's folder, snapshot images in its Snapshots
     * folder, named by their UUID, next to images of other VMs' that are not the parent.
     */
    private Chain chain() throws Exception {
        long size = 16L << 20;
        Path parent = vdi("vm/base.vdi", false, size);
        Path stranger = vdi("vm/other.vdi", false, size);
        Path child = dir.resolve("vm/Snapshots/{0f1e2d3c-0000-4000-8000-000000000001}.vdi");
        Files.createDirectories(child.getParent());
        qemuImg(dir, "create", "-f", "vdi", child.toString(), String.valueOf(size));
        qemuIo(child, "vdi", "write -P 0xc1 100k 64k", "write -P 0xc2 5M 2M");
        byte[] expected = Files.readAllBytes(TestImages.qemuRaw(parent));
        byte[] own = Files.readAllBytes(TestImages.qemuRaw(child));
        for (QemuMap.Range r : QemuMap.dataOfTopLayer(child, "vdi")) {
            System.arraycopy(own, (int) r.start(), expected, (int) r.start(), (int) r.length());
        }
        ByteBuffer c = le(child);
        ByteBuffer p = le(parent);
        c.putInt(76, VdiHeader.DIFFERENCING);
        c.put(424, p.array(), 392, 16); // uuidLinkage: the parent's own UUID
        c.put(440, p.array(), 408, 16); // uuidParentModify: the parent's modification UUID
        // Block 3 (3 MiB, parent data there): "zero" in the child hides the parent's bytes.
        c.putInt(c.getInt(340) + 4 * 3, (int) VdiDisk.ZERO);
        Arrays.fill(expected, 3 << 20, 4 << 20, (byte) 0);
        Files.write(child, c.array());
        assertTrue(Files.exists(stranger));
        return new Chain(parent, child, expected);
    }

    @Test
    void readsADifferencingImageOverTheParentItsUuidNames() throws Exception {
        Chain chain = chain();
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(chain.child(), OpenOptions.readOnly(), warnings::add)) {
            assertEquals("differencing", disk.info().subformat());
            assertEquals(chain.parent().toString(), disk.backing().orElseThrow().info().name());
            Path expected = dir.resolve("expected.raw");
            Files.write(expected, chain.expected());
            TestImages.assertSameBytes(expected, disk);
        }
        assertEquals(List.of(), warnings);
    }

    @Test
    void aModifiedParentIsAWarningAndAMissingOneAnError() throws Exception {
        Chain chain = chain();
        ByteBuffer p = le(chain.parent());
        p.put(408, new byte[16]); // another modification UUID
        p.put(408, (byte) 1);
        Files.write(chain.parent(), p.array());
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(chain.child(), OpenOptions.readOnly(), warnings::add)) {
            assertEquals(1, warnings.size());
            assertTrue(warnings.get(0).contains("was modified after this image was made"), warnings.get(0));
        }
        Files.delete(chain.parent());
        ImageException e = assertThrows(ImageException.class, () -> Images.open(chain.child()));
        assertTrue(e.getMessage().startsWith(chain.child() + ": parent disk '{"), e.getMessage());
        assertTrue(e.getMessage().contains(dir.resolve("vm/other.vdi") + " (directory above) (another disk)"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("put the parent's .vdi beside this image"), e.getMessage());
    }

    private void refused(Path image, String reason) {
        ImageException e = assertThrows(ImageException.class, () -> {
            try (VirtualDisk disk = Images.open(image)) {
                disk.read(ByteBuffer.allocate((int) Math.min(disk.size(), 12 << 20)), 0);
            }
        });
        assertTrue(e.getMessage().startsWith(image + ": ") && e.getMessage().contains(reason), e.getMessage());
    }

    private void patchInt(Path image, int at, int value) throws Exception {
        ByteBuffer b = le(image);
        b.putInt(at, value);
        Files.write(image, b.array());
    }

    @Test
    void hostileHeadersAreRefusedInOneLine() throws Exception {
        Path image = vdi("h.vdi", false, 12L << 20);
        byte[] good = Files.readAllBytes(image);
        patchInt(image, 340, 0x7ffffe00);
        refused(image, "block map at offset 2147483136 (12 entries) lies outside the");
        Files.write(image, good);
        patchInt(image, 376, 0x80000000);
        refused(image, "block size 2147483648 is not a power of two");
        Files.write(image, good);
        patchInt(image, 384, 2);
        refused(image, "disk size 12582912 needs more than the 2 blocks of 1048576 bytes");
        Files.write(image, good);
        patchInt(image, le(image).getInt(340), 4000);
        refused(image, "block 0 is mapped to data block 4000, past the image's 12 blocks");
        Files.write(image, good);
        patchInt(image, le(image).getInt(340), 11);
        refused(image, "lies past the end of the");
        Files.write(image, good);
        patchInt(image, 68, 0x00020000);
        refused(image, "VDI version 2.0 is not supported");
        Files.write(image, good);
        patchInt(image, 76, VdiHeader.UNDO);
        refused(image, "is a VDI undo image: not supported");
        Files.write(image, good);
        patchInt(image, 344, 100);
        refused(image, "data area at offset 100 overlaps the block map");
    }

    @Test
    void theCorpusImageReadsLikeQemu() throws Exception {
        Path image = Corpus.unpack("dissect/basic.vdi.gz", dir);
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals("dynamic", disk.info().subformat());
            TestImages.assertSameAsQemu(image, "vdi", disk);
        }
    }
}
