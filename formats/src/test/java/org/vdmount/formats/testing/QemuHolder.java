package org.vdmount.formats.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A qemu-io that holds an image open (writable, or read-only with -r) until closed, returned once
 * its lock bytes are in the kernel's lock table: the running qemu other users of the image meet.
 */
public final class QemuHolder implements AutoCloseable {
    private final Process process;

    private QemuHolder(Process process) {
        this.process = process;
    }

    public static QemuHolder writing(Path image, String format) throws IOException, InterruptedException {
        return start(image, format, false);
    }

    public static QemuHolder reading(Path image, String format) throws IOException, InterruptedException {
        return start(image, format, true);
    }

    private static QemuHolder start(Path image, String format, boolean readOnly)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", format));
        if (readOnly) {
            cmd.add("-r");
        }
        cmd.addAll(List.of("-c", "sleep 100000", image.toString())); // milliseconds; closed long before
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        QemuHolder holder = new QemuHolder(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!locked(image)) {
            if (!p.isAlive()) {
                fail(String.join(" ", cmd) + " ended: "
                        + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            if (System.nanoTime() > deadline) {
                holder.close();
                fail(String.join(" ", cmd) + " took no lock within 20 s");
            }
            Thread.sleep(20);
        }
        return holder;
    }

    /** Whether any process holds a lock on {@code file} (its inode in /proc/locks). */
    public static boolean locked(Path file) throws IOException {
        long ino = (Long) Files.getAttribute(file, "unix:ino");
        return Files.readAllLines(Path.of("/proc/locks")).stream().anyMatch(l -> l.contains(":" + ino + " "));
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
