package org.vdmount.formats.vmdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * kill -9 of a process writing a VMDK at random moments: each time qemu finds the image clean, and
 * every write acknowledged by a flush before the kill reads back (in qemu and in vdmount).
 */
class VmdkCrashTest {
    private static final int ROUNDS = 6;
    private static final long SIZE = 24L << 20;

    @TempDir(factory = MemoryTempDir.class)
    Path dir;

    @BeforeEach
    void qemu() {
        VmdkWriteCheck.assumeQemu();
    }

    @Test
    void killedWriterLeavesACleanImageWithEveryFlushedWrite() throws Exception {
        Random random = new Random(42);
        int killedMidway = 0;
        for (int round = 0; round < ROUNDS; round++) {
            Path vmdk = dir.resolve("crash" + round + ".vmdk");
            // Every other round, a delta: new grains then take their untouched parts from the parent.
            if (round % 2 == 0) {
                TestImages.qemuImg(dir, "create", "-q", "-f", "vmdk", vmdk.toString(), Long.toString(SIZE));
            } else {
                Path base = dir.resolve("base" + round + ".vmdk");
                TestImages.qemuImg(dir, "create", "-q", "-f", "vmdk", base.toString(), Long.toString(SIZE));
                TestImages.qemuIo(base, "vmdk", "write -P 0x77 0 " + SIZE);
                TestImages.qemuImg(dir, "create", "-q", "-f", "vmdk", "-b", base.toString(), "-F", "vmdk",
                        vmdk.toString());
            }
            int flushed = runAndKill(vmdk, 30 + random.nextInt(600));
            killedMidway += flushed < VmdkCrashWriter.slots(SIZE) ? 1 : 0;
            TestImages.qemuImg(dir, "check", vmdk.toString());
            Path raw = TestImages.qemuRaw(vmdk, "vmdk");
            try (FileChannel qemu = FileChannel.open(raw, StandardOpenOption.READ);
                    VirtualDisk disk = Images.open(vmdk)) {
                int slots = VmdkCrashWriter.slots(SIZE);
                for (int i = 0; i < flushed; i++) {
                    int length = VmdkCrashWriter.length(i);
                    long at = VmdkCrashWriter.offset(i, slots);
                    byte[] want = TestImages.pattern(length, i);
                    ByteBuffer theirs = ByteBuffer.allocate(length);
                    qemu.read(theirs, at);
                    assertArrayEquals(want, theirs.array(), "round " + round + ": flushed write " + i + " in qemu");
                    ByteBuffer ours = ByteBuffer.allocate(length);
                    disk.read(ours, at);
                    assertArrayEquals(want, ours.array(), "round " + round + ": flushed write " + i + " in vdmount");
                }
            } finally {
                Files.deleteIfExists(raw);
            }
        }
        assertTrue(killedMidway > 0, "at least one writer was killed before it finished");
    }

    /** Starts the writer, kills it (SIGKILL) {@code millis} after it is ready; returns the last "flushed N". */
    private int runAndKill(Path vmdk, int millis) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                VmdkCrashWriter.class.getName(), vmdk.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        AtomicInteger flushed = new AtomicInteger();
        Object ready = new Object();
        boolean[] isReady = {false};
        Thread lines = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.equals("ready")) {
                        synchronized (ready) {
                            isReady[0] = true;
                            ready.notifyAll();
                        }
                    } else if (line.startsWith("flushed ")) {
                        flushed.set(Integer.parseInt(line.substring(8)));
                    }
                }
            } catch (java.io.IOException e) {
                // the process is gone: what was read is what counts
            }
        });
        lines.start();
        synchronized (ready) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!isReady[0] && p.isAlive() && System.nanoTime() < deadline) {
                ready.wait(100);
            }
        }
        assertTrue(isReady[0], "the writer started");
        Thread.sleep(millis);
        p.destroyForcibly(); // SIGKILL: no shutdown hook, no close, no flush
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        lines.join(10_000);
        return flushed.get();
    }
}
