package org.vdmount.mounter.system;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the system tools vdmount leans on (losetup, umount) and turns their failures into one line. */
public final class Commands {
    private Commands() {
    }

    /**
     * Runs {@code command}; returns its standard output, or throws with its whole error output as
     * the message, on one line (tools put the reason on any line: Debian 12's mount on the first,
     * with a hint after it). Warnings on stderr of a successful run are dropped.
     */
    public static String run(String... command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException(command[0] + " is not installed (or not on PATH)");
        }
        CompletableFuture<String> errors = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        String out = drain(p.getInputStream());
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + ": timed out");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", command) + ": interrupted");
        }
        if (p.exitValue() != 0) {
            String why = errors.join().strip();
            if (why.isEmpty()) {
                why = out.strip();
            }
            throw new IOException(command[0] + " failed: " + (why.isEmpty() ? "exit status " + p.exitValue() : oneLine(why)));
        }
        return out;
    }

    /** Every line of {@code text}, trimmed, joined by single spaces. */
    static String oneLine(String text) {
        return String.join(" ", text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
    }

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** Whether {@code name} is an executable in one of the PATH directories (or the usual sbin ones). */
    public static boolean installed(String name) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }
}
