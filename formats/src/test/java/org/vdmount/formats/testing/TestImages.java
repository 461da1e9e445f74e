package org.vdmount.formats.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.vdmount.formats.VirtualDisk;

/**
 * Builds test images with the real tools (qemu-img, qemu-io, sfdisk, mke2fs...) and compares our
 * reading of them with qemu's. A missing tool fails the test: CI installs them, and a test that
 * quietly skips proves nothing.
 */
public final class TestImages {
    private TestImages() {
    }

    /** What a command printed (stdout and stderr together) and its exit status. */
    public record Result(int exit, String output) {
    }

    /** Runs a command, failing the test with its output if it does not exit 0. Returns stdout+stderr. */
    public static String run(Path dir, String... command) throws IOException, InterruptedException {
        Result r = runAllowingFailure(dir, command);
        if (r.exit() != 0) {
            fail(String.join(" ", command) + " exited " + r.exit() + ":\n" + r.output());
        }
        return r.output();
    }

    /** Runs a command and reports how it ended; fails the test only if it cannot start or hangs. */
    public static Result runAllowingFailure(Path dir, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            fail("cannot run " + command[0] + " (install it: see .ci/run): " + e.getMessage());
            return null;
        }
        p.getOutputStream().close();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + ": timed out");
        }
        return new Result(p.exitValue(), out);
    }

    public static String qemuImg(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("qemu-img");
        cmd.addAll(Arrays.asList(args));
        return run(dir, cmd.toArray(String[]::new));
    }

    /** Runs qemu-io commands (each a -c argument) on an image, writable. */
    public static String qemuIo(Path image, String format, String... commands) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", format));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image.toString());
        return run(image.getParent(), cmd.toArray(String[]::new));
    }

    /** qemu's view of an image's bytes: {@code qemu-img convert -O raw}. */
    public static Path qemuRaw(Path image) throws IOException, InterruptedException {
        return qemuRaw(image, null);
    }

    /**
     * qemu's view of an image's bytes, read as {@code format} (null: as qemu probes it; a fixed VHD,
     * whose signature is at its end, qemu probes as raw).
     */
    public static Path qemuRaw(Path image, String format) throws IOException, InterruptedException {
        Path raw = image.resolveSibling(image.getFileName() + ".qemu.raw");
        Files.deleteIfExists(raw);
        List<String> args = new ArrayList<>(List.of("convert"));
        if (format != null) {
            args.addAll(List.of("-f", format));
        }
        args.addAll(List.of("-O", "raw", image.toString(), raw.toString()));
        qemuImg(image.getParent(), args.toArray(String[]::new));
        return raw;
    }

    /**
     * Asserts that {@code disk} reads exactly like {@code raw}, byte for byte, reading in chunks of
     * odd sizes so cluster boundaries fall inside reads.
     */
    public static void assertSameBytes(Path raw, VirtualDisk disk) throws IOException {
        try (FileChannel expected = FileChannel.open(raw, StandardOpenOption.READ)) {
            assertEquals(expected.size(), disk.size(), "virtual size");
            int chunk = 3 * 65536 + 4608;
            ByteBuffer want = ByteBuffer.allocate(chunk);
            ByteBuffer got = ByteBuffer.allocate(chunk);
            for (long pos = 0; pos < disk.size(); pos += chunk) {
                int n = (int) Math.min(chunk, disk.size() - pos);
                want.clear().limit(n);
                got.clear().limit(n);
                while (want.hasRemaining() && expected.read(want, pos + want.position()) >= 0) {
                    // read on until full
                }
                disk.read(got, pos);
                if (!want.flip().equals(got.flip())) {
                    int at = 0;
                    while (want.get(at) == got.get(at)) {
                        at++;
                    }
                    fail("bytes differ at virtual offset " + (pos + at));
                }
            }
        }
    }

    /**
     * Asserts that {@code disk} reads as qemu reads {@code image} (opened as {@code qemuFormat}), for
     * images too large to convert: our bytes go to a sparse file (the runs our map calls zero are
     * left as holes, all-zero blocks are not written) and {@code qemu-img compare} checks every byte
     * of it against qemu's own reading, using block status on both sides to skip what both hold as
     * zeros. A hole where qemu has data, or data where qemu has zeros, is a difference.
     */
    public static void assertSameAsQemu(Path image, String qemuFormat, VirtualDisk disk)
            throws IOException, InterruptedException {
        assertSameAsQemu(image, qemuFormat, "", disk);
    }

    /**
     * As {@link #assertSameAsQemu(Path, String, VirtualDisk)}, with options for qemu's driver
     * ("force_size_calc=current_size,"), given as the start of an --image-opts string.
     */
    public static void assertSameAsQemu(Path image, String qemuFormat, String driverOptions, VirtualDisk disk)
            throws IOException, InterruptedException {
        String theirs = "driver=" + qemuFormat + "," + driverOptions + "file.filename=" + image.toString().replace(",", ",,");
        String info = qemuImg(image.getParent(), "info", "--output=json", "--image-opts", theirs);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"virtual-size\": (\\d+)").matcher(info);
        if (!m.find()) {
            fail("no virtual size in qemu-img info: " + info);
        }
        assertEquals(Long.parseLong(m.group(1)), disk.size(), "virtual size");
        Path ours = image.resolveSibling(image.getFileName() + ".vdmount.raw");
        Files.deleteIfExists(ours);
        try (FileChannel out = FileChannel.open(ours, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            out.truncate(0);
            List<org.vdmount.formats.Run> runs = new ArrayList<>();
            disk.map(0, disk.size(), runs::add);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            for (org.vdmount.formats.Run run : runs) {
                if (run.kind().readsAsZero()) {
                    continue;
                }
                for (long at = run.offset(); at < run.end(); at += buf.capacity()) {
                    buf.clear().limit((int) Math.min(buf.capacity(), run.end() - at));
                    disk.read(buf, at);
                    buf.flip();
                    if (!allZero(buf)) {
                        while (buf.hasRemaining()) {
                            out.write(buf, at + buf.position());
                        }
                    }
                }
            }
            if (out.size() < disk.size()) {
                out.write(ByteBuffer.allocate(1), disk.size() - 1);
            }
        }
        try {
            Result r = runAllowingFailure(image.getParent(), "qemu-img", "compare", "--image-opts",
                    "driver=raw,file.filename=" + ours.toString().replace(",", ",,"), theirs);
            if (r.exit() != 0) {
                fail("vdmount and qemu read " + image + " differently: " + r.output().strip());
            }
        } finally {
            Files.deleteIfExists(ours);
        }
    }

    private static boolean allZero(ByteBuffer b) {
        for (int i = b.position(); i < b.limit(); i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Writes {@code length} bytes of a repeatable pattern (seeded) at {@code offset} of a raw file. */
    public static void writePattern(Path raw, long offset, int length, int seed) throws IOException {
        byte[] data = pattern(length, seed);
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b, offset + b.position());
            }
        }
    }

    /** A repeatable pseudo-random pattern: the same seed gives the same bytes. */
    public static byte[] pattern(int length, int seed) {
        byte[] data = new byte[length];
        long x = 0x9E3779B97F4A7C15L * (seed + 1);
        for (int i = 0; i < length; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            data[i] = (byte) x;
        }
        return data;
    }
}
