package org.vdmount.formats.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/**
 * What every format must do, checked on one image of each format and subformat
 * ({@link ContractImages}): {@code map} covers any range exactly and in order; {@code read} agrees
 * with {@code map} (zeros where it says zero, the stored bytes where it says data) and with qemu;
 * many threads read at once; and damaged headers and tables give a one-line {@link ImageException},
 * never another exception, a hang or a runaway allocation (the test JVM's heap is bounded).
 */
class ContractTest {
    private static final int MUTATIONS = 160;
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private static Path dir;
    private static Path raw;
    private static final Map<String, Path> BUILT = new HashMap<>();

    @BeforeAll
    static void makeRaw() throws Exception {
        dir = Files.createTempDirectory("vdmount-contract");
        raw = dir.resolve("disk.raw");
        ContractImages.writeRaw(raw);
    }

    @AfterAll
    static void clean() throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static List<ContractImages.Image> images() {
        return ContractImages.all();
    }

    /** The image, made once per run; its own directory, so that chains do not meet. */
    private static synchronized Path image(ContractImages.Image image) throws Exception {
        Path built = BUILT.get(image.name());
        if (built == null) {
            Path sub = Files.createDirectories(dir.resolve(image.name()));
            Path copy = sub.resolve("disk.raw");
            Files.copy(raw, copy);
            built = image.builder().build(sub, copy);
            BUILT.put(image.name(), built);
        }
        return built;
    }

    /** qemu's reading of the image, which every other check trusts. */
    private static Path qemuRaw(Path image, ContractImages.Image kind) throws Exception {
        Path converted = image.resolveSibling(image.getFileName() + ".qemu.raw");
        return Files.exists(converted) ? converted : TestImages.qemuRaw(image, kind.qemuFormat());
    }

