package org.vdmount.mounter.attach;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.mounter.transport.AttachedDevice;

class RunDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void recordsSurviveTheRoundTrip() throws Exception {
        RunDirectory run = new RunDirectory(dir.resolve("run"));
        int id = run.allocate();
        AttachmentRecord written = new AttachmentRecord(id, "/images/a b=c.qcow2", "fuse", "read-only", 1234,
                "/run/vdmount/0.log", List.of(new AttachedDevice("/dev/loop3", 1L << 30, "disk", "a b=c.qcow2 (qcow2 v3, read-only, fuse)"),
                        new AttachedDevice("/dev/loop4", 1L << 20, "p1", "Linux")),
                Map.of("mountPoint", "/run/vdmount/0"));
        run.write(written);
        assertEquals(List.of(written), run.list());
        assertFalse(written.starting());
    }

    @Test
    void claimedIdsAreStartingUntilWrittenAndNeverShared() throws Exception {
        RunDirectory run = new RunDirectory(dir.resolve("run"));
        Set<Integer> ids = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        for (int i = 0; i < 40; i++) {
            pool.submit(() -> ids.add(run.allocate()));
        }
        pool.shutdown();
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        assertEquals(40, ids.size());
        List<AttachmentRecord> records = run.list();
        assertEquals(40, records.size());
        assertTrue(records.stream().allMatch(AttachmentRecord::starting));
        assertEquals(0, records.get(0).id());
        assertEquals(39, records.get(39).id());
    }

    @Test
    void aLeftoverWorkDirectoryIsNotReused() throws Exception {
        RunDirectory run = new RunDirectory(dir.resolve("run"));
        Files.createDirectories(run.workDir(0));
        assertEquals(1, run.allocate());
    }
}
