package org.vdmount.formats.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.QemuHolder;
import org.vdmount.formats.testing.TestImages;

/**
 * The image lock against the real qemu tools (qemu-io, qemu-img, qemu-nbd): vdmount readers and
 * writers and qemu's see each other's locks in both directions, readers share, --force-share
 * opens under a writer, and closing an image releases its lock.
 */
class ImageLockTest {
    private static final OpenOptions WRITABLE = new OpenOptions(null, 0, true);
    private static final OpenOptions SHARED = OpenOptions.readOnly().withForceShare(true);

    @TempDir
    Path dir;

    /** Background qemu processes, stopped after each test. */
    private final List<QemuHolder> held = new ArrayList<>();

    @AfterEach
    void stopHolders() throws InterruptedException {
        for (QemuHolder q : held) {
            q.close();
        }
    }

    private Path qcow2(String name) throws Exception {
        Path image = dir.resolve(name);
        TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", image.toString(), "4M");
        TestImages.qemuIo(image, "qcow2", "write -P 0x5a 0 64k");
        return image;
    }

    private Path raw(String name) throws IOException {
        Path image = dir.resolve(name);
        TestImages.writePattern(image, 0, 1 << 20, name.hashCode());
        return image;
    }

    /** qemu-io holding {@code image} open (writable unless {@code readOnly}) until the test ends. */
    private QemuHolder qemuIoHolding(Path image, String format, boolean readOnly) throws Exception {
        QemuHolder q = readOnly ? QemuHolder.reading(image, format) : QemuHolder.writing(image, format);
        held.add(q);
        return q;
    }

    /** A qemu-io run that writes {@code image}, and how it ended. */
    private TestImages.Result qemuWrite(Path image, String format) throws Exception {
        return TestImages.runAllowingFailure(dir, "qemu-io", "-f", format, "-c", "write -P 0x11 0 512",
                image.toString());
    }

    private static void assertRefusedByQemu(TestImages.Result r) {
        assertTrue(r.exit() != 0 && r.output().contains("Failed to get") && r.output().contains("lock"), r.output());
    }

    @Test
    void aReaderMeetsARunningQemuWriterWithOneLineNamingFileAndWriter() throws Exception {
        for (String format : List.of("qcow2", "raw")) {
            Path image = format.equals("qcow2") ? qcow2("w.qcow2") : raw("w.raw");
            QemuHolder qemu = qemuIoHolding(image, format, false);
            ImageException e = assertThrows(ImageException.class, () -> Images.open(image).close());
            String m = e.getMessage();
            assertTrue(m.startsWith(image.toString() + ": is being written by qemu-io (pid " + qemu.pid() + ")"), m);
            assertTrue(m.contains("--force-share") && !m.contains("\n"), m);
            qemu.close();
        }
    }

    @Test
    void qemuWritersAreRefusedWhileVdmountReads() throws Exception {
        Path qcow2 = qcow2("r.qcow2");
        Path raw = raw("r.raw");
        try (VirtualDisk a = Images.open(qcow2); VirtualDisk b = Images.open(raw)) {
            assertRefusedByQemu(qemuWrite(qcow2, "qcow2"));
            assertRefusedByQemu(qemuWrite(raw, "raw"));
        }
        // Closing the images released their locks: qemu writes now.
        assertEquals(0, qemuWrite(qcow2, "qcow2").exit());
        assertEquals(0, qemuWrite(raw, "raw").exit());
    }

    @Test
    void readersShareWithEachOtherAndWithQemuReaders() throws Exception {
        Path image = qcow2("shared.qcow2");
        qemuIoHolding(image, "qcow2", true);
        try (VirtualDisk first = Images.open(image); VirtualDisk second = Images.open(image)) {
            TestImages.qemuImg(dir, "info", image.toString());
            Path copy = dir.resolve("copy.raw");
            TestImages.qemuImg(dir, "convert", "-f", "qcow2", "-O", "raw", image.toString(), copy.toString());
            ByteBuffer b = ByteBuffer.allocate(512);
            second.read(b, 0);
            assertEquals(0x5a, b.get(0));
            assertEquals(0x5a, Files.readAllBytes(copy)[0]);
            assertRefusedByQemu(qemuWrite(image, "qcow2"));
        }
    }

