package org.vdmount.formats.qcow2;

import java.io.IOException;
import org.vdmount.formats.Storage;

/**
 * Where the guest clusters of a writable image live on the host: new clusters for guest data, and
 * the release of the ones an L2 entry stops using (standard or compressed). New clusters come from
 * the image's allocator, counted in its refcounts.
 *
 * <p>Not thread safe: callers hold the writer's lock.
 */
final class HostClusters {
    private final Storage data;
    private final Refcounts refcounts;
    private final int clusterSize;
    private final int compressedSizeShift;
    private final long compressedOffsetMask;
    private final long compressedSectorsMask;

    HostClusters(Storage data, Qcow2Header header, Refcounts refcounts) {
        this.data = data;
        this.refcounts = refcounts;
        this.clusterSize = header.clusterSize();
        int clusterBits = header.clusterBits();
        this.compressedSizeShift = 62 - (clusterBits - 8);
        this.compressedOffsetMask = (1L << compressedSizeShift) - 1;
        this.compressedSectorsMask = (1L << (clusterBits - 8)) - 1;
    }

    /** The file guest data is written to. */
    Storage data() {
        return data;
    }

    /** A new host cluster for the guest cluster at {@code clusterStart}. */
    long allocate(long clusterStart) throws IOException {
        return refcounts.allocate();
    }

    /** Whether a standard (not compressed) L2 entry points at a host cluster. */
    boolean allocated(long entry) {
        return (entry & ClusterMap.OFFSET_MASK) != 0;
    }

    /** Drops the reference an L2 entry held (once the entry replacing it is durable). */
    void release(long entry) {
        if ((entry & ClusterMap.COMPRESSED) != 0) {
            long host = entry & compressedOffsetMask;
            long sectors = ((entry >>> compressedSizeShift) & compressedSectorsMask) + 1;
            refcounts.releaseLater(host & ~511L, sectors * 512);
            return;
        }
        long host = entry & ClusterMap.OFFSET_MASK;
        if (host != 0) {
            refcounts.releaseLater(host, clusterSize);
        }
    }
}
