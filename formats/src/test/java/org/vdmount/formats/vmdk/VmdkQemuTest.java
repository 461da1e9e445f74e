package org.vdmount.formats.vmdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/** Every VMDK subformat qemu-img makes, read byte for byte like {@code qemu-img convert -O raw}. */
class VmdkQemuTest {
    private static final long SIZE = 12L * 1024 * 1024 + 3 * 512; // not a multiple of the grain

    @TempDir
    Path dir;

    /** A raw disk with data, zeros and holes spread over it. */
    private Path source() throws IOException {
        Path raw = dir.resolve("source.raw");
        Files.deleteIfExists(raw);
        try (var ch = java.nio.channels.FileChannel.open(raw, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(SIZE);
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]), SIZE - 1);
        }
        TestImages.writePattern(raw, 0, 70_000, 1);
        TestImages.writePattern(raw, 1_000_000, 300_000, 2);
        TestImages.writePattern(raw, 5L * 1024 * 1024 + 17, 65_536, 3);
        TestImages.writePattern(raw, SIZE - 5000, 5000, 4);
        return raw;
    }

    private Path convert(String name, String options) throws Exception {
        Path raw = source();
        Path vmdk = dir.resolve(name);
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "vmdk", "-o", options, raw.toString(), vmdk.toString());
        return vmdk;
    }

    private void assertReadsLikeQemu(Path vmdk) throws Exception {
        Path expected = TestImages.qemuRaw(vmdk);
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(vmdk, OpenOptions.readOnly(), warnings::add)) {
            assertEquals("vmdk", disk.info().format());
            TestImages.assertSameBytes(expected, disk);
            assertMapCovers(disk);
        }
        assertEquals(List.of(), warnings);
    }

    /** map() covers the disk exactly with contiguous runs. */
    private static void assertMapCovers(VirtualDisk disk) throws IOException {
        List<Run> runs = new ArrayList<>();
        disk.map(0, disk.size(), runs::add);
        long at = 0;
        for (Run r : runs) {
            assertEquals(at, r.offset());
            assertTrue(r.kind() != RunKind.BACKING);
            at = r.end();
        }
        assertEquals(disk.size(), at);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "subformat=monolithicSparse",
        "subformat=monolithicSparse,zeroed_grain=on",
        "subformat=monolithicSparse,compat6=on",
        "subformat=monolithicSparse,hwversion=10,adapter_type=lsilogic",
        "subformat=monolithicSparse,adapter_type=buslogic",
        "subformat=monolithicSparse,adapter_type=legacyESX",
        "subformat=monolithicFlat",
        "subformat=monolithicFlat,adapter_type=lsilogic",
        "subformat=twoGbMaxExtentSparse",
        "subformat=twoGbMaxExtentSparse,zeroed_grain=on",
        "subformat=twoGbMaxExtentFlat",
        "subformat=streamOptimized",
        "subformat=streamOptimized,adapter_type=lsilogic,hwversion=4",
    })
    void readsWhatQemuImgConvertMakes(String options) throws Exception {
        Path vmdk = convert("disk.vmdk", options);
        assertReadsLikeQemu(vmdk);
        try (VirtualDisk disk = Images.open(vmdk)) {
            String subformat = options.replaceAll(".*subformat=([A-Za-z]+).*", "$1");
            assertEquals(subformat, disk.info().subformat());
            if (options.contains("adapter_type=lsilogic")) {
                assertEquals("lsilogic", disk.info().details().get("ddb.adapter-type"));
            }
            if (subformat.equals("streamOptimized")) {
                assertEquals("deflate", disk.info().compression());
            }
        }
    }

    @Test
    void readsGrainsWrittenOutOfOrderAndZeroedGrains() throws Exception {
        Path vmdk = dir.resolve("written.vmdk");
        TestImages.qemuImg(dir, "create", "-f", "vmdk", "-o", "zeroed_grain=on", vmdk.toString(), "40M");
        TestImages.qemuIo(vmdk, "vmdk",
                "write -P 0x11 30M 200k",
                "write -P 0x22 1M 64k",
                "write -P 0x33 123k 1k",
                "write -P 0x44 0 512",
                "write -P 0x55 20M 3M",
                "write -z 20M 1M",
                "write -z 35M 1M");
        assertReadsLikeQemu(vmdk);
        try (VirtualDisk disk = Images.open(vmdk)) {
            List<Run> runs = new ArrayList<>();
            disk.map(20L << 20, 1 << 20, runs::add);
            assertEquals(List.of(Run.of(RunKind.ZERO, 20L << 20, 1 << 20)), runs);
            assertEquals(65536, disk.info().clusterSize());
        }
    }

    @Test
    void joinsGrainsStoredBackToBackIntoOneRun() throws Exception {
        Path vmdk = convert("seq.vmdk", "subformat=monolithicSparse");
        try (VirtualDisk disk = Images.open(vmdk)) {
            List<Run> runs = new ArrayList<>();
            disk.map(1_048_576, 196_608, runs::add);
            assertEquals(1, runs.size(), runs.toString());
            assertEquals(RunKind.DATA, runs.get(0).kind());
        }
    }

    @Test
    void readsASplitSparseDiskOverFiveGibWithDataInThreeExtents() throws Exception {
        Path vmdk = dir.resolve("big.vmdk");
        TestImages.qemuImg(dir, "create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", vmdk.toString(), "5200M");
        TestImages.qemuIo(vmdk, "vmdk",
                "write -P 0x61 1M 100k",
                "write -P 0x62 2047M 2M",
                "write -P 0x63 4100M 64k",
                "write -P 0x64 5199M 1M");
        try (VirtualDisk disk = Images.open(vmdk)) {
            assertEquals(5200L << 20, disk.size());
            assertTrue(disk.info().files().size() >= 4, disk.info().files().toString());
            // Compare the written stretches with qemu's reading of them (a full raw copy would be 5 GiB).
            for (long[] r : new long[][] {{1L << 20, 100 << 10}, {2047L << 20, 2L << 20},
                    {4100L << 20, 64 << 10}, {5199L << 20, 1L << 20}, {3000L << 20, 1L << 20}}) {
                Path part = dir.resolve("part.raw");
                Files.deleteIfExists(part);
                TestImages.run(dir, "qemu-img", "dd", "-f", "vmdk", "-O", "raw", "bs=65536",
                        "if=" + vmdk, "of=" + part, "skip=" + r[0] / 65536, "count=" + r[1] / 65536);
                byte[] want = Files.readAllBytes(part);
                java.nio.ByteBuffer got = java.nio.ByteBuffer.allocate(want.length);
                disk.read(got, r[0]);
                assertTrue(java.util.Arrays.equals(want, got.array()), "differs at " + r[0]);
            }
            List<Run> runs = new ArrayList<>();
            disk.map(0, disk.size(), runs::add);
            long data = runs.stream().filter(r -> r.kind() == RunKind.DATA).mapToLong(Run::length).sum();
            assertEquals((128 << 10) + (2 << 20) + (64 << 10) + (1 << 20), data); // whole grains
        }
    }

    @Test
    void readsSnapshotChainsMadeByQemuImgCreateB() throws Exception {
        Path base = convert("base.vmdk", "subformat=monolithicSparse");
        Path mid = dir.resolve("mid.vmdk");
        Path top = dir.resolve("top.vmdk");
        TestImages.qemuImg(dir, "create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", mid.toString());
        TestImages.qemuIo(mid, "vmdk", "write -P 0x71 64k 128k", "write -P 0x72 6M 1k");
        TestImages.qemuImg(dir, "create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse",
                "-b", "mid.vmdk", "-F", "vmdk", top.toString());
        TestImages.qemuIo(top, "vmdk", "write -P 0x73 100k 4k", "write -P 0x74 11M 1M");
        assertReadsLikeQemu(top);
        try (VirtualDisk disk = Images.open(top)) {
            assertEquals("mid.vmdk", disk.info().details().get("parent-file-name-hint"));
            VirtualDisk parent = disk.backing().orElseThrow();
            assertEquals("base.vmdk", parent.info().details().get("parent-file-name-hint"));
            assertTrue(parent.backing().isPresent());
        }
    }

    @Test
    void showsDescriptorKeysInInfo() throws Exception {
        Path vmdk = convert("info.vmdk", "subformat=monolithicSparse,adapter_type=lsilogic,hwversion=7");
        try (VirtualDisk disk = Images.open(vmdk)) {
            var d = disk.info().details();
            assertEquals(1L, d.get("version"));
            assertEquals("ffffffff", d.get("parent-cid"));
            // qemu prints the random CID in hex without leading zeros (one time in 16, 7 digits).
            assertTrue(((String) d.get("cid")).matches("[0-9a-f]{1,8}"), (String) d.get("cid"));
            assertEquals(7L, d.get("ddb.virtual-hw-version"));
            String extent = (String) d.get("extent.1");
            assertTrue(extent.startsWith("RW "), extent);
            assertTrue(extent.contains("KDMV"), extent);
            assertEquals(SIZE, disk.info().virtualSize());
            assertEquals(List.of(vmdk.toString()), disk.info().files());
        }
    }

    /** One grain table covers 32 MiB; these disks are far smaller, their tables cover past the end. */
    @ParameterizedTest
    @ValueSource(strings = {"streamOptimized", "monolithicSparse"})
    void readsTinyDisksWhoseGrainTableCoversMoreThanTheCapacity(String subformat) throws Exception {
        Path raw = dir.resolve("tiny.raw");
        Files.write(raw, TestImages.pattern(3 * 512, 9));
        Path vmdk = dir.resolve("tiny.vmdk");
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=" + subformat,
                raw.toString(), vmdk.toString());
        try (VirtualDisk disk = Images.open(vmdk)) {
            TestImages.assertSameBytes(TestImages.qemuRaw(vmdk), disk);
            TestImages.assertSameBytes(raw, disk);
        }
    }
}
