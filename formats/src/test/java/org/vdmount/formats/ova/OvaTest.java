package org.vdmount.formats.ova;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/** OVA appliances built by the test (Commons Compress and GNU tar), disks read in place. */
class OvaTest {
    private static final String OVF = "<?xml version=\"1.0\"?>\n<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\">"
            + "<References><File href=\"disk1.vmdk\" id=\"f1\"/><File href=\"disk2.vmdk\" id=\"f2\"/></References>"
            + "</Envelope>\n";

    @TempDir
    Path dir;
    private Path raw1;
    private Path raw2;
    private Path disk1;
    private Path disk2;

    @BeforeEach
    void makeDisks() throws Exception {
        raw1 = dir.resolve("one.raw");
        raw2 = dir.resolve("two.raw");
        Files.write(raw1, new byte[5 << 20]);
        TestImages.writePattern(raw1, 0, 300_000, 1);
        TestImages.writePattern(raw1, 4 << 20, 100_000, 2);
        Files.write(raw2, TestImages.pattern(2 << 20, 3));
        disk1 = dir.resolve("disk1.vmdk");
        disk2 = dir.resolve("disk2.vmdk");
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                raw1.toString(), disk1.toString());
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "vmdk", raw2.toString(), disk2.toString());
    }

    private Path ova(String name, String ovfName, boolean pax) throws IOException {
        Path ova = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(ova);
                TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(pax ? TarArchiveOutputStream.LONGFILE_POSIX : TarArchiveOutputStream.LONGFILE_ERROR);
            add(tar, ovfName, OVF.getBytes(StandardCharsets.UTF_8));
            add(tar, "appliance.mf", "SHA256(disk1.vmdk)= 00\n".getBytes(StandardCharsets.UTF_8));
            add(tar, "disk1.vmdk", Files.readAllBytes(disk1));
            add(tar, "disk2.vmdk", Files.readAllBytes(disk2));
        }
        return ova;
    }

    private static void add(TarArchiveOutputStream tar, String name, byte[] data) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(data.length);
        tar.putArchiveEntry(e);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    @Test
    void readsEachDiskInPlace() throws Exception {
        Path ova = ova("app.ova", "app.ovf", false);
        try (VirtualDisk disk = Images.open(ova)) {
            assertEquals("ova", disk.info().format());
            assertEquals("vmdk streamOptimized", disk.info().subformat());
            TestImages.assertSameBytes(raw1, disk);
            assertEquals(2, disk.info().details().get("disks"));
            String d1 = (String) disk.info().details().get("disk.1");
            assertTrue(d1.startsWith("disk1.vmdk, " + Files.size(disk1) + " bytes in the archive, vmdk streamOptimized"
                    + ", virtual size " + (5 << 20)), d1);
            assertEquals("disk2.vmdk, " + Files.size(disk2) + " bytes in the archive, vmdk",
                    disk.info().details().get("disk.2"));
            List<Run> runs = new ArrayList<>();
            disk.map(0, disk.size(), runs::add);
            assertTrue(runs.stream().anyMatch(r -> r.kind() == RunKind.COMPRESSED));
        }
        try (VirtualDisk disk = Images.open(ova, OpenOptions.readOnly().withDisk(2), w -> { })) {
            TestImages.assertSameBytes(raw2, disk);
            assertEquals("disk.2", disk.info().details().get("opened"));
        }
        ImageException e = assertThrows(ImageException.class,
                () -> Images.open(ova, OpenOptions.readOnly().withDisk(3), w -> { }));
        assertEquals(ova + ": the OVA holds 2 disks; there is no disk 3", e.getMessage());
    }

    @Test
    void readsAPaxArchiveWithLongNames() throws Exception {
        String longName = "a-very-long-appliance-name-".repeat(5) + ".ovf";
        Path ova = ova("pax.ova", longName, true);
        try (VirtualDisk disk = Images.open(ova)) {
            assertEquals("ova", disk.info().format());
            TestImages.assertSameBytes(raw1, disk);
        }
    }

    @Test
    void readsAGnuTarWithLongNames() throws Exception {
        String longName = "appliance-with-a-long-name-".repeat(5) + ".ovf";
        Files.writeString(dir.resolve(longName), OVF);
        Path ova = dir.resolve("gnu.ova");
        TestImages.run(dir, "tar", "--format=gnu", "-cf", ova.toString(), longName, "disk1.vmdk");
        try (VirtualDisk disk = Images.open(ova)) {
            assertEquals("ova", disk.info().format());
            TestImages.assertSameBytes(raw1, disk);
        }
    }

    @Test
    void readsAnOvaMadeByGnuTar() throws Exception {
        Files.writeString(dir.resolve("app.ovf"), OVF);
        Path ova = dir.resolve("tar.ova");
        TestImages.run(dir, "tar", "--format=ustar", "-cf", ova.toString(), "app.ovf", "disk1.vmdk", "disk2.vmdk");
        try (VirtualDisk disk = Images.open(ova, OpenOptions.readOnly().withDisk(1), w -> { })) {
            TestImages.assertSameBytes(TestImages.qemuRaw(disk1), disk);
        }
    }

    @Test
    void aTarWithoutAnOvfIsNotAnOva() throws Exception {
        Path tar = dir.resolve("plain.tar");
        TestImages.run(dir, "tar", "--format=ustar", "-cf", tar.toString(), "disk2.vmdk");
        try (VirtualDisk disk = Images.open(tar)) {
            assertEquals("raw", disk.info().format());
        }
        assertFalse(new OvaFormat().probe(ByteBuffer.allocate(1024)));
    }

    /** A download cut inside its first disk: what arrived reads, the rest is an error. */
    @Test
    void readsWhatArrivedOfACutShortDownload() throws Exception {
        // VMware streams keep their grain directory at the end; qemu's keep it first: patch the header.
        java.nio.ByteBuffer gdAtEnd = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putLong(0, -1);
        try (var ch = java.nio.channels.FileChannel.open(disk1, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(gdAtEnd, 56);
        }
        Path ova = ova("partial.ova", "app.ovf", false);
        byte[] all = Files.readAllBytes(ova);
        Files.write(ova, java.util.Arrays.copyOf(all, 3 * 512 + (int) Files.size(disk1) / 2));
        List<String> warnings = new ArrayList<>();
        try (VirtualDisk disk = Images.open(ova, OpenOptions.readOnly(), warnings::add)) {
            assertEquals(2, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).startsWith(ova + ": OVA member disk1.vmdk is cut short"), warnings.get(0));
            assertTrue(warnings.get(1).contains("no footer"), warnings.get(1));
            List<Run> runs = new ArrayList<>();
            disk.map(0, disk.size(), runs::add);
            long readable = runs.get(runs.size() - 1).offset();
            assertEquals(RunKind.UNREADABLE, runs.get(runs.size() - 1).kind());
            assertTrue(readable >= 65536, "readable " + readable);
            ByteBuffer got = ByteBuffer.allocate((int) readable);
            disk.read(got, 0);
            assertTrue(java.util.Arrays.equals(java.util.Arrays.copyOf(Files.readAllBytes(raw1), (int) readable),
                    got.array()));
            ImageException e = assertThrows(ImageException.class, () -> disk.read(ByteBuffer.allocate(512), readable));
            assertTrue(e.getMessage().startsWith(ova + ":disk1.vmdk: "), e.getMessage());
        }
    }

    @Test
    void aTruncatedOvaIsNamed() throws Exception {
        Path ova = ova("cut.ova", "app.ovf", false);
        byte[] all = Files.readAllBytes(ova);
        Files.write(ova, java.util.Arrays.copyOf(all, all.length - (int) Files.size(disk2) - 4096));
        ImageException e = assertThrows(ImageException.class, () -> {
            try (VirtualDisk disk = Images.open(ova, OpenOptions.readOnly().withDisk(2), w -> { })) {
                disk.read(ByteBuffer.allocate(4096), 0);
            }
        });
        assertTrue(e.getMessage().startsWith(ova.toString()), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
