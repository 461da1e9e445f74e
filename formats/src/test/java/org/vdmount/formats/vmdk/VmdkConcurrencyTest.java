package org.vdmount.formats.vmdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.cache.TableCache;
import org.vdmount.formats.testing.TestImages;

/** Many threads reading one disk at once, at odd offsets, get the same bytes as one would. */
class VmdkConcurrencyTest {
    @TempDir
    Path dir;

    @Test
    void readsFromManyThreadsAtOnce() throws Exception {
        Path raw = dir.resolve("src.raw");
        Files.write(raw, new byte[8 << 20]);
        for (int i = 0; i < 8; i++) {
            TestImages.writePattern(raw, i * (1L << 20) + i * 4321, 300_000, i);
        }
        byte[] expected = Files.readAllBytes(raw);
        for (String subformat : new String[] {"streamOptimized", "monolithicSparse"}) {
            Path vmdk = dir.resolve(subformat + ".vmdk");
            TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=" + subformat,
                    raw.toString(), vmdk.toString());
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try (VirtualDisk disk = Images.open(vmdk)) {
                List<Future<?>> jobs = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int seed = t;
                    jobs.add(pool.submit(() -> {
                        Random random = new Random(seed);
                        for (int n = 0; n < 150; n++) {
                            int length = 1 + random.nextInt(200_000);
                            long at = random.nextInt(expected.length - length);
                            ByteBuffer got = ByteBuffer.allocate(length);
                            disk.read(got, at);
                            byte[] want = java.util.Arrays.copyOfRange(expected, (int) at, (int) at + length);
                            assertArrayEquals(want, got.array(), subformat + " at " + at);
                        }
                        return null;
                    }));
                }
                for (Future<?> job : jobs) {
                    job.get();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void theTableCacheStaysWithinItsBudget() throws Exception {
        TableCache cache = new TableCache(16384);
        for (int i = 0; i < 100; i++) {
            long[] table = cache.get(this, i, () -> new long[512]);
            assertEquals(512, table.length);
            assertTrue(cache.heldBytes() <= 16384, "held " + cache.heldBytes());
        }
        int[] loads = {0};
        cache.get(this, 99, () -> {
            loads[0]++;
            return new long[512];
        });
        assertEquals(0, loads[0], "the most recent table stays cached");
    }
}
