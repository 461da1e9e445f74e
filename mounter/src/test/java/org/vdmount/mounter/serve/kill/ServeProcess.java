package org.vdmount.mounter.serve.kill;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code vdmount serve --rw IMAGE} in a JVM of its own, started through the product's main class
 * as the other serve tests start it, on a free port; killed with SIGKILL, as a crash would end it.
 */
final class ServeProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final InetSocketAddress address;
    private final String export;
    private volatile boolean killRequested;

    private ServeProcess(Process process, Path log, InetSocketAddress address, String export) {
        this.process = process;
        this.log = log;
        this.address = address;
        this.export = export;
    }

    /** Starts the server and waits for its readiness line; {@code log} takes its stderr (appended). */
    static ServeProcess start(Path image, Path log) throws IOException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // Frugal on a shared machine: the server's logic is the same with any JIT or collector.
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), "org.vdmount.mounter.Main",
                "serve", "--port", "0", "--rw", image.toString());
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        p.getOutputStream().close();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (line == null || !line.startsWith("nbd://")) {
            p.destroyForcibly();
            throw new IOException("vdmount serve --rw " + image.getFileName() + " did not start (readiness line "
                    + line + "); its log:\n" + tail(log));
        }
        URI uri = URI.create(line.split(" ")[0]);
        return new ServeProcess(p, log, new InetSocketAddress(uri.getHost(), uri.getPort()), uri.getPath().substring(1));
    }

    InetSocketAddress address() {
        return address;
    }

    String export() {
        return export;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL (what {@link Process#destroyForcibly} sends on Linux), without waiting. */
    void kill() {
        killRequested = true;
        process.destroyForcibly();
    }

    /** Whether {@link #kill} was called: a broken connection is then expected. */
    boolean killRequested() {
        return killRequested;
    }

    /** Kills the server if it still runs and waits until it is gone (its file locks then are too). */
    @Override
    public void close() throws IOException {
        kill();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IOException("vdmount serve survived SIGKILL for 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** The end of the servers' log, for failure messages. */
    String logTail() throws IOException {
        return tail(log);
    }

    private static String tail(Path log) throws IOException {
        String text = Files.exists(log) ? Files.readString(log) : "";
        return text.length() > 4000 ? "..." + text.substring(text.length() - 4000) : text;
    }
}
