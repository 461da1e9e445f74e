package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.compress.Codec;
import org.vdmount.formats.compress.CompressedBlocks;

/**
 * qcow2's compressed cluster descriptors (host offset and sector count packed in an L2 entry)
 * turned into places in the file for the shared {@link CompressedBlocks} reader.
 */
final class CompressedClusters {
    private static final int SECTOR = 512;

    private final Storage storage;
    private final long fileSize;
    private final int sizeShift;
    private final long offsetMask;
    private final long sectorsMask;
    private final CompressedBlocks blocks;

    CompressedClusters(Storage storage, int clusterBits, long fileSize, Codec.Kind codec) {
        this.storage = storage;
        this.fileSize = fileSize;
        this.sizeShift = 62 - (clusterBits - 8);
        this.offsetMask = (1L << sizeShift) - 1;
        this.sectorsMask = (1L << (clusterBits - 8)) - 1;
        this.blocks = new CompressedBlocks(storage, "cluster", 1 << clusterBits, codec, false, this::locate);
    }

    /**
     * Fills {@code dst} with bytes {@code [from, from + dst.remaining())} of the cluster described by
     * {@code descriptor}, which holds virtual offset {@code clusterStart}.
     */
    void read(long descriptor, long clusterStart, int from, ByteBuffer dst) throws IOException {
        blocks.read(descriptor, clusterStart, from, dst);
    }

    void clear() {
        blocks.clear();
    }

    private void locate(long descriptor, long clusterStart, CompressedBlocks.Stored where) throws ImageException {
        long host = descriptor & offsetMask;
        long sectors = ((descriptor >>> sizeShift) & sectorsMask) + 1;
        long size = sectors * SECTOR - (host & (SECTOR - 1));
        if (host < SECTOR || host >= fileSize) {
            throw new ImageException(storage.name(), "compressed cluster at virtual offset " + clusterStart
                    + " points to host offset " + host + ", outside the " + fileSize + "-byte file");
        }
        // The last compressed cluster's sectors may run past the end of the file: qemu only writes
        // the bytes it needs, and decoding stops once the cluster is full.
        where.set(host, (int) Math.min(size, fileSize - host));
    }
}
