package org.vdmount.formats.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * kill -9 of a process writing a qcow2 image, at random moments: qemu-img check must find the image
 * clean or with leaked clusters only, and every write the process had flushed must read back (a
 * later, unflushed write to the same slot may have replaced it). {@code -Dvdmount.crashRuns=N}
 * runs it N times (default 3, to stay within the unit suite's time).
 */
class Qcow2CrashTest {
    private static final int SIZE = 8 << 20;

    @TempDir
    Path dir;

    @Test
    void killedWritersLeaveConsistentImagesWithEveryFlushedWrite() throws Exception {
        int runs = Integer.getInteger("vdmount.crashRuns", 3);
        Random random = new Random();
        long seedBase = random.nextLong();
        int leaks = 0;
        for (int run = 0; run < runs; run++) {
            long seed = seedBase + run;
            String options = switch (run % 3) {
                case 0 -> "cluster_size=4096";
                case 1 -> "cluster_size=4096,refcount_bits=64";
                default -> "extended_l2=on,cluster_size=16384"; // 512-byte subclusters
            };
            Path image = WriteChecks.create(dir, "crash" + run + ".qcow2", options, SIZE);
            int flushed = killWhileWriting(image, seed, 200 + random.nextInt(2500));
            TestImages.Result check = WriteChecks.check(image);
            assertTrue(check.exit() == 0 || check.exit() == 3,
                    "seed " + seed + ": qemu-img check exited " + check.exit() + ":\n" + check.output());
            if (check.exit() == 3) {
                leaks++;
            }
            verifyFlushedWrites(image, seed, flushed);
            // After qemu repairs the leaks (if any), the image is clean and vdmount writes it again.
            TestImages.run(dir, "qemu-img", "check", "-q", "-r", "leaks", image.toString());
            try (VirtualDisk disk = WriteChecks.openWritable(image)) {
                disk.write(ByteBuffer.allocate(SIZE / 2), 0);
            }
            WriteChecks.assertClean(image);
        }
        System.out.println("Qcow2CrashTest: " + runs + " kills, " + leaks + " left leaked clusters, none worse");
    }

    /** Starts the writer, waits for its first flush and {@code delayMillis} more, kills it; returns the last flush it reported. */
    private int killWhileWriting(Path image, long seed, int delayMillis) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CrashWriter.class.getName(), image.toString(), Long.toString(seed))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        AtomicInteger flushed = new AtomicInteger(-1);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith("flushed ")) {
                        flushed.set(Integer.parseInt(line.substring(8)));
                    }
                }
            } catch (Exception e) {
                // the child died: its output ends here
            }
        });
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (flushed.get() < 0 && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        if (!child.isAlive()) {
            fail("the writer process ended before it was killed (exit " + child.exitValue() + ")");
        }
        Thread.sleep(delayMillis);
        // What it reported before the kill is durable; a line printed during the kill is not counted.
        int reported = flushed.get();
        Runtime.getRuntime().exec(new String[] {"kill", "-9", Long.toString(child.pid())}).waitFor();
        child.waitFor(30, TimeUnit.SECONDS);
        reader.join(10_000);
        return Math.max(reported, flushed.get());
    }

    private static void verifyFlushedWrites(Path image, long seed, int flushed) throws Exception {
        int slotCount = SIZE / CrashWriter.SLOT;
        int[] slots = CrashWriter.slots(seed, slotCount);
        // For each slot: the last write up to the flush point (or -1), and the later writes allowed.
        int[] lastFlushed = new int[slotCount];
        java.util.Arrays.fill(lastFlushed, -1);
        for (int i = 0; i <= flushed; i++) {
            lastFlushed[slots[i]] = i;
        }
        byte[] bytes = java.nio.file.Files.readAllBytes(TestImages.qemuRaw(image, "qcow2"));
        List<String> wrong = new ArrayList<>();
        try (VirtualDisk disk = Images.open(image)) {
            ByteBuffer all = ByteBuffer.allocate(SIZE);
            disk.read(all, 0);
            assertEquals(ByteBuffer.wrap(bytes), all.flip(), "vdmount and qemu read the killed image differently");
        }
        for (int s = 0; s < slotCount && wrong.size() < 5; s++) {
            ByteBuffer slot = ByteBuffer.wrap(bytes, s * CrashWriter.SLOT, CrashWriter.SLOT).slice();
            long number = slot.getLong(0);
            int version = (int) number - 1;
            boolean zeros = number == 0 && isZero(slot);
            boolean allowed;
            if (zeros) {
                allowed = lastFlushed[s] < 0 || CrashWriter.isDiscard(lastFlushed[s]) || laterWrite(slots, s, flushed);
            } else {
                allowed = version >= 0 && version < slots.length && slots[version] == s
                        && !CrashWriter.isDiscard(version) && CrashWriter.content(version).equals(slot)
                        && (version == lastFlushed[s] || (version > flushed && version <= lastPossible(flushed)));
            }
            if (!allowed) {
                wrong.add("slot " + s + " holds " + (zeros ? "zeros" : "write " + version)
                        + ", the last flushed write to it was " + lastFlushed[s]);
            }
        }
        if (!wrong.isEmpty()) {
            fail("seed " + seed + ", flushed up to write " + flushed + ": " + wrong);
        }
    }

    /**
     * The last write the killed process can have made: it flushes at least every 40 writes, and it
     * may have finished one more flush without printing it.
     */
    private static int lastPossible(int flushed) {
        return flushed + 2 * 40;
    }

    /** Whether some write after the flush point went to slot {@code s} (unflushed: may have landed). */
    private static boolean laterWrite(int[] slots, int s, int flushed) {
        for (int i = flushed + 1; i <= Math.min(slots.length - 1, lastPossible(flushed)); i++) {
            if (slots[i] == s && CrashWriter.isDiscard(i)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isZero(ByteBuffer b) {
        for (int i = 0; i < b.limit(); i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
