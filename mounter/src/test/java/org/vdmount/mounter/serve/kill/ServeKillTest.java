package org.vdmount.mounter.serve.kill;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * kill -9 of {@code vdmount serve --rw} during a random write stream, at random moments: after
 * each kill, {@code qemu-img check} finds the image clean or with leaked clusters only, every
 * write the client had flushed (or written with FUA) reads back, and the next server opens the
 * image and serves what qemu reads. {@code -Dvdmount.crashRuns=N} kills N times per kind of image
 * (default 3, for the unit suite's time; {@code make crashtest-serve} does 50), a fresh image
 * every {@code -Dvdmount.killsPerImage} kills (default 10); {@code -Dvdmount.crashImages=VMDK_SPARSE,...}
 * takes only the kinds of image named. The summary table goes to stdout.
 */
class ServeKillTest {
    private static final Map<KillImage, KillTally> TALLIES = new EnumMap<>(KillImage.class);

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(KillImage.class)
    void killedServerLeavesAConsistentImageWithEveryFlushedWrite(KillImage kind) throws Exception {
        String only = System.getProperty("vdmount.crashImages", "");
        Assumptions.assumeTrue(only.isBlank() || Arrays.asList(only.split(",")).contains(kind.name()),
                "not in -Dvdmount.crashImages=" + only);
        int kills = Integer.getInteger("vdmount.crashRuns", 3);
        int perImage = Math.max(1, Integer.getInteger("vdmount.killsPerImage", 10));
        KillTally tally = TALLIES.computeIfAbsent(kind, k -> new KillTally());
        Random random = new Random();
        long start = System.nanoTime();
        try {
            for (int done = 0; done < kills; done += perImage) {
                new KillRun(kind, dir.resolve("image" + tally.images), random, tally).run(Math.min(perImage, kills - done));
                tally.images++;
                // Progress on a long run (make crashtest-serve): one line per image.
                System.out.printf("ServeKillTest: %s: %d of %d kills, %d with leaks, %d flushed operations found%n",
                        kind.label, tally.kills, kills, tally.checksWithLeaks, tally.flushedOpsVerified);
            }
        } finally {
            tally.millis += (System.nanoTime() - start) / 1_000_000;
        }
    }

    @AfterAll
    static void summary() {
        System.out.print("ServeKillTest (kill -9 of vdmount serve --rw):\n" + KillTally.table(TALLIES));
    }
}
