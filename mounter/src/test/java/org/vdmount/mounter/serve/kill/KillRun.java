package org.vdmount.mounter.serve.kill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.vdmount.formats.testing.TestImages;
import org.vdmount.mounter.nbd.NbdProtocol;
import org.vdmount.mounter.serve.NbdTestClient;

/**
 * One image through several server lives: {@code vdmount serve --rw} is started on it, a random
 * write stream runs until the server is killed with SIGKILL (at a random moment, or just after a
 * FLUSH was sent), and then qemu checks the image and its content is compared with what the client
 * was told. Then the next server starts on the same image: it must open it (the dead server's lock
 * went with it, leaked clusters are harmless) and read it exactly as qemu does.
 */
final class KillRun {
    private static final Pattern LEAKS = Pattern.compile("(\\d+) leaked clusters were found");

    private final KillImage kind;
    private final Path dir;
    private final Random random;
    private final KillTally tally;
    private Path image;
    private WriteHistory history;
    /** The image as qemu read it after the last kill; null before the first. */
    private byte[] lastContent;

    KillRun(KillImage kind, Path dir, Random random, KillTally tally) {
        this.kind = kind;
        this.dir = dir;
        this.random = random;
        this.tally = tally;
    }

    void run(int kills) throws Exception {
        Files.createDirectories(dir);
        Path initial = dir.resolve("initial.raw");
        history = new WriteHistory(KillImage.writeInitial(initial));
        image = kind.create(dir, initial);
        for (int k = 0; k < kills; k++) {
            killOnce(k);
        }
        // What the kills leaked, qemu repairs as for any crash: the image is then clean, and the
        // server serves it as before.
        TestImages.runAllowingFailure(dir, "qemu-img", "check", "-q", "-r", "leaks", "-f", kind.format, image.toString());
        TestImages.Result after = TestImages.runAllowingFailure(dir, "qemu-img", "check", "-f", kind.format, image.toString());
        if (after.exit() != 0) {
            fail("after qemu-img check -r leaks, the image is not clean:\n" + after.output());
        }
        try (ServeProcess server = ServeProcess.start(image, dir.resolve("serve.log"))) {
            compareServed(server, "after qemu-img check -r leaks");
        }
    }

    /** What the server serves must be what qemu read after the last kill. */
    private void compareServed(ServeProcess server, String when) throws IOException {
        int at = Arrays.mismatch(readAll(server), lastContent);
        if (at >= 0) {
            fail(when + ", vdmount serves the image differently from qemu's reading, from byte " + at);
        }
    }

    private void killOnce(int k) throws Exception {
        int killAtFlush = random.nextInt(3) == 0 ? 1 + random.nextInt(8) : 0;
        RandomWriteStream.Outcome outcome;
        try (ServeProcess server = ServeProcess.start(image, dir.resolve("serve.log"))) {
            if (lastContent != null) {
                compareServed(server, "after kill " + k);
            }
            Thread timer = null;
            if (killAtFlush == 0) {
                int delay = random.nextInt(1500);
                timer = new Thread(() -> {
                    try {
                        Thread.sleep(delay);
                    } catch (InterruptedException e) {
                        return;
                    }
                    server.kill();
                }, "killer");
                timer.setDaemon(true);
                timer.start();
            }
            outcome = new RandomWriteStream(history, random).run(server, killAtFlush);
            if (timer != null) {
                timer.join();
            }
        }
        tally.kills++;
        tally.killsInFlush += outcome.killedInFlush() ? 1 : 0;
        tally.opsSent += outcome.sent();
        tally.opsAcknowledged += outcome.acknowledged();
        tally.flushes += outcome.flushes();

        TestImages.Result check = TestImages.runAllowingFailure(dir, "qemu-img", "check", "-f", kind.format, image.toString());
        Matcher leaks = LEAKS.matcher(check.output());
        boolean leaked = check.exit() == 3 && leaks.find() && !check.output().contains("ERROR");
        if (check.exit() != 0 && !leaked) {
            tally.corruptions++;
            fail("after kill " + (k + 1) + " (" + outcome + "), qemu-img check exited " + check.exit() + ":\n" + check.output());
        }
        if (leaked) {
            tally.checksWithLeaks++;
            tally.leakedClusters += Long.parseLong(leaks.group(1));
        }
        Path raw = TestImages.qemuRaw(image, kind.format);
        byte[] content = Files.readAllBytes(raw);
        Files.delete(raw);
        WriteHistory.Verdict verdict = history.verify(content);
        if (!verdict.problems().isEmpty()) {
            tally.lostWrites++;
            fail("after kill " + (k + 1) + " (" + outcome + "), the image lacks what the client was told is there:\n  "
                    + String.join("\n  ", verdict.problems()));
        }
        tally.flushedOpsVerified += verdict.durableOps();
        tally.flushedSectorsVerified += verdict.durableSectors();
        lastContent = content;
    }

    /** Everything the server serves, read in 1 MiB requests. */
    private static byte[] readAll(ServeProcess server) throws IOException {
        try (NbdTestClient client = new NbdTestClient(server.address())) {
            byte[] all = new byte[(int) client.go(server.export()).size()];
            int chunk = 1 << 20;
            for (int at = 0; at < all.length; at += chunk) {
                int n = Math.min(chunk, all.length - at);
                client.queue(0, NbdProtocol.CMD_READ, at, at, n, null);
                client.send();
                NbdTestClient.Reply reply = client.reply();
                if (reply.error() != 0 || reply.cookie() != at) {
                    throw new IOException("read at " + at + " failed: " + reply);
                }
                client.readPayload(all, at, n);
            }
            return all;
        }
    }

    /** Fails, keeping the image (and its backing file and the servers' log) under target/ to look at. */
    private void fail(String message) throws IOException {
        Path keep = Path.of("target", "serve-kill-failures", kind.name().toLowerCase() + "-" + System.currentTimeMillis());
        Files.createDirectories(keep);
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.copy(f, keep.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        throw new AssertionError(kind.label + ": " + message + "\n(the image is kept in " + keep.toAbsolutePath() + ")");
    }
}
