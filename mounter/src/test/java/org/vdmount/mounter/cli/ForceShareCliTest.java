package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.testing.QemuHolder;
import org.vdmount.formats.testing.TestImages;

/**
 * The image lock as users meet it: a vdmount command that reads an image qemu is writing is
 * refused in one line that names the file and the qemu, and --force-share (-U) reads it anyway.
 */
class ForceShareCliTest {
    @TempDir
    Path dir;

    @Test
    void readersRefuseARunningWriterAndForceShareReadsUnderIt() throws Exception {
        Path image = dir.resolve("vm.qcow2");
        TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", image.toString(), "4M");
        TestImages.qemuIo(image, "qcow2", "write -P 0x5a 0 64k");
        try (QemuHolder qemu = QemuHolder.writing(image, "qcow2")) {
            Cli.Result r = Cli.run(dir, "verify", image.toString());
            assertEquals(1, r.exit(), r.toString());
            assertEquals("vdmount: " + image + ": is being written by qemu-io (pid " + qemu.pid() + "): stop it"
                    + " first, or read it anyway with --force-share (it may change while read)\n", r.err());
            Cli.Result info = Cli.run(dir, "info", "--force-share", image.toString());
            assertEquals(0, info.exit(), info.toString());
            assertTrue(info.out().contains("format:          qcow2"), info.out());
            Cli.Result cat = Cli.run(dir, "cat", "-U", "--length", "4K", image.toString());
            assertEquals(0, cat.exit(), cat.toString());
            assertEquals(4096, cat.out().length());
            assertTrue(cat.out().chars().allMatch(c -> c == 0x5a), "cat read other bytes than qemu wrote");
        }
    }
}
