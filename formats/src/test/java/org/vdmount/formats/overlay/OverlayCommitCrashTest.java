package org.vdmount.formats.overlay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * A commit killed part way (the JVM halted from the progress callback: no flush, no close, as
 * kill -9 would leave it) leaves the image consistent and the overlay unchanged, so the chain reads
 * as before; committing again finishes the job.
 */
class OverlayCommitCrashTest {
    private static final int SIZE = 16 << 20;

    @TempDir
    Path dir;

    /** Runs in a child JVM: commits args[0], halting once half of what it merges has been merged. */
    public static void main(String[] args) throws Exception {
        OverlayCommit.commit(Path.of(args[0]), false, new OverlayCommit.Progress() {
            private long done;
            private long haltAfter;

            @Override
            public void start(long total) {
                haltAfter = total / 2;
            }

            @Override
            public void advance(long bytes) {
                done += bytes;
                if (done >= haltAfter) {
                    Runtime.getRuntime().halt(9);
                }
            }
        }, w -> { });
        System.exit(0);
    }

    @Test
    void aCommitKilledPartWayLeavesTheImageCleanAndTheOverlayWhole() throws Exception {
        Path raw = dir.resolve("source.img");
        Files.write(raw, TestImages.pattern(SIZE, 21));
        for (String format : List.of("qcow2", "raw")) {
            Path image = dir.resolve("base." + format);
            TestImages.qemuImg(dir, "convert", "-O", format, raw.toString(), image.toString());
            Path overlay = dir.resolve(format + ".ovl");
            byte[] model = Files.readAllBytes(raw);
            Random random = new Random(5);
            try (VirtualDisk disk = Overlays.open(image, Images.open(image), overlay, w -> { })) {
                for (int i = 0; i < 40; i++) {
                    int len = 65536 * (1 + random.nextInt(8));
                    int at = 65536 * random.nextInt(SIZE / 65536 - 8);
                    byte[] data = TestImages.pattern(len, 100 + i);
                    disk.write(ByteBuffer.wrap(data), at);
                    System.arraycopy(data, 0, model, at, len);
                }
            }
            byte[] overlayBefore = Files.readAllBytes(overlay);

            TestImages.Result killed = TestImages.runAllowingFailure(dir, java(), "-cp",
                    System.getProperty("java.class.path"), OverlayCommitCrashTest.class.getName(), overlay.toString());
            assertEquals(9, killed.exit(), "the commit must have been cut short: " + killed.output());
            // Clean, or leaked clusters only (exit 3): what qemu-img check -r leaks repairs.
            TestImages.Result check = TestImages.runAllowingFailure(dir, "qemu-img", "check",
                    format.equals("raw") ? overlay.toString() : image.toString());
            assertTrue(check.exit() == 0 && check.output().contains("No errors were found")
                    || check.exit() == 3 && check.output().contains("leaked clusters")
                    && !check.output().contains("ERROR"), check.output());
            assertArrayEquals(overlayBefore, Files.readAllBytes(overlay), "the overlay is changed only at the end");
            byte[] chain = Files.readAllBytes(TestImages.qemuRaw(overlay, "qcow2"));
            assertArrayEquals(model, chain, "the chain reads as before the commit");
            byte[] half = Files.readAllBytes(TestImages.qemuRaw(image, format));
            assertFalse(java.util.Arrays.equals(model, half), "a part of the writes is not in the image yet");

            OverlayCommit.commit(overlay, false, OverlayCommit.Progress.NONE, w -> { });
            assertArrayEquals(model, Files.readAllBytes(TestImages.qemuRaw(image, format)),
                    "committing again finishes the job");
            if (format.equals("qcow2")) {
                String after = TestImages.qemuImg(dir, "check", image.toString());
                assertTrue(after.contains("No errors were found"), after);
            }
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
