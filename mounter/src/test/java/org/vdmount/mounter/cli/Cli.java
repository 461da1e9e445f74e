package org.vdmount.mounter.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs vdmount as users do: a separate JVM, so exit status, stdout and stderr are the real ones
 * (and a stack trace or a hang would show).
 */
public final class Cli {
    /** What a run of vdmount gave. */
    public record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    private Cli() {
    }

    public static Result run(Path dir, String... args) throws IOException, InterruptedException {
        return run(dir, java.util.Map.of(), args);
    }

    /** Runs with {@code environment} added to (or, for an empty value, removed from) this JVM's. */
    public static Result run(Path dir, java.util.Map<String, String> environment, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("org.vdmount.mounter.Main");
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        environment.forEach((k, v) -> {
            if (v.isEmpty()) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        Path errFile = java.nio.file.Files.createTempFile("vdmount-err", ".txt");
        pb.redirectError(errFile.toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("vdmount " + String.join(" ", args) + ": timed out");
        }
        String err = java.nio.file.Files.readString(errFile);
        java.nio.file.Files.delete(errFile);
        return new Result(p.exitValue(), new String(out, StandardCharsets.ISO_8859_1), err);
    }
}
