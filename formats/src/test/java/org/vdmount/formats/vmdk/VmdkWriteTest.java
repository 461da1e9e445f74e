package org.vdmount.formats.vmdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vdmount.formats.vmdk.VmdkWriteCheck.assertConvertsToModel;
import static org.vdmount.formats.vmdk.VmdkWriteCheck.assertQemuAgrees;
import static org.vdmount.formats.vmdk.VmdkWriteCheck.assertReads;
import static org.vdmount.formats.vmdk.VmdkWriteCheck.assertRedundantInStep;
import static org.vdmount.formats.vmdk.VmdkWriteCheck.discard;
import static org.vdmount.formats.vmdk.VmdkWriteCheck.model;
import static org.vdmount.formats.vmdk.VmdkWriteCheck.write;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * VMDK images written in place (monolithicSparse, twoGbMaxExtentSparse, the flat kinds, a snapshot
 * delta): every write also goes to a raw model, and qemu must then find the image clean and read
 * it exactly as the model.
 */
class VmdkWriteTest {
    private static final long TWO_GB = 2L << 30;
    private static final OpenOptions WRITABLE = new OpenOptions(null, 0, true);

    @TempDir(factory = MemoryTempDir.class)
    Path dir;

    @BeforeEach
    void qemu() {
        VmdkWriteCheck.assumeQemu();
    }

    private Path create(String name, String options, long size) throws Exception {
        Path vmdk = dir.resolve(name);
        TestImages.qemuImg(dir, "create", "-q", "-f", "vmdk", "-o", options, vmdk.toString(), Long.toString(size));
        return vmdk;
    }

