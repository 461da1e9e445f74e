package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.Storage;

/**
 * Writes guest data cluster by cluster. A cluster the active state owns alone (COPIED, not
 * compressed) is written in place; any other one (unallocated, zero, compressed, or shared with a
 * snapshot) gets a new cluster at the end of the file, filled first with the cluster's current
 * content (from the backing file, zeros, the decompressed data or the shared cluster) and then with
 * the new bytes, and only then is the L2 entry pointed at it; the old cluster is released after the
 * new entry is durable.
 *
 * <p>Not thread safe: callers hold the writer's lock, except for {@link #inPlace}, which only reads.
 */
final class ClusterWriter {
    /** Reads the disk's current bytes (this layer and its backing chain). */
    @FunctionalInterface
    interface CurrentContent {
        void read(ByteBuffer dst, long offset) throws IOException;
    }

    private final Storage storage;
    private final L2Updater tables;
    private final Refcounts refcounts;
    private final CurrentContent current;
    private final int clusterBits;
    private final int clusterSize;
    private final int l2Bits;
    private final long diskSize;
    private final boolean zeroClusters;
    private final boolean hasBacking;
    private final int compressedSizeShift;
    private final long compressedOffsetMask;
    private final long compressedSectorsMask;

    ClusterWriter(Storage storage, Qcow2Header header, long diskSize, boolean hasBacking, L2Updater tables,
            Refcounts refcounts, CurrentContent current) {
        this.storage = storage;
        this.tables = tables;
        this.refcounts = refcounts;
        this.current = current;
        this.clusterBits = header.clusterBits();
        this.clusterSize = header.clusterSize();
        this.l2Bits = ClusterMap.l2Bits(header);
        this.diskSize = diskSize;
        this.zeroClusters = header.version() >= 3;
        this.hasBacking = hasBacking;
        this.compressedSizeShift = 62 - (clusterBits - 8);
        this.compressedOffsetMask = (1L << compressedSizeShift) - 1;
        this.compressedSectorsMask = (1L << (clusterBits - 8)) - 1;
    }

    /**
     * The host offset of the cluster holding {@code clusterStart} when it can be written in place
     * (owned by the active state, allocated, neither compressed nor zero), else -1.
     */
    long inPlace(long clusterStart) throws IOException {
        int l1Index = l1Index(clusterStart);
        if (!tables.ownsTable(l1Index)) {
            return -1;
        }
        long entry = tables.table(l1Index, clusterStart)[l2Index(clusterStart)];
        long host = entry & ClusterMap.OFFSET_MASK;
        boolean plain = (entry & (ClusterMap.COMPRESSED | ClusterMap.ZERO)) == 0;
        return plain && host != 0 && (entry & ClusterMap.COPIED) != 0 ? host : -1;
    }

    /** Writes all of {@code src} at virtual offset {@code offset}. */
    void write(ByteBuffer src, long offset) throws IOException {
        long pos = offset;
        long end = offset + src.remaining();
        int base = src.position();
        while (pos < end) {
            long clusterStart = pos & -(long) clusterSize;
            long pieceEnd = Math.min(end, clusterStart + clusterSize);
            ByteBuffer piece = src.slice(base + (int) (pos - offset), (int) (pieceEnd - pos));
            writeCluster(clusterStart, (int) (pos - clusterStart), piece);
            pos = pieceEnd;
        }
        src.position(src.limit());
    }

    /**
     * Makes {@code [offset, offset + length)} read as zeros: whole clusters become zero clusters
     * (v3), or unallocated ones (v2 without a backing file); the rest is written with zeros.
     */
    void zero(long offset, long length) throws IOException {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long clusterStart = pos & -(long) clusterSize;
            long clusterEnd = Math.min(clusterStart + clusterSize, diskSize);
            long pieceEnd = Math.min(end, clusterEnd);
            boolean whole = pos == clusterStart && pieceEnd == clusterEnd;
            if (!whole || !zeroCluster(clusterStart)) {
                write(ByteBuffer.allocate((int) (pieceEnd - pos)), pos);
            }
            pos = pieceEnd;
        }
    }

    private void writeCluster(long clusterStart, int from, ByteBuffer piece) throws IOException {
        int l1Index = l1Index(clusterStart);
        int l2Index = l2Index(clusterStart);
        long host = inPlace(clusterStart);
        if (host >= 0) {
            storage.writeAt(piece, host + from);
            return;
        }
        long[] table = tables.writableTable(l1Index, clusterStart);
        long entry = table[l2Index];
        long oldHost = entry & ClusterMap.OFFSET_MASK;
        boolean compressed = (entry & ClusterMap.COMPRESSED) != 0;
        ByteBuffer cluster = ByteBuffer.allocate(clusterSize);
        int inDisk = (int) Math.min(clusterSize, diskSize - clusterStart);
        if (piece.remaining() < inDisk) {
            current.read(cluster.slice(0, inDisk), clusterStart);
        }
        cluster.put(from, piece, piece.position(), piece.remaining());
        if (!compressed && oldHost != 0 && (entry & ClusterMap.COPIED) != 0) {
            // A zero cluster that keeps its allocation: ours alone, so it is filled in place.
            storage.writeAt(cluster, oldHost);
            table[l2Index] = oldHost | ClusterMap.COPIED;
            return;
        }
        long created = refcounts.allocate();
        storage.writeAt(cluster, created);
        release(entry);
        table[l2Index] = created | ClusterMap.COPIED;
    }

    /** Turns one whole cluster into zeros without writing data; false when it must be written instead. */
    private boolean zeroCluster(long clusterStart) throws IOException {
        if (!zeroClusters && hasBacking) {
            return false;
        }
        int l1Index = l1Index(clusterStart);
        int l2Index = l2Index(clusterStart);
        long[] now = tables.table(l1Index, clusterStart);
        long entry = now == null ? 0 : now[l2Index];
        if (!hasBacking && (entry == 0 || entry == ClusterMap.ZERO)) {
            return true; // reads as zeros already
        }
        if (zeroClusters && (entry & ClusterMap.ZERO) != 0 && (entry & ClusterMap.COMPRESSED) == 0) {
            return true;
        }
        long[] table = tables.writableTable(l1Index, clusterStart);
        entry = table[l2Index];
        long host = entry & ClusterMap.OFFSET_MASK;
        boolean compressed = (entry & ClusterMap.COMPRESSED) != 0;
        if (zeroClusters && !compressed && host != 0 && (entry & ClusterMap.COPIED) != 0) {
            table[l2Index] = host | ClusterMap.COPIED | ClusterMap.ZERO; // keeps its allocation for later writes
            return true;
        }
        release(entry);
        table[l2Index] = zeroClusters ? ClusterMap.ZERO : 0;
        return true;
    }

    /** Drops the reference an L2 entry held (once the entry replacing it is durable). */
    private void release(long entry) {
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

    private int l1Index(long virtualOffset) {
        return (int) (virtualOffset >>> (clusterBits + l2Bits));
    }

    private int l2Index(long virtualOffset) {
        return (int) ((virtualOffset >>> clusterBits) & ((1L << l2Bits) - 1));
    }
}
