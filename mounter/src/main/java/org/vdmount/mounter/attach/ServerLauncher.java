package org.vdmount.mounter.attach;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.vdmount.mounter.util.UserError;
import org.vdmount.mounter.transport.AttachedDevice;

/**
 * Starts an attach server in the background. Java cannot fork, so the JVM is launched again (same
 * java, same class path) with the internal {@code --server} flag, in a new session (setsid) so a
 * closing terminal does not take it down; its standard output is a pipe that carries the
 * {@link LaunchProtocol} lines until "ready", its standard error goes to a log in the run directory.
 */
public final class ServerLauncher {
    static final String SERVER_FLAG = "--server";
    private static final long READY_TIMEOUT_SECONDS = 120;

    private ServerLauncher() {
    }

    /** Launches {@code vdmount attach --server ARGS}, prints its device lines to {@code out}, returns the attachment id. */
    public static int launch(List<String> attachArgs, PrintStream out, PrintStream err) throws IOException, InterruptedException {
        RunDirectory run = RunDirectory.standard();
        Files.createDirectories(run.root());
        Path log = run.root().resolve("server.log");
        List<String> command = new ArrayList<>();
        if (new File("/usr/bin/setsid").canExecute()) {
            command.add("/usr/bin/setsid");
        }
        command.add(javaBinary());
        String runDirProperty = System.getProperty("vdmount.run.dir");
        if (runDirProperty != null) {
            command.add("-Dvdmount.run.dir=" + runDirProperty);
        }
        // The launcher's JVM options (bin/vdmount), one a line: the same bounded heap, and the same
        // start-up cache, so the server starts fast, which matters most when it takes over a device
        // whose requests are waiting. (It runs on the same Java: javaBinary() is this JVM's.)
        for (String option : System.getProperty("vdmount.jvm.options", "").split("\n")) {
            if (!option.isBlank()) {
                command.add(option);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("org.vdmount.mounter.Main");
        command.add("attach");
        command.add(SERVER_FLAG);
        command.addAll(attachArgs);
        Process server = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        ExecutorService reader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vdmount-launch");
            t.setDaemon(true);
            return t;
        });
        try {
            Future<Integer> ready = reader.submit(() -> follow(server, out, err, log));
            return ready.get(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            server.destroy(); // SIGTERM: its shutdown hook takes down whatever it had made
            throw new UserError("the attach server did not get ready within " + READY_TIMEOUT_SECONDS
                    + " s (see " + log + ")");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UserError u) {
                throw u;
            }
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } finally {
            reader.shutdownNow();
        }
    }

    private static int follow(Process server, PrintStream out, PrintStream err, Path log) throws IOException, InterruptedException {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] f = line.split("\t", -1);
                switch (f[0]) {
                    case LaunchProtocol.WARN -> err.println("vdmount: warning: " + f[1]);
                    case LaunchProtocol.DEVICE -> out.println(DeviceLines.line(
                            new AttachedDevice(f[1], Long.parseLong(f[2]), f[3], f[4])));
                    case LaunchProtocol.READY -> {
                        out.flush();
                        return Integer.parseInt(f[1]);
                    }
                    case LaunchProtocol.ERROR -> {
                        server.waitFor(10, TimeUnit.SECONDS);
                        throw new UserError(f[1]);
                    }
                    default -> err.println(line);
                }
            }
        }
        boolean exited = server.waitFor(10, TimeUnit.SECONDS);
        throw new UserError("the attach server " + (exited ? "exited with status " + server.exitValue() : "stopped talking")
                + " before it was ready (see " + log + ")");
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