    /**
     * Random writes (unaligned, across grains, across the 2 GiB extent boundary of the split kinds)
     * and discards; then qemu's check and reading, the redundant directories, and our own reading.
     */
    @ParameterizedTest
    @ValueSource(strings = {"monolithicSparse", "twoGbMaxExtentSparse", "monolithicFlat", "twoGbMaxExtentFlat"})
    void randomWritesReadBackInQemu(String subformat) throws Exception {
        boolean split = subformat.startsWith("twoGb");
        long size = split ? TWO_GB + (8L << 20) + 1536 : (40L << 20) + 1536;
        Path vmdk = create("disk.vmdk", "subformat=" + subformat, size);
        String cidBefore = VmdkWriteCheck.cid(vmdk);
        Path model = model(dir.resolve("model.raw"), size);
        long[] zones = split ? new long[] {0, 5L << 20, TWO_GB - 300_000, size - 400_000}
                : new long[] {0, 5L << 20, 20L << 20, size - 400_000};
        Random random = new Random(subformat.hashCode());
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(vmdk, WRITABLE, warnings::add)) {
            assertTrue(disk.writable());
            for (int n = 0; n < 80; n++) {
                long zone = zones[random.nextInt(zones.length)];
                int length = 1 + random.nextInt(n % 5 == 0 ? 300_000 : 9000);
                long at = Math.min(zone + random.nextInt(600_000), size - length);
                if (n % 9 == 8) {
                    discard(disk, model, at, length);
                } else {
                    write(disk, model, at, TestImages.pattern(length, n));
                }
                if (n % 20 == 19) {
                    disk.flush();
                }
            }
            // A write that crosses the boundary between the two extents (or the middle of the disk).
            long boundary = split ? TWO_GB : size / 2;
            write(disk, model, boundary - 70_001, TestImages.pattern(140_003, 99));
            for (long zone : zones) {
                assertReads(disk, model, zone, (int) Math.min(600_000, size - zone));
            }
        }
        assertEquals(List.of(), warnings);
        assertNotEquals(cidBefore, VmdkWriteCheck.cid(vmdk), "the CID changes on the first write");
        if (split) {
            assertQemuAgrees(vmdk, model);
        } else {
            assertConvertsToModel(vmdk, model);
        }
        if (subformat.endsWith("Sparse")) {
            for (Path extent : split ? List.of(dir.resolve("disk-s001.vmdk"), dir.resolve("disk-s002.vmdk"))
                    : List.of(vmdk)) {
                assertRedundantInStep(extent);
            }
        }
        try (VirtualDisk disk = Images.open(vmdk)) {
            for (long zone : zones) {
                assertReads(disk, model, zone, (int) Math.min(600_000, size - zone));
            }
            long boundary = split ? TWO_GB : size / 2;
            assertReads(disk, model, boundary - 80_000, 160_000);
        }
    }

    /**
     * A grain table missing from both directories (VMware and qemu always make them all, other
     * writers need not) is created at the end of the file and entered in both.
     */
    @Test
    void missingGrainTablesAreCreated() throws Exception {
        long size = 96L << 20; // three grain tables of 32 MiB
        Path vmdk = create("gt.vmdk", "subformat=monolithicSparse", size);
        VmdkWriteCheck.dropTable(vmdk, 1);
        VmdkWriteCheck.dropTable(vmdk, 2);
        Path model = model(dir.resolve("model.raw"), size);
        try (VirtualDisk disk = Images.open(vmdk, WRITABLE, w -> { })) {
            write(disk, model, (32L << 20) + 1000, TestImages.pattern(200_000, 1));
            write(disk, model, (64L << 20) - 5, TestImages.pattern(10, 2)); // tables 1 and 2 at once
            disk.flush();
            write(disk, model, (80L << 20) + 77, TestImages.pattern(70_000, 3));
            assertReads(disk, model, 32L << 20, 200_000 + 1000);
        }
        VmdkWriteCheck.Directories d = VmdkWriteCheck.directories(vmdk);
        assertTrue(d.primary()[1] != 0 && d.primary()[2] != 0, "new tables are in the directory");
        assertRedundantInStep(vmdk);
        assertConvertsToModel(vmdk, model);
    }

    /**
     * A snapshot delta is written while its parent stays as it was: grains first written partly get
     * the rest from the parent, discarded parts read as zeros. The delta's CID changes, its
     * parentCID stays, so qemu still reads it through the parent.
     */
    @ParameterizedTest
    @ValueSource(strings = {"zeroed_grain=off", "zeroed_grain=on"})
    void snapshotDeltaIsWrittenParentUntouched(String zeroedGrain) throws Exception {
        long size = 16L << 20;
        Path base = create("base.vmdk", "subformat=monolithicSparse", size);
        TestImages.qemuIo(base, "vmdk", "write -P 0x5a 0 3M", "write -P 0x33 8M 1M");
        Path child = dir.resolve("base-000001.vmdk");
        TestImages.qemuImg(dir, "create", "-q", "-f", "vmdk", "-o", zeroedGrain, "-b", base.toString(), "-F", "vmdk",
                child.toString());
        Path model = dir.resolve("model.raw");
        TestImages.qemuImg(dir, "convert", "-f", "vmdk", "-O", "raw", base.toString(), model.toString());
        byte[] baseBytes = Files.readAllBytes(base);
        String childCid = VmdkWriteCheck.cid(child);
        String parentCid = VmdkWriteCheck.parentCid(child);
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(child, WRITABLE, warnings::add)) {
            write(disk, model, 1000, TestImages.pattern(3000, 1)); // inside a parent grain
            write(disk, model, (3L << 20) - 700, TestImages.pattern(70_000, 2)); // parent data, then a hole
            write(disk, model, (8L << 20) + 65536 + 512, TestImages.pattern(512, 3));
            discard(disk, model, 2L << 20, 128 * 1024); // two whole grains over parent data
            discard(disk, model, (8L << 20) + 100, 1000); // part of a grain over parent data
            discard(disk, model, 12L << 20, 1 << 20); // nothing beneath: nothing to do
            assertReads(disk, model, 0, 4 << 20);
            assertReads(disk, model, 8L << 20, 1 << 20);
        }
        assertEquals(List.of(), warnings);
        assertTrue(java.util.Arrays.equals(baseBytes, Files.readAllBytes(base)), "the parent is never written");
        assertNotEquals(childCid, VmdkWriteCheck.cid(child));
        assertEquals(parentCid, VmdkWriteCheck.parentCid(child));
        assertConvertsToModel(child, model);
        assertRedundantInStep(child);
    }

    /**
     * Writing a disk that has a snapshot changes its CID: the child's parentCID no longer matches,
     * which vdmount reports (and reads on, as VMware does) and qemu refuses to read through.
     */
    @Test
    void childOfAWrittenDiskSeesTheCidMismatch() throws Exception {
        Path base = create("base.vmdk", "subformat=monolithicSparse", 8L << 20);
        Path child = dir.resolve("child.vmdk");
        TestImages.qemuImg(dir, "create", "-q", "-f", "vmdk", "-b", base.toString(), "-F", "vmdk", child.toString());
        assertEquals(VmdkWriteCheck.cid(base), VmdkWriteCheck.parentCid(child));
        try (VirtualDisk disk = Images.open(base, WRITABLE, w -> { })) {
            disk.write(ByteBuffer.wrap(TestImages.pattern(4096, 1)), 0);
            assertEquals(VmdkWriteCheck.cid(base), disk.info().details().get("cid"), "info follows the new CID");
        }
        assertNotEquals(VmdkWriteCheck.cid(base), VmdkWriteCheck.parentCid(child));
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(child, OpenOptions.readOnly(), warnings::add)) {
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).contains("parentCID " + VmdkWriteCheck.parentCid(child) + " does not match"),
                    warnings.get(0));
        }
        TestImages.Result qemu = TestImages.runAllowingFailure(dir, "qemu-img", "convert", "-O", "raw",
                child.toString(), dir.resolve("child.raw").toString());
        assertNotEquals(0, qemu.exit(), "qemu refuses a child whose parent changed: " + qemu.output());
    }

    /** qemu-io writes, then vdmount, then qemu-io again: all three sets of writes are there. */
    @ParameterizedTest
    @ValueSource(strings = {"monolithicSparse", "twoGbMaxExtentSparse"})
    void qemuAndVdmountTakeTurns(String subformat) throws Exception {
        long size = 24L << 20;
        Path vmdk = create("turns.vmdk", "subformat=" + subformat, size);
        Path model = model(dir.resolve("model.raw"), size);
        TestImages.qemuIo(vmdk, "vmdk", "write -P 0x11 0 1M", "write -P 0x22 10M 64k");
        writeModel(model, 0, 1 << 20, 0x11);
        writeModel(model, 10L << 20, 65536, 0x22);
        try (VirtualDisk disk = Images.open(vmdk, WRITABLE, w -> { })) {
            write(disk, model, 500_000, TestImages.pattern(1_000_000, 1)); // over qemu's grains and past them
            write(disk, model, (10L << 20) + 60_000, TestImages.pattern(10_000, 2));
            write(disk, model, 20L << 20, TestImages.pattern(65536 * 3, 3));
        }
        TestImages.qemuIo(vmdk, "vmdk", "write -P 0x33 1536k 512", "write -P 0x44 20M 4k", "write -P 0x55 22M 128k");
        writeModel(model, 1536 * 1024, 512, 0x33);
        writeModel(model, 20L << 20, 4096, 0x44);
        writeModel(model, 22L << 20, 128 * 1024, 0x55);
        assertConvertsToModel(vmdk, model);
        try (VirtualDisk disk = Images.open(vmdk)) {
            TestImages.assertSameBytes(model, disk);
        }
    }

    /**
     * A VMDK being written is locked as qemu locks it, descriptor and extent files alike: qemu-io
     * cannot write it, and a second writer (even in this process: OFD locks) is refused.
     */
    @Test
    void writersLockTheDescriptorAndExtents() throws Exception {
        Path vmdk = create("locked.vmdk", "subformat=twoGbMaxExtentSparse", 8L << 20);
        Path extent = dir.resolve("locked-s001.vmdk");
        assertTrue(Files.exists(extent));
        try (VirtualDisk disk = Images.open(vmdk, WRITABLE, w -> { })) {
            disk.write(ByteBuffer.wrap(new byte[] {1}), 0);
            ImageException e = assertThrows(ImageException.class, () -> Images.open(vmdk, WRITABLE, w -> { }).close());
            assertTrue(e.getMessage().contains("is being written by this process"), e.getMessage());
            TestImages.Result qemu = TestImages.runAllowingFailure(dir, "qemu-io", "-f", "vmdk", "-c", "write 0 512",
                    vmdk.toString());
            assertTrue(qemu.exit() != 0 && qemu.output().contains("lock"), qemu.output());
        }
        TestImages.qemuIo(vmdk, "vmdk", "write -P 0x11 0 512");
    }

    private static void writeModel(Path model, long at, int length, int value) throws IOException {
        byte[] b = new byte[length];
        java.util.Arrays.fill(b, (byte) value);
        try (var ch = java.nio.channels.FileChannel.open(model, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(b), at);
        }
    }

    /**
     * A vmfs descriptor: a VMFS flat extent takes writes; a ZERO extent refuses them (a write that
     * reaches one changes nothing) and takes discards. qemu 7.2 reads ZERO extents wrongly (it
     * counts this disk as 8 MiB), so the flat file itself is compared with the model.
     */
    @Test
    void vmfsFlatExtentIsWrittenZeroExtentIsNot() throws Exception {
        Path flat = dir.resolve("esx-flat.vmdk");
        Files.write(flat, new byte[4 << 20]);
        Path vmdk = VmdkFixtures.descriptor(dir.resolve("esx.vmdk"), "vmfs", null, null,
                "RW 8192 VMFS \"esx-flat.vmdk\"", "RW 2048 ZERO");
        Path model = model(dir.resolve("model.raw"), 5L << 20);
        try (VirtualDisk disk = Images.open(vmdk, WRITABLE, w -> { })) {
            write(disk, model, 12345, TestImages.pattern(1 << 20, 1));
            write(disk, model, (4L << 20) - 100, TestImages.pattern(100, 2));
            IOException e = assertThrows(IOException.class,
                    () -> disk.write(ByteBuffer.wrap(new byte[200]), (4L << 20) - 100));
            assertTrue(e.getMessage().contains("ZERO extent"), e.getMessage());
            discard(disk, model, (4L << 20) - 50, 10_000); // flat part zeroed, ZERO part already zeros
        }
        assertNotEquals("12345678", VmdkWriteCheck.cid(vmdk));
        byte[] stored = Files.readAllBytes(flat);
        byte[] modelled = java.util.Arrays.copyOf(Files.readAllBytes(model), 4 << 20);
        assertTrue(java.util.Arrays.equals(modelled, stored), "the flat file holds the written bytes");
        try (VirtualDisk disk = Images.open(vmdk)) {
            TestImages.assertSameBytes(model, disk);
        }
    }

    /** streamOptimized, seSparse and vmfsSparse are refused for writing, naming the file and --overlay. */
    @Test
    void unwritableKindsAreRefused() throws Exception {
        Path stream = create("stream.vmdk", "subformat=streamOptimized", 8L << 20);
        Path se = dir.resolve("se.vmdk");
        VmdkFixtures.seSparse(se, 16384, Map.of(1, (byte) 7));
        Path cowd = dir.resolve("cowd-delta.vmdk");
        VmdkFixtures.cowd(cowd, 16384, 8, Map.of(2, (byte) 9));
        Path cowdDescriptor = VmdkFixtures.descriptor(dir.resolve("cowd.vmdk"), "vmfsSparse", null, null,
                "RW 16384 VMFSSPARSE \"cowd-delta.vmdk\"");
        for (Path[] pair : new Path[][] {{stream, stream}, {se, se}, {cowdDescriptor, cowd}}) {
            byte[] before = Files.readAllBytes(pair[0]);
            ImageException e = assertThrows(ImageException.class, () -> Images.open(pair[0], WRITABLE, w -> { }));
            String message = e.getMessage();
            assertTrue(message.startsWith(pair[1].toString() + ": cannot be written in place"), message);
            assertTrue(message.contains("--overlay FILE"), message);
            assertFalse(message.contains("\n"), message);
            assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(pair[0])), "a refused image is unchanged");
        }
    }

    /** Opened read-only (the default), a VMDK takes no write and its file is not changed. */
    @Test
    void readOnlyByDefault() throws Exception {
        Path vmdk = create("ro.vmdk", "subformat=monolithicSparse", 4L << 20);
        byte[] before = Files.readAllBytes(vmdk);
        try (VirtualDisk disk = Images.open(vmdk)) {
            assertFalse(disk.writable());
            assertThrows(IOException.class, () -> disk.write(ByteBuffer.allocate(512), 0));
        }
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(vmdk)));
    }
}
