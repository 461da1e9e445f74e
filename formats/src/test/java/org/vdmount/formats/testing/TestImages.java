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
     * images too large to compare byte by byte: qemu converts the image to a sparse raw file, the
     * file system says where that file holds data (qemu-img map of the raw file, through
     * SEEK_DATA), and every byte is compared wherever either qemu's file or our map holds data.
     * Elsewhere both are zeros: a hole reads as zeros, and so do our ZERO and UNALLOCATED runs.
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
        String theirs = "driver=" + qemuFormat + "," + driverOptions + "file.filename="
                + image.toString().replace(",", ",,");
        Path raw = image.resolveSibling(image.getFileName() + ".qemu.raw");
        Files.deleteIfExists(raw);
        qemuImg(image.getParent(), "convert", "--image-opts", theirs, "-O", "raw", raw.toString());
        try (FileChannel expected = FileChannel.open(raw, StandardOpenOption.READ)) {
            assertEquals(expected.size(), disk.size(), "virtual size");
            java.util.TreeMap<Long, Long> ranges = new java.util.TreeMap<>();
            for (QemuMap.Range r : QemuMap.dataOfTopLayer(raw, "raw")) {
                ranges.merge(r.start(), r.end(), Math::max);
            }
            disk.map(0, disk.size(), run -> {
                if (!run.kind().readsAsZero()) {
                    ranges.merge(run.offset(), run.end(), Math::max);
                }
            });
            ByteBuffer want = ByteBuffer.allocate(1 << 20);
            ByteBuffer got = ByteBuffer.allocate(1 << 20);
            long done = 0;
            for (java.util.Map.Entry<Long, Long> r : ranges.entrySet()) {
                for (long at = Math.max(r.getKey(), done); at < r.getValue(); at += want.capacity()) {
                    int n = (int) Math.min(want.capacity(), r.getValue() - at);
                    want.clear().limit(n);
                    got.clear().limit(n);
                    while (want.hasRemaining() && expected.read(want, at + want.position()) >= 0) {
                        // read on until full
                    }
                    disk.read(got, at);
                    if (!want.flip().equals(got.flip())) {
                        int i = 0;
                        while (want.get(i) == got.get(i)) {
                            i++;
                        }
                        fail("vdmount and qemu read " + image + " differently at offset " + (at + i));
                    }
                }
                done = Math.max(done, r.getValue());
            }
        } finally {
            Files.deleteIfExists(raw);
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

    /**
     * Writes {@code file}: a disk of {@code size} bytes (at least 5 MiB) with data at its start, 3 MiB
     * in and at its very end, and holes between: what the format tests convert with qemu-img.
     */
    public static Path patternedDisk(Path file, long size) throws IOException {
        Files.deleteIfExists(file);
        writePattern(file, 0, 300_000, 1);
        writePattern(file, 3 << 20, 1 << 20, 2);
        writePattern(file, size - 4096, 4096, 3);
        return file;
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
