package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** {@code vdmount serve} as a user runs it: options, messages, readiness lines, signals. */
class NbdServeCommandTest {
    @TempDir
    Path dir;

    private record Outcome(int exit, String out, String err) {
    }

    private static Outcome inProcess(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = VdmountCommand.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Outcome(exit, out.toString(), err.toString());
    }

    private Path image(String name, int size) throws IOException {
        Path p = dir.resolve(name);
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) (i * 31 + 7);
        }
        Files.write(p, data);
        return p;
    }

    @Test
    void helpExplainsTheLoopbackDefaultAndTls() {
        Outcome o = inProcess("serve", "--help");
        assertEquals(0, o.exit());
        assertTrue(o.out().startsWith("Usage: vdmount serve "), "laid out like every other command: " + o.out());
        assertTrue(o.out().contains("127.0.0.1"), o.out());
        assertTrue(o.out().contains("Security: without --tls-creds"), o.out());
        assertFalse(o.out().contains("not available yet"), o.out());
        for (String option : List.of("--bind", "--port", "--socket", "--export-name", "--snapshot", "--disk", "--rw",
                "--verbose", "--read-only", "--overlay", "--tls-creds", "--[no-]tls-required")) {
            assertTrue(o.out().contains(option), option);
        }
        for (String line : o.out().split("\n")) {
            assertTrue(line.length() <= 80, "wider than the other commands' help: " + line);
        }
    }

    @Test
    void badUsesSayWhatIsWrong() throws IOException {
        Path a = image("a.img", 4096);
        Path b = image("b.img", 4096);
        assertUsageError(inProcess("serve", "--overlay", dir.resolve("o.ovl").toString(), a.toString(), b.toString()),
                "--overlay takes the writes of one image");
        assertUsageError(inProcess("serve", "--socket", dir.resolve("s").toString(), "--port", "1", a.toString()),
                "cannot be combined");
        assertOneLineError(inProcess("serve", "--port", "1", dir.resolve("missing.img").toString()),
                "missing.img: no such file");
        assertUsageError(inProcess("serve", "--port", "1", a.toString(), a.toString()),
                "two exports would be named 'a.img'");
        assertUsageError(inProcess("serve", "--rw", "--read-only", a.toString()), "--read-only contradicts --rw");
        assertUsageError(inProcess("serve", "--export-name", "x", "--export-name", "y", a.toString()),
                "more --export-name options");
        assertUsageError(inProcess("serve", "--port", "70000", a.toString()), "not a TCP port");
        assertUsageError(inProcess("serve", "--no-tls-required", a.toString()), "go with --tls-creds");
        Files.writeString(dir.resolve("taken"), "");
        assertOneLineError(inProcess("serve", "--socket", dir.resolve("taken").toString(), a.toString()),
                "already exists");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertOneLineError(inProcess("serve", "--port", String.valueOf(taken.getLocalPort()), a.toString()),
                    "cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": Address already in use");
        }
        assertUsageError(inProcess("serve", "--bind", "no.such.host.invalid", a.toString()), "no such address");
        assertOneLineError(inProcess("serve", "--disk", "2", a.toString()), "a raw image is one disk: --disk 2");
        assertEquals(2, inProcess("serve").exit());
    }

    /** A failure of the image or the system: exit 1 and one line. */
    private static void assertOneLineError(Outcome o, String expected) {
        assertEquals(1, o.exit(), o.err());
        assertTrue(o.err().startsWith("vdmount: "), o.err());
        assertTrue(o.err().contains(expected), o.err());
        assertEquals(1, o.err().strip().lines().count(), o.err());
    }

    /** A mistake on the command line: exit 2, one line, and where to read more. */
    static void assertUsageError(Outcome o, String expected) {
        assertEquals(2, o.exit(), o.err());
        List<String> lines = o.err().strip().lines().toList();
        assertEquals(2, lines.size(), o.err());
        assertTrue(lines.get(0).startsWith("vdmount: ") && lines.get(0).contains(expected), o.err());
        assertEquals("Try 'vdmount serve --help' for more information.", lines.get(1));
    }

    /** Starts {@code vdmount serve} in its own JVM and returns it with its readiness lines. */
    private Process start(List<String> readiness, String... args) throws IOException {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "org.vdmount.mounter.Main", "serve"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(dir.resolve("serve.err").toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") && (i == 0 || !List.of("--socket", "--port", "--bind", "--export-name", "--snapshot", "--disk", "--overlay", "--tls-creds", "--audit-log")
                    .contains(args[i - 1]))) {
                String line = out.readLine();
                assertTrue(line != null, "no readiness line; stderr: " + Files.readString(dir.resolve("serve.err")));
                readiness.add(line);
            }
        }
        return p;
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void servesOnTcpPrintsUrisAndStopsOnSigterm() throws Exception {
        Path a = image("a.img", 1 << 20);
        Path b = image("b.img", 12345);
        List<String> lines = new java.util.ArrayList<>();
        Process p = start(lines, "--port", "0", "--verbose", "--export-name", "sys", a.toString(), b.toString());
        try {
            assertEquals(2, lines.size());
            assertTrue(lines.get(0).matches("nbd://127\\.0\\.0\\.1:\\d+/sys  \\(.*a\\.img, raw, 1048576 bytes, read-only\\)"),
                    lines.get(0));
            assertTrue(lines.get(1).matches("nbd://127\\.0\\.0\\.1:\\d+/b\\.img  \\(.*read-only\\)"), lines.get(1));
            String uri = lines.get(1).split(" ")[0];
            assertEquals("12345", run("nbdinfo", "--size", uri).strip());
            String first = uri.substring(0, uri.lastIndexOf('/') + 1);
            assertEquals("1048576", run("nbdinfo", "--size", first).strip(), "the default export is the first");
        } finally {
            p.destroy(); // SIGTERM
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "stops on SIGTERM");
        String err = Files.readString(dir.resolve("serve.err"));
        assertFalse(err.contains("Exception"), err);
        assertTrue(err.matches("(?s).*vdmount: serve: client 127\\.0\\.0\\.1:\\d+: opened 'b\\.img'.*"), err);
        assertTrue(err.contains("requests on 'sys'"), err);
    }

    @Test
    void servesOnAUnixSocketAndRemovesIt() throws Exception {
        Path a = image("disk.img", 65536);
        Path socket = dir.resolve("vd.sock");
        List<String> lines = new java.util.ArrayList<>();
        Process p = start(lines, "--socket", socket.toString(), a.toString());
        try {
            assertEquals("nbd+unix:///disk.img?socket=" + socket, lines.get(0).split(" ")[0]);
            assertTrue(Files.exists(socket));
            assertEquals("65536", run("nbdinfo", "--size", lines.get(0).split(" ")[0]).strip());
        } finally {
            p.destroy();
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertFalse(Files.exists(socket), "socket removed on SIGTERM");
    }

    @Test
    @SuppressWarnings("unchecked")
    void servesAQcow2Snapshot() throws Exception {
        Path image = dir.resolve("s.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "4M");
        run("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 64k", image.toString());
        run("qemu-img", "snapshot", "-c", "first", image.toString());
        run("qemu-io", "-f", "qcow2", "-c", "write -P 0xa5 0 1M", image.toString());
        Path expected = dir.resolve("expected.raw");
        run("qemu-img", "convert", "-O", "raw", "-l", "snapshot.name=first", image.toString(), expected.toString());
        List<String> lines = new java.util.ArrayList<>();
        Path log = dir.resolve("audit.jsonl");
        Process p = start(lines, "--port", "0", "--snapshot", "first", "--audit-log", log.toString(), image.toString());
        try {
            Path copy = dir.resolve("copy.raw");
            run("nbdcopy", lines.get(0).split(" ")[0], copy.toString());
            assertEquals(-1L, Files.mismatch(expected, copy));
        } finally {
            p.destroy();
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        // The audit trail: the serve when it listens, its end with what the clients read.
        List<java.util.Map<String, Object>> audit = org.vdmount.mounter.audit.JsonLines.read(log);
        assertEquals(List.of("serve", "end"), audit.stream().map(l -> l.get("event")).toList());
        assertEquals(List.of(lines.get(0).split(" ")[0]), audit.get(0).get("exports"));
        assertEquals("read-only", audit.get(0).get("mode"));
        assertEquals(image.toString(), ((List<java.util.Map<String, Object>>) audit.get(0).get("images")).get(0).get("path"));
        long read = (Long) audit.get(1).get("bytes-read");
        assertTrue(read >= 65536 && read <= 4 << 20, "nbdcopy read the snapshot's data: " + read);
        assertEquals(0L, audit.get(1).get("bytes-written"));
    }

    @Test
    void readWriteRawExport() throws Exception {
        Path a = image("rw.img", 65536);
        List<String> lines = new java.util.ArrayList<>();
        Process p = start(lines, "--port", "0", "--rw", a.toString());
        try {
            assertTrue(lines.get(0).endsWith("read-write)"), lines.get(0));
            String json = run("nbdinfo", "--json", lines.get(0).split(" ")[0]);
            assertTrue(json.contains("\"is_read_only\": false"), json);
            assertTrue(json.contains("\"can_multi_conn\": true"), json);
        } finally {
            p.destroy();
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
    }

    /**
     * An image served --rw, qemu-io the client: its writes (unaligned, across clusters and grains),
     * write-zeroes and discards are in the image after the server ends, which qemu finds clean. A
     * split sparse VMDK, a qcow2 v3 and a qcow2 v2 (zeroes written, not zero clusters).
     */
    @ParameterizedTest
    @CsvSource({"served.vmdk, vmdk, subformat=twoGbMaxExtentSparse", "served.qcow2, qcow2, compat=1.1",
        "served-v2.qcow2, qcow2, compat=0.10"})
    void readWriteExport(String name, String format, String options) throws Exception {
        Path image = dir.resolve(name);
        run("qemu-img", "create", "-q", "-f", format, "-o", options, image.toString(), "64M");
        run("qemu-io", "-f", format, "-c", "write -P 0x5a 0 1M", image.toString());
        List<String> lines = new java.util.ArrayList<>();
        Process p = start(lines, "--port", "0", "--rw", image.toString());
        try {
            String uri = lines.get(0).split(" ")[0];
            run("qemu-io", "-f", "raw", "-c", "write -P 0xab 61440 131072", "-c", "write -P 0xcd 40M 512",
                    "-c", "write -z 512k 64k", "-c", "discard 768k 128k", "-c", "flush", uri);
            String back = run("qemu-io", "-f", "raw", "-c", "read -P 0xab 61440 131072", "-c", "read -P 0 512k 64k", uri);
            assertFalse(back.contains("Pattern verification failed"), back);
        } finally {
            p.destroy();
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        run("qemu-img", "check", image.toString());
        String back = run("qemu-io", "-f", format, "-r", "-c", "read -P 0xab 61440 131072", "-c", "read -P 0xcd 40M 512",
                "-c", "read -P 0x5a 0 61440", "-c", "read -P 0x5a 192k 320k", "-c", "read -P 0 512k 64k",
                "-c", "read -P 0 768k 128k", "-c", "read -P 0x5a 896k 128k", "-c", "read -P 0 1M 1M", image.toString());
        assertFalse(back.contains("Pattern verification failed"), "the writes are in the image: " + back);
    }

    @Test
    void overlayTakesTheWritesAndTheImageStaysAsItWas() throws Exception {
        Path a = image("evidence.img", 1 << 20);
        byte[] before = Files.readAllBytes(a);
        Path overlay = dir.resolve("changes.ovl");
        List<String> lines = new java.util.ArrayList<>();
        Process p = start(lines, "--port", "0", "--overlay", overlay.toString(), a.toString());
        try {
            assertTrue(lines.get(0).endsWith("writes to " + overlay + ", read-write)"), lines.get(0));
            String uri = lines.get(0).split(" ")[0];
            run("qemu-io", "-f", "raw", "-c", "write -P 0xab 4096 8192", uri);
            String back = run("qemu-io", "-f", "raw", "-c", "read -P 0xab 4096 8192", "-c", "read -P 0x07 0 1", uri);
            assertTrue(back.contains("read 8192/8192 bytes") && !back.contains("Pattern verification failed"), back);
        } finally {
            p.destroy();
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(-1L, java.util.Arrays.mismatch(before, Files.readAllBytes(a)), "the image is unchanged");
        lines.clear();
        p = start(lines, "--port", "0", "--overlay", overlay.toString(), a.toString());
        try {
            String back = run("qemu-io", "-f", "raw", "-r", "-c", "read -P 0xab 4096 8192", lines.get(0).split(" ")[0]);
            assertFalse(back.contains("Pattern verification failed"), "serving it again shows the writes: " + back);
        } finally {
            p.destroy();
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
    }
}
