package org.vdmount.formats.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/** What {@code map()} reports on known layouts, a 4 TiB sparse image, and many concurrent readers. */
class Qcow2MapTest {
    private static final long K = 1024;
    private static final long T = 1L << 40;

    @TempDir
    Path dir;

    /** A compact description of runs: kind and range, adjacent runs of one kind joined. */
    private record Span(RunKind kind, long offset, long length) {
    }

    private static List<Span> spans(VirtualDisk disk, long offset, long length) throws Exception {
        List<Span> out = new ArrayList<>();
        disk.map(offset, length, run -> {
            Span last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.kind() == run.kind() && run.kind() != RunKind.COMPRESSED
                    && last.offset() + last.length() == run.offset()) {
                out.set(out.size() - 1, new Span(last.kind(), last.offset(), last.length() + run.length()));
            } else {
                out.add(new Span(run.kind(), run.offset(), run.length()));
            }
        });
        return out;
    }

    @Test
    void mapsDataZeroCompressedAndUnallocatedClustersThroughTheChain() throws Exception {
        Path base = dir.resolve("base.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", base.toString(), "1M");
        TestImages.qemuIo(base, "qcow2", "write -P 0x01 512k 64k", "write -P 0x02 640k 64k");
        Path top = dir.resolve("top.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top.toString(), "1M");
        TestImages.qemuIo(top, "qcow2", "write -P 0x03 0 64k", "write -P 0x04 64k 64k", "write -z 128k 64k",
                "write -c -P 0x05 256k 64k", "write -z 640k 64k");
        try (VirtualDisk disk = Images.open(top)) {
            assertEquals(List.of(
                    new Span(RunKind.DATA, 0, 128 * K),
                    new Span(RunKind.ZERO, 128 * K, 64 * K),
                    new Span(RunKind.UNALLOCATED, 192 * K, 64 * K),
                    new Span(RunKind.COMPRESSED, 256 * K, 64 * K),
                    new Span(RunKind.UNALLOCATED, 320 * K, 192 * K),
                    new Span(RunKind.DATA, 512 * K, 64 * K),
                    new Span(RunKind.UNALLOCATED, 576 * K, 64 * K),
                    new Span(RunKind.ZERO, 640 * K, 64 * K),
                    new Span(RunKind.UNALLOCATED, 704 * K, 320 * K)), spans(disk, 0, 1024 * K));
            // Two clusters qemu allocated one after the other come back as one run: one pread.
            List<Run> head = new ArrayList<>();
            disk.map(0, 128 * K, head::add);
            assertEquals(1, head.size());
            // A range inside a cluster maps to just that range, at the right host offset.
            List<Run> inner = new ArrayList<>();
            disk.map(512 * K + 100, 1000, inner::add);
            assertEquals(1, inner.size());
            assertEquals(RunKind.DATA, inner.get(0).kind());
            assertEquals(base.toString(), inner.get(0).storage().name());
            TestImages.assertSameBytes(TestImages.qemuRaw(top), disk);
        }
    }

    @Test
    void answersAtOnceOnAFourTebibyteSparseImage() throws Exception {
        Path image = dir.resolve("big.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", image.toString(), "4T");
        TestImages.qemuIo(image, "qcow2", "write -P 0x3c 3T 64k", "write -P 0x3d " + (4 * T - 64 * K) + " 64k");
        try (VirtualDisk disk = Images.open(image)) {
            assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
                assertEquals(4 * T, disk.size());
                assertEquals(List.of(new Span(RunKind.DATA, 3 * T, 64 * K)), spans(disk, 3 * T, 64 * K));
                ByteBuffer got = ByteBuffer.allocate(64 * 1024);
                disk.read(got, 3 * T);
                byte[] want = new byte[64 * 1024];
                java.util.Arrays.fill(want, (byte) 0x3c);
                assertArrayEquals(want, got.array());
                assertEquals(List.of(
                        new Span(RunKind.UNALLOCATED, 0, 3 * T),
                        new Span(RunKind.DATA, 3 * T, 64 * K),
                        new Span(RunKind.UNALLOCATED, 3 * T + 64 * K, T - 128 * K),
                        new Span(RunKind.DATA, 4 * T - 64 * K, 64 * K)), spans(disk, 0, 4 * T));
            });
        }
    }

    @Test
    void manyThreadsReadPlainAndCompressedImagesAtOnce() throws Exception {
        int size = 8 * Qcow2Fixtures.MIB;
        Path raw = Qcow2Fixtures.sourceRaw(dir, "src.raw", size);
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=4k", raw.toString(),
                "plain.qcow2");
        TestImages.qemuImg(dir, "convert", "-c", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=16k",
                raw.toString(), "deflate.qcow2");
        // A compressed top over the compressed image: pieces of the top read the base in place.
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-b", "deflate.qcow2", "-F", "qcow2", "-o",
                "cluster_size=4k", "top.qcow2", String.valueOf(size));
        TestImages.qemuIo(dir.resolve("top.qcow2"), "qcow2", "write -c -P 0x00 0 64k",
                "write -c -P 0x00 2M 1M", "write -P 0x00 5M 8k");
        byte[] source = Files.readAllBytes(raw);
        byte[] overlaid = source.clone();
        java.util.Arrays.fill(overlaid, 0, 64 * 1024, (byte) 0);
        java.util.Arrays.fill(overlaid, 2 << 20, 3 << 20, (byte) 0);
        java.util.Arrays.fill(overlaid, 5 << 20, (5 << 20) + 8192, (byte) 0);
        for (String name : List.of("plain.qcow2", "deflate.qcow2", "top.qcow2")) {
            byte[] expected = name.equals("top.qcow2") ? overlaid : source;
            try (VirtualDisk disk = Images.open(dir.resolve(name))) {
                ExecutorService pool = Executors.newFixedThreadPool(8);
                try {
                    List<Future<?>> done = new ArrayList<>();
                    for (int t = 0; t < 8; t++) {
                        long seed = t;
                        done.add(pool.submit(() -> {
                            Random random = new Random(seed);
                            for (int i = 0; i < 150; i++) {
                                int length = 1 + random.nextInt(150_000);
                                if (name.equals("top.qcow2") && i == 0) {
                                    length = 3 << 20;
                                }
                                int offset = random.nextInt(size - length);
                                ByteBuffer got = ByteBuffer.allocate(length);
                                disk.read(got, offset);
                                if (!ByteBuffer.wrap(expected, offset, length).equals(got.flip())) {
                                    throw new AssertionError(name + ": wrong bytes at " + offset + "+" + length);
                                }
                            }
                            return null;
                        }));
                    }
                    for (Future<?> f : done) {
                        f.get();
                    }
                } finally {
                    pool.shutdownNow();
                }
            }
        }
    }
}
