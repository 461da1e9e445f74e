package org.vdmount.formats.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vdmount.formats.testing.PowerCuts;
import org.vdmount.formats.testing.TestImages;

/**
 * Power cuts at any moment while vdmount writes a qcow2 image ({@link PowerCuts}): each cut leaves
 * an image that {@code qemu-img check} finds clean or leaking only, with every flushed write, and
 * internal snapshots as they were. One kind of image per layout the writer handles apart (with an
 * external data file, both files are cut).
 * {@code -Dvdmount.powerCuts=N}: cuts per kind (default 12, for the unit suite's time).
 */
class Qcow2PowerCutTest {
    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;

    record Kind(String name, String options, boolean backing, boolean compressedWithSnapshot) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Kind> kinds() {
        return Stream.of(
                new Kind("v3, 4 KiB clusters", "cluster_size=4096", false, false),
                new Kind("v3, 512-byte clusters (the refcount table and blocks grow)", "cluster_size=512", false, false),
                new Kind("v3, 64 KiB clusters over a backing file", "cluster_size=65536", true, false),
                new Kind("v2 over a backing file", "compat=0.10,cluster_size=65536", true, false),
                new Kind("extended L2 over a backing file", "extended_l2=on,cluster_size=65536", true, false),
                new Kind("1-bit refcounts", "refcount_bits=1,cluster_size=4096", false, false),
                new Kind("external data file", "data_file=image.data,cluster_size=65536", false, false),
                new Kind("raw external data file", "data_file=image.data,data_file_raw=on,cluster_size=4096", false,
                        false),
                new Kind("compressed clusters and a snapshot", "cluster_size=65536", false, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void everyCutLeavesAConsistentImageWithEveryFlushedWrite(Kind kind) throws Exception {
        byte[] initial = new byte[SIZE];
        Path image = build(kind, initial, new Random());
        System.out.println("Qcow2PowerCutTest: " + PowerCuts.run(image, initial, "qcow2", kind.name, 300,
                Integer.getInteger("vdmount.powerCuts", 12), (state, where) -> {
                    if (kind.compressedWithSnapshot) {
                        Path snapshot = state.resolveSibling("snapshot.raw");
                        TestImages.qemuImg(state.getParent(), "convert", "-l", "snapshot.name=before", "-O", "raw",
                                state.toString(), snapshot.toString());
                        assertArrayEquals(initial, Files.readAllBytes(snapshot), where + ": the snapshot changed");
                    }
                }));
    }

    /** The image to write; its disk's content before the writes goes to {@code initial}. */
    private Path build(Kind kind, byte[] initial, Random random) throws Exception {
        Path image = dir.resolve("image.qcow2");
        if (kind.backing) {
            Path backing = dir.resolve("backing.raw");
            System.arraycopy(WriteChecks.randomRaw(backing, SIZE, random.nextLong()), 0, initial, 0, SIZE);
            TestImages.qemuImg(dir, "create", "-q", "-f", "qcow2", "-o", kind.options, "-b", backing.toString(),
                    "-F", "raw", image.toString(), Integer.toString(SIZE));
        } else if (kind.compressedWithSnapshot) {
            for (int i = 0; i < SIZE; i++) {
                initial[i] = (byte) random.nextInt(4); // two bits' worth a byte: compresses, so stays compressed
            }
            Path raw = dir.resolve("content.raw");
            Files.write(raw, initial);
            TestImages.qemuImg(dir, "convert", "-q", "-c", "-f", "raw", "-O", "qcow2", "-o", kind.options,
                    raw.toString(), image.toString());
            TestImages.qemuImg(dir, "snapshot", "-c", "before", image.toString());
        } else {
            WriteChecks.create(dir, "image.qcow2", kind.options, SIZE);
        }
        return image;
    }
}
