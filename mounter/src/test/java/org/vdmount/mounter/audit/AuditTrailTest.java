package org.vdmount.mounter.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.mounter.util.UserError;

class AuditTrailTest {
    @TempDir
    Path dir;

    @Test
    void aLineHasTheCommonFieldsAndTheEventsOwn() throws Exception {
        Invocation.arguments(List.of("verify", "disk.img"));
        Path log = dir.resolve("log/audit.jsonl");
        List<String> warnings = new ArrayList<>();
        new AuditTrail(log, false, warnings::add).append(AuditEntry.of("verify").put("result", "hashed")
                .put("size", 42L).put("nothing", null));
        List<Map<String, Object>> lines = JsonLines.read(log);
        assertEquals(1, lines.size());
        Map<String, Object> line = lines.get(0);
        assertEquals(List.of("time", "event", "user", "command", "cwd", "result", "size"), List.copyOf(line.keySet()));
        Instant time = Instant.parse((String) line.get("time"));
        assertTrue(Math.abs(time.toEpochMilli() - System.currentTimeMillis()) < 60_000, "UTC, and now: " + time);
        assertTrue(((String) line.get("time")).endsWith("Z"), "UTC");
        assertEquals("verify", line.get("event"));
        @SuppressWarnings("unchecked")
        Map<String, Object> user = (Map<String, Object>) line.get("user");
        assertEquals(((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue(), user.get("uid"));
        assertEquals(System.getProperty("user.name"), user.get("name"));
        assertEquals(List.of("vdmount", "verify", "disk.img"), line.get("command"));
        assertEquals(System.getProperty("user.dir"), line.get("cwd"));
        assertEquals(42L, line.get("size"));
        assertEquals(List.of(), warnings);
        // Made for the purpose: the directory 0750, the file 0640 (umask permitting: never wider).
        assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(log.getParent())));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(log)));
    }

    @Test
    void linesAppendedAtTheSameTimeByThreadsAndProcessesStayWhole() throws Exception {
        Path log = dir.resolve("audit.jsonl");
        int processes = 3;
        int threads = 4;
        int perWriter = 150;
        List<Process> children = new ArrayList<>();
        for (int p = 0; p < processes; p++) {
            children.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                    Appender.class.getName(), log.toString(), "process-" + p, Integer.toString(perWriter))
                    .inheritIO().start());
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String writer = "thread-" + t;
            done.add(pool.submit(() -> Appender.append(log, writer, perWriter)));
        }
        for (Future<?> f : done) {
            f.get(2, TimeUnit.MINUTES);
        }
        pool.shutdown();
        for (Process c : children) {
            assertTrue(c.waitFor(2, TimeUnit.MINUTES));
            assertEquals(0, c.exitValue());
        }
        // Every line parses on its own (nothing torn or interleaved), and every append is there once.
        List<Map<String, Object>> lines = JsonLines.read(log);
        assertEquals((processes + threads) * perWriter, lines.size());
        Map<String, Integer> next = new HashMap<>();
        for (Map<String, Object> line : lines) {
            String writer = (String) line.get("writer");
            int seq = ((Long) line.get("seq")).intValue();
            assertEquals(next.getOrDefault(writer, 0), seq, "each writer's lines in its order, none lost");
            next.put(writer, seq + 1);
            assertEquals(Appender.padding(writer, seq), line.get("padding"));
        }
        assertEquals(processes + threads, next.size());
    }

    /** Appends numbered lines, each with a 20 KB field: large enough that torn writes would show. */
    public static final class Appender {
        public static void main(String[] args) {
            append(Path.of(args[0]), args[1], Integer.parseInt(args[2]));
        }

        static void append(Path log, String writer, int count) {
            AuditTrail trail = new AuditTrail(log, true, w -> { });
            for (int i = 0; i < count; i++) {
                trail.append(AuditEntry.of("test").put("writer", writer).put("seq", i).put("padding", padding(writer, i)));
            }
        }

        static String padding(String writer, int seq) {
            return (writer + ":" + seq + ";").repeat(20_000 / (writer.length() + 8));
        }
    }

    @Test
    void aLogThatCannotBeWrittenIsOneWarningOrWithRequiredAnError() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("file"), "x");
        Path log = notADirectory.resolve("audit.jsonl");
        List<String> warnings = new ArrayList<>();
        AuditTrail lenient = new AuditTrail(log, false, warnings::add);
        lenient.checkWritable(); // nothing to check when not required
        lenient.append(AuditEntry.of("verify"));
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).startsWith("cannot write the audit log " + log + ": "), warnings.get(0));
        assertTrue(warnings.get(0).endsWith("; this verify is not recorded"), warnings.get(0));
        assertFalse(warnings.get(0).contains("\n"));

        AuditTrail strict = new AuditTrail(log, true, warnings::add);
        UserError before = assertThrows(UserError.class, strict::checkWritable);
        assertTrue(before.getMessage().endsWith("(required by --audit-required): nothing was done"), before.getMessage());
        assertThrows(UserError.class, () -> strict.append(AuditEntry.of("detach")));
        assertEquals(1, warnings.size(), "the strict trail fails instead of warning");
        assertEquals("x", Files.readString(notADirectory));
    }

    @Test
    void offWritesNothing() throws Exception {
        AuditTrail off = AuditTrail.off();
        assertFalse(off.enabled());
        off.checkWritable();
        off.append(AuditEntry.of("attach"));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void theEdgeDigestIsTheSha256OfTheFirstAndLastMibOrOfTheWholeSmallFile() throws Exception {
        byte[] big = new byte[3 * ImageFiles.EDGE + 12345];
        new Random(3).nextBytes(big);
        Path file = Files.write(dir.resolve("big.img"), big);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(big, 0, ImageFiles.EDGE);
        sha.update(big, big.length - ImageFiles.EDGE, ImageFiles.EDGE);
        Map<String, Object> described = ImageFiles.describe(file);
        assertEquals(HexFormat.of().formatHex(sha.digest()), described.get("edge-sha256"));
        assertEquals((long) big.length, described.get("size"));
        assertEquals(Files.getLastModifiedTime(file).toInstant().toString(), described.get("mtime"));
        assertEquals(file.toString(), described.get("path"));

        byte[] small = new byte[ImageFiles.EDGE + 999]; // head and tail overlap: each byte once
        new Random(4).nextBytes(small);
        Path smallFile = Files.write(dir.resolve("small.img"), small);
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(small)),
                ImageFiles.describe(smallFile).get("edge-sha256"));
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(new byte[0])),
                ImageFiles.describe(Files.write(dir.resolve("empty.img"), new byte[0])).get("edge-sha256"));
        assertTrue(ImageFiles.describe(dir.resolve("gone.img")).containsKey("error"));
    }

    @Test
    void theUsersCommandLineReachesTheServerWhateverItHolds() {
        List<String> args = List.of("attach", "--overlay", "-", "", "two\nlines", "é ünïcode", "--", "disk.img");
        String encoded = Invocation.encode(args);
        assertFalse(encoded.startsWith("-"));
        assertEquals(args, Invocation.decode(encoded));
        assertEquals(List.of(), Invocation.decode(Invocation.encode(List.of())));
    }
}
