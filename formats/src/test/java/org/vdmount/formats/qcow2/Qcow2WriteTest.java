package org.vdmount.formats.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vdmount.formats.VirtualDisk;

/**
 * Random writes to qcow2 images of each version, cluster size and refcount width, compared with a
 * byte-array model: vdmount reads them back, qemu-img check finds the image clean, and qemu-img
 * convert reads what was written.
 */
class Qcow2WriteTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "v3 64k clusters 16-bit refcounts; compat=1.1,cluster_size=65536; 65536; 16",
        "v2 4k clusters; compat=0.10,cluster_size=4096; 4096; 8",
        "v3 4k clusters 1-bit refcounts; compat=1.1,cluster_size=4096,refcount_bits=1; 4096; 8",
        "v3 512-byte clusters 64-bit refcounts (refcount table grows); compat=1.1,cluster_size=512,refcount_bits=64; 512; 8",
        "v3 512-byte clusters 2-bit refcounts; compat=1.1,cluster_size=512,refcount_bits=2; 512; 4",
        "v2 2M clusters; compat=0.10,cluster_size=2097152; 2097152; 16",
    })
    void randomWritesAgreeWithQemu(String name, String options, int clusterSize, int mib) throws Exception {
        long size = (long) mib << 20;
        Path image = WriteChecks.create(dir, "w.qcow2", options, size - 4096 + 512);
        byte[] model = new byte[(int) (size - 4096 + 512)];
        Random random = new Random(name.hashCode());
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            assertTrue(disk.writable());
            WriteChecks.randomWrites(disk, model, random, 300, clusterSize);
            assertArrayEquals(model, WriteChecks.readAll(disk));
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            WriteChecks.randomWrites(disk, model, random, 100, clusterSize);
        }
        WriteChecks.assertClean(image);
        WriteChecks.assertQemuReads(image, model);
    }
}