    /** info's details, which --json prints: one key style, and values typed (no number as a string). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void detailsHaveOneKeyStyleAndTypedValues(ContractImages.Image image) throws Exception {
        try (VirtualDisk disk = Images.open(image(image))) {
            for (VirtualDisk d = disk; d != null; d = d.backing().orElse(null)) {
                d.info().details().forEach((key, value) -> {
                    assertTrue(key.matches("[a-z0-9]+([.-][a-z0-9]+)*"), "key style: " + key);
                    assertTrue(value instanceof Number || value instanceof Boolean || value instanceof String,
                            key + " is " + value.getClass());
                    // (Numbers written as text are not caught here: hex IDs such as a VMDK's CID may
                    // happen to be all decimal digits.)
                    if (value instanceof String text) {
                        assertFalse(text.matches("true|false"), key + " is a flag as a string: " + text);
                    }
                });
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void mapCoversEveryRangeExactlyAndInOrder(ContractImages.Image image) throws Exception {
        try (VirtualDisk disk = Images.open(image(image))) {
            long size = disk.size();
            Random random = new Random(image.name().hashCode());
            List<long[]> ranges = new ArrayList<>(List.of(new long[] {0, size}, new long[] {0, 1},
                    new long[] {size - 1, 1}, new long[] {size, 0}, new long[] {4095, 8193}));
            for (int i = 0; i < 200; i++) {
                long from = (long) (random.nextDouble() * size);
                ranges.add(new long[] {from, (long) (random.nextDouble() * (size - from))});
            }
            for (long[] r : ranges) {
                List<Run> runs = new ArrayList<>();
                disk.map(r[0], r[1], runs::add);
                long at = r[0];
                for (Run run : runs) {
                    assertEquals(at, run.offset(), "runs are contiguous and in order in " + r[0] + "+" + r[1]);
                    assertTrue(run.length() > 0);
                    assertNotEquals(RunKind.BACKING, run.kind(), "map resolves backing runs");
                    at = run.end();
                }
                assertEquals(r[0] + r[1], at, "runs cover " + r[0] + "+" + r[1] + " exactly");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void readAgreesWithMapAndWithQemu(ContractImages.Image image) throws Exception {
        Path path = image(image);
        Path expected = qemuRaw(path, image);
        try (VirtualDisk disk = Images.open(path)) {
            TestImages.assertSameBytes(expected, disk);
            List<Run> runs = new ArrayList<>();
            disk.map(0, disk.size(), runs::add);
            for (Run run : runs) {
                long length = Math.min(run.length(), 1 << 20);
                ByteBuffer read = ByteBuffer.allocate((int) length);
                disk.read(read, run.offset());
                read.flip();
                switch (run.kind()) {
                    case ZERO, UNALLOCATED -> assertTrue(allZero(read), run + " reads as zeros");
                    case DATA -> {
                        ByteBuffer stored = ByteBuffer.allocate((int) length);
                        run.storage().readFully(stored, run.hostOffset());
                        assertEquals(stored.flip(), read, run + " reads its stored bytes");
                    }
                    case COMPRESSED -> assertEquals(length, read.remaining());
                    default -> fail("unexpected run " + run);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void manyThreadsReadAtOnce(ContractImages.Image image) throws Exception {
        Path path = image(image);
        byte[] expected = Files.readAllBytes(qemuRaw(path, image));
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try (VirtualDisk disk = Images.open(path)) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int seed = t;
                jobs.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    for (int i = 0; i < 150; i++) {
                        int length = 1 + random.nextInt(300_000);
                        long at = (long) (random.nextDouble() * (disk.size() - length));
                        ByteBuffer got = ByteBuffer.allocate(length);
                        disk.read(got, at);
                        if (!got.flip().equals(ByteBuffer.wrap(expected, (int) at, length))) {
                            fail("thread " + seed + ": bytes differ in " + at + "+" + length);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> job : jobs) {
                job.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void damagedHeadersAndTablesFailInOneLine(ContractImages.Image image) throws Exception {
        Path path = image(image);
        long size = Files.size(path);
        long head = Math.min(size, 1 << 20);
        long tail = Math.min(size, 64 << 10);
        Random random = new Random(image.name().hashCode() * 31L);
        List<long[]> structures = image.structures().of(path);
        int refused = 0;
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (int i = 0; i < MUTATIONS; i++) {
                // Headers first (the first sector, then 4 KiB), the tables that follow, the footers,
                // and the structures the image says it has elsewhere.
                int where = random.nextInt(structures.isEmpty() ? 10 : 13);
                long[] spot = where >= 10 ? structures.get(random.nextInt(structures.size())) : null;
                long at = spot != null ? spot[0] + (long) (random.nextDouble() * spot[1])
                        : where < 3 ? (long) (random.nextDouble() * Math.min(size, 512))
                        : where < 5 ? (long) (random.nextDouble() * Math.min(size, 4096))
                        : where < 8 ? (long) (random.nextDouble() * head)
                        : size - 1 - (long) (random.nextDouble() * (where == 8 ? Math.min(size, 512) : tail));
                at &= random.nextBoolean() ? ~3L : ~0L;
                int length = (int) Math.min(4, size - at);
                ByteBuffer original = ByteBuffer.allocate(length);
                file.read(original, at);
                ByteBuffer damage = ByteBuffer.allocate(length);
                switch (random.nextInt(4)) {
                    case 0 -> damage.put(0, (byte) (original.get(0) ^ (1 << random.nextInt(8))));
                    case 1 -> damage.putInt(0, length == 4 ? 0xffffffff : 0);
                    case 2 -> damage.putInt(0, length == 4 ? 0x7fffffff : 0);
                    default -> damage.putInt(0, length == 4 ? random.nextInt() : 0);
                }
                if (length < 4) {
                    damage.put(0, (byte) random.nextInt());
                }
                file.write(damage.clear(), at);
                try {
                    String description = "byte " + at + " changed";
                    if (exercise(path, description) != null) {
                        refused++;
                    }
                } finally {
                    file.write(original.flip(), at);
                }
            }
        }
        // Raw (whole or split) reads any bytes; every other format must have noticed some of the damage.
        assertTrue(image.name().startsWith("raw") || refused > 0, "no damage was noticed");
    }

    /** Opens, maps and reads the damaged image; returns the refusal, or null if it read. */
    private static String exercise(Path path, String description) {
        return assertTimeoutPreemptively(PATIENCE, () -> {
            try (VirtualDisk disk = Images.open(path)) {
                long size = disk.size();
                Random random = new Random(size);
                List<long[]> ranges = new ArrayList<>();
                ranges.add(new long[] {0, Math.min(size, 1 << 20)});
                ranges.add(new long[] {Math.max(0, size - (1 << 20)), Math.min(size, 1 << 20)});
                for (int i = 0; i < 8; i++) {
                    long at = (long) (random.nextDouble() * size);
                    ranges.add(new long[] {at, Math.min(size - at, 65536)});
                }
                for (long[] r : ranges) {
                    disk.map(r[0], r[1], run -> { });
                    disk.read(ByteBuffer.allocate((int) r[1]), r[0]);
                }
                return null;
            } catch (ImageException e) {
                assertFalse(e.getMessage().contains("\n"), description + ": one line: " + e.getMessage());
                return e.getMessage();
            } catch (Throwable e) {
                throw new AssertionError(description + ": not an ImageException", e);
            }
        }, () -> description + ": no answer in " + PATIENCE.toSeconds() + " s");
    }

    private static boolean allZero(ByteBuffer b) {
        for (int i = b.position(); i < b.limit(); i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
