package org.vdmount.formats.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/** Plain, zero-cluster and compressed images in every version and cluster size class, against qemu. */
class Qcow2ReadTest {
    private static final long SIZE = 6 * Qcow2Fixtures.MIB;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "compat={0} cluster_size={1}")
    @CsvSource({"0.10,512", "0.10,4k", "0.10,64k", "0.10,2M", "1.1,512", "1.1,4k", "1.1,64k", "1.1,2M"})
    void readsConvertedAndRewrittenImages(String compat, String clusterSize) throws Exception {
        Path raw = Qcow2Fixtures.sourceRaw(dir, "src.raw", SIZE);
        Path image = dir.resolve("disk.qcow2");
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "qcow2", "-o",
                "compat=" + compat + ",cluster_size=" + clusterSize, raw.toString(), image.toString());
        // Partial-cluster rewrites, zeroing (a zero flag on v3, written zeros on v2) and a discard.
        TestImages.qemuIo(image, "qcow2", "write -P 0x5a 1000 3000", "write -z 300000 200000",
                "write -z 0 512", "discard 4194304 1048576", "write -P 0x11 5767168 65536");
        DiskInfo info = checkAgainstQemu(image, "v" + (compat.equals("0.10") ? 2 : 3));
        int expectedCluster = clusterSize.equals("512") ? 512 : clusterSize.equals("4k") ? 4096
                : clusterSize.equals("64k") ? 65536 : 2 << 20;
        assertEquals(expectedCluster, info.clusterSize());
        assertEquals(SIZE, info.virtualSize());
        assertEquals(java.nio.file.Files.size(image), info.fileSize());
        assertEquals(compat.equals("0.10") ? 2 : 3, info.details().get("version"));
        assertEquals(16, info.details().get("refcount-bits"));
        assertEquals("deflate", info.compression());
    }

    @Test
    void ignoresPersistentBitmapsAndReportsOtherFeatures() throws Exception {
        Path image = dir.resolve("bitmap.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-o", "lazy_refcounts=on,refcount_bits=64",
                image.toString(), "2M");
        TestImages.qemuIo(image, "qcow2", "write -P 0x21 0 100k");
        TestImages.qemuImg(dir, "bitmap", "--add", image.toString(), "b0");
        DiskInfo info = checkAgainstQemu(image, "v3");
        assertEquals("present (ignored)", info.details().get("bitmaps"));
        assertEquals(true, info.details().get("lazy-refcounts"));
        assertEquals(64, info.details().get("refcount-bits"));
    }

    @ParameterizedTest(name = "compat={0} cluster_size={1}")
    @CsvSource({"0.10,4k", "1.1,512", "1.1,64k", "1.1,2M"})
    void readsDeflateCompressedImages(String compat, String clusterSize) throws Exception {
        Path raw = Qcow2Fixtures.sourceRaw(dir, "src.raw", SIZE);
        Path image = dir.resolve("deflate.qcow2");
        TestImages.qemuImg(dir, "convert", "-c", "-f", "raw", "-O", "qcow2", "-o",
                "compat=" + compat + ",cluster_size=" + clusterSize, raw.toString(), image.toString());
        // An overwrite of part of a compressed cluster turns it into a normal one.
        TestImages.qemuIo(image, "qcow2", "write -P 0x33 400000 1000");
        DiskInfo info = checkAgainstQemu(image, compat.equals("0.10") ? "v2" : "v3");
        assertEquals("deflate", info.compression());
    }

    @ParameterizedTest(name = "cluster_size={0}")
    @CsvSource({"512", "64k", "2M"})
    void readsZstdCompressedImages(String clusterSize) throws Exception {
        // 10 MiB so that 6 MiB to 8 MiB is a hole even with 2 MiB clusters: compressed writes need one.
        Path raw = Qcow2Fixtures.sourceRaw(dir, "src.raw", 10 * Qcow2Fixtures.MIB);
        Path image = dir.resolve("zstd.qcow2");
        TestImages.qemuImg(dir, "convert", "-c", "-f", "raw", "-O", "qcow2", "-o",
                "compression_type=zstd,cluster_size=" + clusterSize, raw.toString(), image.toString());
        TestImages.qemuIo(image, "qcow2", "write -c -P 0x44 6M " + clusterSize);
        DiskInfo info = checkAgainstQemu(image, "v3");
        assertEquals("zstd", info.compression());
    }

    @ParameterizedTest(name = "compressed={0}")
    @CsvSource({"true", "false"})
    void readsAnImageWhoseSizeIsNotAClusterMultiple(boolean compressed) throws Exception {
        Path raw = Qcow2Fixtures.sourceRaw(dir, "src.raw", 3 * Qcow2Fixtures.MIB);
        Qcow2Fixtures.resize(raw, 3 * Qcow2Fixtures.MIB - 1536);
        TestImages.writePattern(raw, 3 * Qcow2Fixtures.MIB - 70_000, 68_464, 9);
        Path image = dir.resolve("odd.qcow2");
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("convert", "-f", "raw", "-O", "qcow2"));
        if (compressed) {
            args.add("-c");
        }
        args.addAll(java.util.List.of(raw.toString(), image.toString()));
        TestImages.qemuImg(dir, args.toArray(String[]::new));
        checkAgainstQemu(image, "v3");
    }

    @Test
    void readsCompressedClustersWrittenByQemuIo() throws Exception {
        Path image = dir.resolve("io.qcow2");
        TestImages.qemuImg(dir, "create", "-f", "qcow2", "-o", "cluster_size=4k", image.toString(), "1M");
        TestImages.qemuIo(image, "qcow2", "write -c -P 0x01 0 4k", "write -c -P 0x02 4k 4k",
                "write -c -P 0x03 64k 4k", "write -P 0x04 8k 4k");
        checkAgainstQemu(image, "v3");
    }

    private DiskInfo checkAgainstQemu(Path image, String subformat) throws IOException, InterruptedException {
        Path expected = TestImages.qemuRaw(image);
        try (VirtualDisk disk = Images.open(image)) {
            assertEquals("qcow2", disk.info().format());
            assertEquals(subformat, disk.info().subformat());
            TestImages.assertSameBytes(expected, disk);
            return disk.info();
        }
    }
}
