package org.vdmount.formats.vmdk;

import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vdmount.formats.testing.PowerCuts;
import org.vdmount.formats.testing.TestImages;

/**
 * Power cuts at any moment while vdmount writes a VMDK ({@link PowerCuts}): each cut leaves an
 * image qemu reads and checks without error, with every flushed write. The writable layouts: one
 * sparse file with its descriptor inside, a descriptor with a sparse extent file, a flat extent,
 * and a snapshot delta over a parent that stays read-only.
 * {@code -Dvdmount.powerCuts=N}: cuts per kind (default 12, for the unit suite's time).
 */
class VmdkPowerCutTest {
    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;

    static Stream<String> subformats() {
        return Stream.of("monolithicSparse", "twoGbMaxExtentSparse", "monolithicFlat", "delta over a parent");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("subformats")
    void everyCutLeavesAReadableImageWithEveryFlushedWrite(String subformat) throws Exception {
        byte[] initial = new byte[SIZE];
        Path image = dir.resolve("disk.vmdk");
        if (subformat.startsWith("delta")) {
            Path raw = dir.resolve("parent.raw");
            new Random().nextBytes(initial);
            java.nio.file.Files.write(raw, initial);
            Path parent = dir.resolve("parent.vmdk");
            TestImages.qemuImg(dir, "convert", "-q", "-f", "raw", "-O", "vmdk", raw.toString(), parent.toString());
            TestImages.qemuImg(dir, "create", "-q", "-f", "vmdk", "-b", parent.toString(), "-F", "vmdk",
                    image.toString(), Integer.toString(SIZE));
        } else {
            TestImages.qemuImg(dir, "create", "-q", "-f", "vmdk", "-o", "subformat=" + subformat, image.toString(),
                    Integer.toString(SIZE));
        }
        System.out.println("VmdkPowerCutTest: " + PowerCuts.run(image, initial, "vmdk", subformat, 300,
                Integer.getInteger("vdmount.powerCuts", 12), (state, where) -> { }));
    }
}
