package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.Storage;

/**
 * Where the guest clusters of a writable image live on the host: new clusters for guest data, the
 * release of the ones an L2 entry stops using (standard or compressed), and the file the data is
 * written to.
 *
 * <p>In the image file, new clusters come from the image's allocator, counted in its refcounts.
 * With an external data file (incompatible feature bit 2) a guest cluster always lives at its own
 * guest offset in the data file, and those clusters are not refcounted (qcow2.txt; qemu's
 * qcow2-cluster.c, do_alloc_cluster_offset): "allocating" one is pointing its L2 entry there, with
 * COPIED set (which tells an allocated cluster at offset 0 from an unallocated one), and releasing
 * one changes no refcount. A raw data file ({@code data_file_raw}) must read as the disk at every
 * moment, so what stops being data there is overwritten with zeros, as qemu writes zeros to it
 * before it sets zero flags (qcow2_subcluster_zeroize).
 *
 * <p>Not thread safe: callers hold the writer's lock.
 */
final class HostClusters {
    private static final int ZEROS = 1 << 20;

    private final Storage data;
    private final Refcounts refcounts;
    private final boolean external;
    private final boolean raw;
    private final int clusterSize;
    private final int compressedSizeShift;
    private final long compressedOffsetMask;
    private final long compressedSectorsMask;

    HostClusters(Storage image, Storage data, Qcow2Header header, Refcounts refcounts) {
        this.data = data;
        this.refcounts = refcounts;
        this.external = data != image;
        this.raw = external && header.hasAutoclear(Qcow2Header.AUTOCLEAR_DATA_FILE_RAW);
        this.clusterSize = header.clusterSize();
        int clusterBits = header.clusterBits();
        this.compressedSizeShift = 62 - (clusterBits - 8);
        this.compressedOffsetMask = (1L << compressedSizeShift) - 1;
        this.compressedSectorsMask = (1L << (clusterBits - 8)) - 1;
    }

    /** The file guest data is written to: the image, or its external data file. */
    Storage data() {
        return data;
    }

    /**
     * Whether a cluster written whole is written to its end even past the end of the disk: in the
     * image file yes (the next cluster starts there anyway); never in a data file, which is as
     * large as the disk (and, raw, is the disk).
     */
    boolean writesWholeClusters() {
        return !external;
    }

    /** A new host cluster for the guest cluster at {@code clusterStart}. */
    long allocate(long clusterStart) throws IOException {
        return external ? clusterStart : refcounts.allocate();
    }

    /** Whether a standard (not compressed) L2 entry points at a host cluster. */
    boolean allocated(long entry) {
        return (entry & ClusterMap.OFFSET_MASK) != 0 || (external && (entry & ClusterMap.COPIED) != 0);
    }

    /** Drops the reference an L2 entry held (once the entry replacing it is durable). */
    void release(long entry) {
        if (external) {
            return;
        }
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

    /**
     * Host bytes {@code [host, host + length)} held data and are about to read as zeros through the
     * tables: a raw data file gets the zeros written, before the tables change.
     */
    void zeroed(long host, long length) throws IOException {
        if (!raw) {
            return;
        }
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(ZEROS, length));
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(zeros.capacity(), length - done);
            data.writeAt(zeros.clear().limit(n), host + done);
            done += n;
        }
    }

    /** Makes the data written so far durable (an external data file; the image file is flushed by its writer). */
    void flush() throws IOException {
        if (external) {
            data.flush();
        }
    }
}