    @Test
    void aRawImageOpenedForWritingAndQemuIoRefuseEachOther() throws Exception {
        Path image = raw("rw.raw");
        try (VirtualDisk disk = Images.open(image, WRITABLE, w -> { })) {
            assertTrue(disk.writable());
            assertRefusedByQemu(qemuWrite(image, "raw"));
            // and a vdmount reader too, naming this process: the second open is another user
            ImageException e = assertThrows(ImageException.class, () -> Images.open(image).close());
            assertTrue(e.getMessage().contains("being written by this process"), e.getMessage());
        }
        QemuHolder qemu = qemuIoHolding(image, "raw", false);
        ImageException e = assertThrows(ImageException.class, () -> Images.open(image, WRITABLE, w -> { }).close());
        assertTrue(e.getMessage().contains("being written by qemu-io (pid " + qemu.pid() + "): stop it first"),
                e.getMessage());
        qemu.close();
        Images.open(image, WRITABLE, w -> { }).close(); // qemu gone: its lock went with it
    }

    @Test
    void aWriterIsRefusedWhileQemuReads() throws Exception {
        Path image = qcow2("read-by-qemu.qcow2");
        QemuHolder qemu = qemuIoHolding(image, "qcow2", true);
        ImageException e = assertThrows(ImageException.class, () -> Images.open(image, WRITABLE, w -> { }).close());
        assertTrue(e.getMessage().contains("is open by qemu-io (pid " + qemu.pid() + "), which lets nobody else write"),
                e.getMessage());
    }

    @Test
    void forceShareOpensUnderAWriterWithoutLocking() throws Exception {
        Path image = qcow2("forced.qcow2");
        qemuIoHolding(image, "qcow2", false);
        try (VirtualDisk disk = Images.open(image, SHARED, w -> { })) {
            ByteBuffer b = ByteBuffer.allocate(512);
            disk.read(b, 0);
            assertEquals(0x5a, b.get(0));
        }
        Path other = qcow2("other.qcow2");
        try (VirtualDisk disk = Images.open(other, SHARED, w -> { })) {
            assertEquals(0, qemuWrite(other, "qcow2").exit()); // nothing locked: a writer gets in
        }
        assertThrows(IllegalArgumentException.class, () -> WRITABLE.withForceShare(true));
    }

    @Test
    void backingFilesAndExtentsAreLockedButOnlyTheFirstFileOfASplitSet() throws Exception {
        Path base = qcow2("base.qcow2");
        Path top = dir.resolve("top.qcow2");
        TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2",
                top.toString());
        Path vmdk = dir.resolve("flat.vmdk");
        TestImages.qemuImg(dir, "create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat", vmdk.toString(), "1M");
        Path extent = dir.resolve("flat-flat.vmdk");
        assertTrue(Files.exists(extent));
        Path first = raw("split.001");
        Path second = raw("split.002");
        try (VirtualDisk chain = Images.open(top); VirtualDisk flat = Images.open(vmdk);
                VirtualDisk split = Images.open(first)) {
            assertEquals(2L << 20, split.size());
            assertRefusedByQemu(qemuWrite(base, "qcow2"));
            assertRefusedByQemu(qemuWrite(extent, "raw"));
            assertRefusedByQemu(qemuWrite(first, "raw"));
            assertEquals(0, qemuWrite(second, "raw").exit());
        }
    }

    @Test
    void aWriterHoldsNothingAfterItsOpenFails() throws Exception {
        Path image = qcow2("busy.qcow2");
        QemuHolder qemu = qemuIoHolding(image, "qcow2", false);
        assertThrows(ImageException.class, () -> Images.open(image, WRITABLE, w -> { }).close());
        assertThrows(ImageException.class, () -> Images.open(image).close());
        qemu.close();
        assertFalse(QemuHolder.locked(image), "a refused open left its lock bytes behind");
        try (VirtualDisk disk = Images.open(image, WRITABLE, w -> { })) {
            assertTrue(disk.writable());
        }
    }
}
