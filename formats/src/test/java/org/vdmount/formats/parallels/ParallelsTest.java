package org.vdmount.formats.parallels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vdmount.formats.testing.TestImages.qemuImg;
import static org.vdmount.formats.testing.TestImages.qemuIo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.Corpus;
import org.vdmount.formats.testing.QemuMap;
import org.vdmount.formats.testing.TestImages;

/** Parallels images qemu makes, the corpus's, and bundles with storages and snapshots built from them. */
class ParallelsTest {
    private static final String BASE = "{5fbaabe3-6958-40ff-92a7-860e329aab41}";
    private static final String SNAP = "{a0000000-0000-4000-8000-000000000002}";

    @TempDir
    Path dir;

    private Path raw(long size, int seed) throws IOException {
        Path raw = dir.resolve("src" + seed + ".raw");
        Files.deleteIfExists(raw);
        TestImages.writePattern(raw, 0, 300_000, seed);
        TestImages.writePattern(raw, size / 2, 1 << 20, seed + 1);
        TestImages.writePattern(raw, size - 4096, 4096, seed + 2);
        return raw;
    }

    private Path parallels(String name, long size, int seed, String clusterSize) throws Exception {
        Path image = dir.resolve(name);
        Files.createDirectories(image.getParent());
        qemuImg(dir, "convert", "-f", "raw", "-O", "parallels", "-o", "cluster_size=" + clusterSize,
                raw(size, seed).toString(), image.toString());
        return image;
    }

