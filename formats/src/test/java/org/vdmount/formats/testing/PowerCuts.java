package org.vdmount.formats.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.StorageOpens;
import org.vdmount.formats.VirtualDisk;

/**
 * A power-cut test of a writable format: vdmount writes the image with a {@link PowerCutWorkload}
 * while a {@link PowerCutLog} records every write and fsync of its files; then each cut rebuilds
 * the files as a power failure at one point of the log may leave them, and: {@code qemu-img check}
 * must find the image clean or with leaked clusters only; qemu and vdmount must read it alike;
 * every write the guest had flushed must read back (a later write to the same place, unflushed,
 * may have replaced any of its sectors). The kill -9 tests cannot show this: after a kill, every
 * write the process made is in the page cache.
 */
public final class PowerCuts {
    private static final OpenOptions WRITABLE = new OpenOptions(null, 0, true);

    private PowerCuts() {
    }

    /** What one kind of image checks of each cut beyond the shared checks (a snapshot unchanged, say). */
    @FunctionalInterface
    public interface Extra {
        void check(Path state, String where) throws Exception;
    }

    /**
     * Runs {@code operations} random operations on {@code image} (whose disk reads as
     * {@code initial}), then checks {@code cuts} cuts; returns a line saying what was done.
     */
    public static String run(Path image, byte[] initial, String qemuFormat, String kind, int operations, int cuts,
            Extra extra) throws Exception {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        PowerCutLog log = new PowerCutLog();
        PowerCutWorkload work = new PowerCutWorkload(initial.length, operations);
        try (VirtualDisk disk = StorageOpens.open(image, WRITABLE, log::wrap)) {
            work.run(disk, log, random);
        }
        int end = log.position();
        List<Integer> fsyncs = log.flushPoints();
        int leaky = 0;
        for (int c = 0; c < cuts; c++) {
            // Half the cuts fall just before an fsync, where the most writes are in flight.
            int point = c % 2 == 0 && !fsyncs.isEmpty() ? fsyncs.get(random.nextInt(fsyncs.size()))
                    : random.nextInt(end + 1);
            double keep = switch (c % 4) {
                case 0 -> 0.5;
                case 1 -> 0;
                case 2 -> 1;
                default -> random.nextDouble();
            };
            String where = kind + " (seed " + seed + "): cut at " + point + " of " + end + ", unflushed sectors kept "
                    + "with probability " + keep;
            Path cutDir = Files.createTempDirectory(image.getParent(), "cut");
            log.cut(point, keep, random, cutDir);
            Path state = cutDir.resolve(image.getFileName());

            TestImages.Result check = TestImages.runAllowingFailure(cutDir, "qemu-img", "check", "-f", qemuFormat,
                    state.toString());
            assertTrue(check.exit() == 0 || check.exit() == 3, where + ": qemu-img check exited " + check.exit()
                    + ":\n" + check.output());
            leaky += check.exit() == 3 ? 1 : 0;
            byte[] qemu = Files.readAllBytes(TestImages.qemuRaw(state, qemuFormat));
            try (VirtualDisk disk = Images.open(state)) {
                ByteBuffer all = ByteBuffer.allocate(initial.length);
                disk.read(all, 0);
                assertArrayEquals(qemu, all.array(), where + ": vdmount and qemu read it differently");
            }
            work.verify(qemu, initial, point, where);
            extra.check(state, where);
            TestImages.run(cutDir, "rm", "-rf", cutDir.toString());
        }
        return kind + ": " + cuts + " cuts of a log of " + end + " writes and fsyncs (" + fsyncs.size() + " fsyncs, "
                + work.flushes() + " guest flushes); " + leaky + " left leaked clusters, none worse";
    }
}
