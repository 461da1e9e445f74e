package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;
import org.vdmount.mounter.attach.WritableDisks;

/** {@code vdmount commit} as users run it: what it prints, what it changes, what it refuses. */
class CommitCommandTest {
    private static final int SIZE = 2 << 20;

    @TempDir
    Path dir;

    @Test
    void commitWritesTheOverlayIntoTheImageAndSaysWhatItDid() throws Exception {
        Path image = Files.write(dir.resolve("disk.img"), TestImages.pattern(SIZE, 3));
        Path overlay = dir.resolve("changes.qcow2");
        byte[] model = Files.readAllBytes(image);
        // Writes go through the path attach, mount and serve take.
        try (VirtualDisk disk = WritableDisks.open(image, OpenOptions.readOnly(), overlay, w -> { })) {
            byte[] data = TestImages.pattern(100_000, 4);
            disk.write(ByteBuffer.wrap(data), 70_000);
            System.arraycopy(data, 0, model, 70_000, data.length);
            disk.discard(1 << 20, 65536);
            Arrays.fill(model, 1 << 20, (1 << 20) + 65536, (byte) 0);
        }
        assertArrayEquals(TestImages.pattern(SIZE, 3), Files.readAllBytes(image), "the image waits for the commit");

        Cli.Result r = Cli.run(dir, "commit", overlay.toString());
        assertEquals(0, r.exit(), r.toString());
        assertEquals("committed " + overlay + " into " + image + " (raw): 128 KiB of data, 64.0 KiB of zeros; "
                + "overlay emptied\n", r.out());
        assertArrayEquals(model, Files.readAllBytes(image));
        String check = TestImages.qemuImg(dir, "check", overlay.toString());
        assertTrue(check.contains("No errors were found"), check);

        Cli.Result again = Cli.run(dir, "commit", "--json", overlay.toString());
        assertEquals(0, again.exit(), again.toString());
        assertTrue(again.out().contains("\"data-bytes\": 0"), again.out());
        assertTrue(again.out().contains("\"zero-bytes\": 0"), again.out());
    }

    @Test
    void refusalsAreOneLine() throws Exception {
        Path image = Files.write(dir.resolve("disk.img"), new byte[SIZE]);
        assertRefused(dir.resolve("nope.qcow2") + ": no such file", "commit", dir.resolve("nope.qcow2").toString());
        assertRefused(image + ": is a raw image, not a qcow2 overlay: there is nothing to commit", "commit",
                image.toString());
        Cli.Result usage = Cli.run(dir, "commit");
        assertEquals(2, usage.exit(), usage.toString());
        Cli.Result help = Cli.run(dir, "commit", "--help");
        assertEquals(0, help.exit());
        assertTrue(help.out().contains("Examples:") && help.out().contains("--keep") && help.out().contains("--json"),
                help.out());
    }

    private void assertRefused(String message, String... args) throws Exception {
        Cli.Result r = Cli.run(dir, args);
        assertEquals(1, r.exit(), r.toString());
        assertEquals("vdmount: " + message + "\n", r.err());
    }
}