    @ParameterizedTest
    @ValueSource(strings = {"64K", "1M", "4M"})
    void readsWhatQemuMakesLikeQemu(String clusterSize) throws Exception {
        Path image = parallels("disk.hds", 20L << 20, 1, clusterSize);
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals("parallels", disk.info().format());
            TestImages.assertSameBytes(TestImages.qemuRaw(image), disk);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qemu/parallels-v1.bz2", "qemu/parallels-v2.bz2", "qemu/fake.parallels.bz2",
        "dissect/expanding.hds.gz"})
    void theCorpusImagesReadLikeQemu(String name) throws Exception {
        Path image = Corpus.unpack(name, dir);
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals("expanding", disk.info().subformat());
            TestImages.assertSameAsQemu(image, "parallels", disk);
        }
    }

    private static String storage(long start, long end, String... images) {
        StringBuilder out = new StringBuilder("    <Storage>\n      <Start>" + start + "</Start>\n      <End>" + end
                + "</End>\n      <Blocksize>2048</Blocksize>\n");
        for (int i = 0; i < images.length; i += 3) {
            out.append("      <Image>\n        <GUID>").append(images[i]).append("</GUID>\n        <Type>")
                    .append(images[i + 1]).append("</Type>\n        <File>").append(images[i + 2])
                    .append("</File>\n      </Image>\n");
        }
        return out.append("    </Storage>\n").toString();
    }

    private static void descriptor(Path bundle, long sectors, String storages, String shots) throws IOException {
        Files.createDirectories(bundle);
        Files.writeString(bundle.resolve("DiskDescriptor.xml"), "<?xml version='1.0' encoding='UTF-8'?>\n"
                + "<Parallels_disk_image Version=\"1.0\">\n  <Disk_Parameters>\n    <Disk_size>" + sectors
                + "</Disk_size>\n    <Cylinders>203</Cylinders>\n    <Heads>16</Heads>\n    <Sectors>63</Sectors>\n"
                + "  </Disk_Parameters>\n  <StorageData>\n" + storages + "  </StorageData>\n  <Snapshots>\n" + shots
                + "  </Snapshots>\n</Parallels_disk_image>\n", StandardCharsets.UTF_8);
    }

    private static String shot(String guid, String parent) {
        return "    <Shot>\n      <GUID>" + guid + "</GUID>\n      <ParentGUID>" + parent + "</ParentGUID>\n    </Shot>\n";
    }

    /** The corpus's expanding image in the bundle Parallels Desktop made it for (its name carries its GUID). */
    @Test
    void readsABundleDirectoryThroughItsDescriptor() throws Exception {
        Path bundle = dir.resolve("expanding.hdd");
        Files.createDirectories(bundle);
        Path image = Corpus.unpack("dissect/expanding.hds.gz", bundle);
        Path named = bundle.resolve("expanding.hdd.0." + BASE + ".hds");
        Files.move(image, named);
        descriptor(bundle, 204800, storage(0, 204800, BASE, "Compressed", named.getFileName().toString()),
                shot(BASE, "{00000000-0000-0000-0000-000000000000}"));
        Path expected = TestImages.qemuRaw(named, "parallels");
        try (VirtualDisk disk = Images.open(bundle)) {
            assertEquals("bundle", disk.info().subformat());
            assertEquals(List.of(bundle + "/DiskDescriptor.xml", named.toString()), disk.info().files());
            TestImages.assertSameBytes(expected, disk);
        }
    }

    /**
     * Two storages (an expanding and a plain one), and a snapshot over the base whose images hold
     * writes of their own: the snapshot's bytes where it wrote, the base's elsewhere.
     */
    @Test
    void readsSplitStoragesAndASnapshotChain() throws Exception {
        Path bundle = dir.resolve("vm.hdd");
        long first = 12L << 20;
        long second = 8L << 20;
        Path base0 = parallels("vm.hdd/disk.0" + BASE + ".hds", first, 1, "1M");
        Path base1 = bundle.resolve("disk.1" + BASE + ".hds");
        Files.copy(raw(second, 4), base1);
        Path snap0 = bundle.resolve("disk.0" + SNAP + ".hds");
        Path snap1 = bundle.resolve("disk.1" + SNAP + ".hds");
        qemuImg(dir, "create", "-f", "parallels", snap0.toString(), String.valueOf(first));
        qemuImg(dir, "create", "-f", "parallels", snap1.toString(), String.valueOf(second));
        qemuIo(snap0, "parallels", "write -P 0x51 1M 100k", "write -P 0x52 11M 1M");
        qemuIo(snap1, "parallels", "write -P 0x53 0 64k");
        descriptor(bundle, (first + second) / 512,
                storage(0, first / 512, BASE, "Compressed", base0.getFileName().toString(), SNAP, "Compressed",
                        snap0.getFileName().toString())
                + storage(first / 512, (first + second) / 512, BASE, "Plain", base1.getFileName().toString(), SNAP,
                        "Compressed", snap1.getFileName().toString()),
                shot(BASE, "{00000000-0000-0000-0000-000000000000}") + shot(SNAP, BASE));
        byte[] expected = new byte[(int) (first + second)];
        System.arraycopy(Files.readAllBytes(TestImages.qemuRaw(base0)), 0, expected, 0, (int) first);
        System.arraycopy(Files.readAllBytes(base1), 0, expected, (int) first, (int) second);
        overlay(expected, snap0, 0);
        overlay(expected, snap1, first);
        Path want = dir.resolve("expected.raw");
        Files.write(want, expected);
        try (VirtualDisk disk = Images.open(bundle)) {
            assertEquals("{" + SNAP.substring(1, SNAP.length() - 1) + "}", disk.info().details().get("snapshot"));
            assertTrue(disk.backing().isPresent(), "the base layer is below the snapshot");
            TestImages.assertSameBytes(want, disk);
        }
    }

    private static void overlay(byte[] expected, Path image, long at) throws Exception {
        byte[] own = Files.readAllBytes(TestImages.qemuRaw(image));
        for (QemuMap.Range r : QemuMap.dataOfTopLayer(image, "parallels")) {
            System.arraycopy(own, (int) r.start(), expected, (int) (at + r.start()), (int) r.length());
        }
    }

    private void refused(Path image, String reason) {
        ImageException e = assertThrows(ImageException.class, () -> {
            try (VirtualDisk disk = Images.open(image)) {
                disk.read(ByteBuffer.allocate((int) Math.min(disk.size(), 8 << 20)), 0);
            }
        });
        assertTrue(e.getMessage().contains(reason) && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void hostileDescriptorsAreRefusedInOneLine() throws Exception {
        Path bundle = dir.resolve("bad.hdd");
        Files.createDirectories(bundle);
        Files.writeString(bundle.resolve("DiskDescriptor.xml"), "<?xml version='1.0'?>\n<!DOCTYPE x [<!ENTITY e "
                + "SYSTEM 'file:///etc/passwd'>]>\n<Parallels_disk_image>&e;</Parallels_disk_image>\n");
        refused(bundle, "DiskDescriptor.xml cannot be parsed: DOCTYPE is disallowed");
        descriptor(bundle, 100, storage(0, 40, BASE, "Plain", "a.hds") + storage(50, 100, BASE, "Plain", "b.hds"),
                "");
        refused(bundle, "storage 50-100 does not continue the disk at sector 40");
        descriptor(bundle, 100, storage(0, 100, BASE, "Plain", "gone.hds"), "");
        refused(bundle, "image file 'gone.hds' not found (looked for " + bundle.resolve("gone.hds")
                + " (DiskDescriptor.xml)), named by DiskDescriptor.xml for sectors 0-100");
        descriptor(bundle, 100, storage(0, 100, BASE, "Plain", "a.hds", SNAP, "Plain", "a.hds"),
                shot(BASE, SNAP) + shot(SNAP, BASE) + "<TopGUID>" + SNAP + "</TopGUID>");
        refused(bundle, "the snapshot tree loops");
    }

    @Test
    void hostileImagesAreRefusedInOneLine() throws Exception {
        Path image = parallels("h.hds", 8L << 20, 1, "1M");
        byte[] good = Files.readAllBytes(image);
        ByteBuffer b = ByteBuffer.wrap(good.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(28, 0);
        Files.write(image, b.array());
        refused(image, "cluster of 0 sectors is out of range");
        b = ByteBuffer.wrap(good.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(32, 0x7fffffff);
        Files.write(image, b.array());
        refused(image, "BAT of 2147483647 entries lies past the end of the");
        // With the older magic, BAT entries count sectors: sector 1 lies inside a 256-entry BAT.
        Path small = parallels("small.hds", 16L << 20, 1, "64K");
        b = ByteBuffer.wrap(Files.readAllBytes(small)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, ParallelsHeader.MAGIC.getBytes(StandardCharsets.ISO_8859_1));
        b.putInt(64, 1);
        Files.write(small, b.array());
        refused(small, "cluster 0 is placed at offset 512, inside the header and BAT (which end at 1088)");
        b = ByteBuffer.wrap(good.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(64, 0x7fffff);
        Files.write(image, b.array());
        refused(image, "lies past the end of the");
    }
}
