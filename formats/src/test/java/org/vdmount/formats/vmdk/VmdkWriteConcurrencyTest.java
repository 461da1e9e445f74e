package org.vdmount.formats.vmdk;

import static org.vdmount.formats.vmdk.VmdkWriteCheck.assertConvertsToModel;
import static org.vdmount.formats.vmdk.VmdkWriteCheck.assertRedundantInStep;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * Many threads writing one snapshot delta at once, all into the same unallocated grains at the same
 * moment (each thread its own sectors of every grain), while another reads and another flushes. A
 * grain allocated twice would lose one writer's sectors, or the parent's bytes around them.
 */
class VmdkWriteConcurrencyTest {
    private static final int THREADS = 6;
    private static final int GRAINS = 96;
    private static final int GRAIN = 65536;
    private static final int SECTORS = GRAIN / 512;

    @TempDir(factory = MemoryTempDir.class)
    Path dir;

    @BeforeEach
    void qemu() {
        VmdkWriteCheck.assumeQemu();
    }

    @Test
    void writersOfTheSameGrainsAgree() throws Exception {
        long size = 16L << 20;
        Path base = dir.resolve("base.vmdk");
        TestImages.qemuImg(dir, "create", "-q", "-f", "vmdk", base.toString(), Long.toString(size));
        TestImages.qemuIo(base, "vmdk", "write -P 0x6b 0 8M");
        Path child = dir.resolve("child.vmdk");
        TestImages.qemuImg(dir, "create", "-q", "-f", "vmdk", "-b", base.toString(), "-F", "vmdk", child.toString());
        Path model = dir.resolve("model.raw");
        TestImages.qemuImg(dir, "convert", "-f", "vmdk", "-O", "raw", base.toString(), model.toString());

        ExecutorService pool = Executors.newFixedThreadPool(THREADS + 2);
        AtomicBoolean writing = new AtomicBoolean(true);
        try (VirtualDisk disk = Images.open(child, new OpenOptions(null, 0, true), w -> { })) {
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                writers.add(pool.submit(() -> {
                    // Grains in the same order in every thread, so they meet on each one.
                    for (int g = 0; g < GRAINS; g++) {
                        for (int s = thread; s < SECTORS; s += THREADS) {
                            long at = (long) g * GRAIN + 512L * s;
                            disk.write(ByteBuffer.wrap(sector(g, s)), at);
                        }
                    }
                    return null;
                }));
            }
            Future<?> reader = pool.submit(() -> {
                Random random = new Random(1);
                ByteBuffer buf = ByteBuffer.allocate(200_000);
                while (writing.get()) {
                    disk.read(buf.clear(), random.nextInt((int) size - buf.capacity()));
                }
                return null;
            });
            Future<?> flusher = pool.submit(() -> {
                while (writing.get()) {
                    disk.flush();
                    Thread.sleep(3);
                }
                return null;
            });
            for (Future<?> w : writers) {
                w.get();
            }
            writing.set(false);
            reader.get();
            flusher.get();
        } finally {
            pool.shutdownNow();
        }
        try (FileChannel ch = FileChannel.open(model, StandardOpenOption.WRITE)) {
            for (int g = 0; g < GRAINS; g++) {
                for (int s = 0; s < SECTORS; s++) {
                    ch.write(ByteBuffer.wrap(sector(g, s)), (long) g * GRAIN + 512L * s);
                }
            }
        }
        assertConvertsToModel(child, model);
        assertRedundantInStep(child);
        try (VirtualDisk disk = Images.open(child)) {
            TestImages.assertSameBytes(model, disk);
        }
    }

    /** Sector {@code s} of grain {@code g}: its own bytes, different from every other sector's. */
    private static byte[] sector(int g, int s) {
        return TestImages.pattern(512, g * SECTORS + s + 1000);
    }
}
