package org.vdmount.formats.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.SnapshotInfo;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/** Extended L2, backing chains, external data files and internal snapshots, against qemu. */
class Qcow2LayersTest {
    private static final int MIB = Qcow2Fixtures.MIB;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "cluster_size={0}")
    @ValueSource(strings = {"64k", "2M"})
    void readsExtendedL2SubclustersOverABackingFile(String clusterSize) throws Exception {
        Path raw = Qcow2Fixtures.sourceRaw(dir, "src.raw", 8 * MIB);
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "qcow2", raw.toString(), "base.qcow2");
        Path top = dir.resolve("top.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "-o",
                "extended_l2=on,cluster_size=" + clusterSize, top.toString(), "8M");
        TestImages.qemuIo(top, "qcow2", "write -P 0x61 2k 2k", "write -z 6k 2k", "write -P 0x62 70k 1000",
                "write -z 128k 64k", "write -P 0x63 300000 100000", "write -z 2M 100k",
                "write -P 0x64 4M 4k", "discard 5M 1M", "write -c -P 0x65 6M " + clusterSize, "write -z 7M 512k");
        try (VirtualDisk disk = Images.open(top)) {
            assertEquals(true, disk.info().details().get("extended-l2"));
            TestImages.assertSameBytes(TestImages.qemuRaw(top), disk);
        }
    }

    @Test
    void readsAThreeDeepChainWithAGrownTopAndRelativeNames() throws Exception {
        Path raw = Qcow2Fixtures.sourceRaw(dir, "src.raw", 4 * MIB);
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "qcow2", "-o", "compat=0.10,cluster_size=4k",
                raw.toString(), "base.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "mid.qcow2", "6M");
        TestImages.qemuIo(dir.resolve("mid.qcow2"), "qcow2", "write -P 0x71 1M 100k", "write -z 0 64k",
                "write -P 0x72 5M 512k");
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path top = sub.resolve("top.qcow2");
        TestImages.qemuImg(sub, "create", "-f", "qcow2", "-b", "../mid.qcow2", "-F", "qcow2", "-o",
                "cluster_size=512", "top.qcow2", "10M");
        TestImages.qemuIo(top, "qcow2", "write -P 0x73 1050k 10k", "write -P 0x74 9M 4k", "write -z 5M 4k");
        try (VirtualDisk disk = Images.open(top)) {
            assertEquals(10 * MIB, disk.size());
            VirtualDisk mid = disk.backing().orElseThrow();
            VirtualDisk base = mid.backing().orElseThrow();
            assertEquals(6 * MIB, mid.size());
            assertEquals("v2", base.info().subformat());
            assertTrue(base.backing().isEmpty());
            assertEquals("../mid.qcow2", disk.info().details().get("backing-file"));
            assertEquals("qcow2", disk.info().details().get("backing-format"));
            TestImages.assertSameBytes(TestImages.qemuRaw(top), disk);
        }
    }

    @Test
    void readsARawBackingFileAndZerosPastItsEnd() throws Exception {
        Path base = Qcow2Fixtures.sourceRaw(dir, "base.raw", 4 * MIB);
        Qcow2Fixtures.resize(base, 3 * MIB + 1234);
        Path top = dir.resolve("top.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-b", "base.raw", "-F", "raw", "top.qcow2", "5M");
        TestImages.qemuIo(top, "qcow2", "write -P 0x75 64k 4k");
        try (VirtualDisk disk = Images.open(top)) {
            assertEquals("raw", disk.backing().orElseThrow().info().format());
            TestImages.assertSameBytes(TestImages.qemuRaw(top), disk);
        }
    }

    @ParameterizedTest(name = "data_file_raw={0}")
    @ValueSource(strings = {"on", "off"})
    void readsAnExternalDataFile(String rawData) throws Exception {
        Path image = dir.resolve("ext.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-o", "data_file=ext.data,data_file_raw=" + rawData,
                image.toString(), "4M");
        TestImages.qemuIo(image, "qcow2", "write -P 0x41 0 100k", "write -P 0x42 1M 64k", "write -z 32k 64k",
                "write -P 0x43 3M 1000");
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals("ext.data", disk.info().details().get("data-file"));
            assertEquals(rawData.equals("on"), disk.info().details().get("data-file-raw"));
            assertEquals(List.of(image.toString(), dir.resolve("ext.data").toString()), disk.info().files());
            TestImages.assertSameBytes(TestImages.qemuRaw(image), disk);
        }
    }

    @Test
    void namesAMissingExternalDataFile() throws Exception {
        Path image = dir.resolve("ext.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-o", "data_file=ext.data", image.toString(), "1M");
        Files.delete(dir.resolve("ext.data"));
        ImageException e = assertThrows(ImageException.class, () -> Images.open(image));
        assertTrue(e.getMessage().startsWith(image + ": external data file 'ext.data' not found"), e.getMessage());
    }

    @Test
    void listsAndReadsInternalSnapshots() throws Exception {
        Path raw = Qcow2Fixtures.sourceRaw(dir, "src.raw", 4 * MIB);
        Path image = dir.resolve("snap.qcow2");
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "qcow2", raw.toString(), image.toString());
        TestImages.qemuImg(dir, "snapshot", "-c", "first", image.toString());
        TestImages.qemuIo(image, "qcow2", "write -P 0x51 0 1M", "write -z 2M 64k");
        TestImages.qemuImg(dir, "snapshot", "-c", "second", image.toString());
        TestImages.qemuImg(dir, "resize", image.toString(), "6M");
        TestImages.qemuIo(image, "qcow2", "write -P 0x52 512k 1M", "write -P 0x53 5M 4k");

        try (VirtualDisk disk = Images.open(image)) {
            List<SnapshotInfo> snapshots = disk.info().snapshots();
            assertEquals(List.of("1", "2"), snapshots.stream().map(SnapshotInfo::id).toList());
            assertEquals(List.of("first", "second"), snapshots.stream().map(SnapshotInfo::name).toList());
            assertEquals(4 * MIB, snapshots.get(0).virtualSize());
            assertEquals(6 * MIB, disk.size());
            TestImages.assertSameBytes(TestImages.qemuRaw(image), disk);
        }
        for (String wanted : List.of("first", "2")) {
            String name = wanted.equals("2") ? "second" : wanted;
            Path expected = dir.resolve(name + ".raw");
            TestImages.qemuImg(dir, "convert", "-l", "snapshot.name=" + name, "-O", "raw", image.toString(),
                    expected.toString());
            // qemu-img keeps the current (grown) size when reading a snapshot; the snapshot itself was
            // 4 MiB, which is what we present. Beyond it qemu reads zeros.
            assertTrue(isZero(expected, 4 * MIB), "qemu reads zeros past the snapshot's size");
            Qcow2Fixtures.resize(expected, 4 * MIB);
            try (VirtualDisk disk = Images.open(image, OpenOptions.readOnly().withSnapshot(wanted), w -> { })) {
                assertEquals(4 * MIB, disk.size());
                TestImages.assertSameBytes(expected, disk);
            }
        }
        ImageException e = assertThrows(ImageException.class,
                () -> Images.open(image, OpenOptions.readOnly().withSnapshot("third"), w -> { }));
        assertEquals(image + ": no snapshot 'third'; available: 1 (first), 2 (second)", e.getMessage());
    }

    private static boolean isZero(Path file, long from) throws java.io.IOException {
        byte[] bytes = Files.readAllBytes(file);
        for (long i = from; i < bytes.length; i++) {
            if (bytes[(int) i] != 0) {
                return false;
            }
        }
        return true;
    }
}
