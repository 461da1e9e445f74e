package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes guest data and zeros through the L2 tables, cluster by cluster: what both kinds of L2
 * entry share. {@link ClusterWriter} writes standard entries (a cluster is allocated whole),
 * {@link SubclusterWriter} extended ones (32 subclusters allocated one by one).
 *
 * <p>Not thread safe: callers hold the writer's lock, except for {@link #inPlace}, which only reads.
 */
abstract class GuestWriter {
    /** Reads the disk's current bytes (this layer and its backing chain). */
    @FunctionalInterface
    interface CurrentContent {
        void read(ByteBuffer dst, long offset) throws IOException;
    }

    protected final L2Updater tables;
    protected final HostClusters hosts;
    protected final int clusterBits;
    protected final int clusterSize;
    protected final long diskSize;
    protected final boolean hasBacking;
    private final CurrentContent current;
    private final int l2Bits;

    GuestWriter(Qcow2Header header, long diskSize, boolean hasBacking, L2Updater tables, HostClusters hosts,
            CurrentContent current) {
        this.tables = tables;
        this.hosts = hosts;
        this.current = current;
        this.clusterBits = header.clusterBits();
        this.clusterSize = header.clusterSize();
        this.l2Bits = ClusterMap.l2Bits(header);
        this.diskSize = diskSize;
        this.hasBacking = hasBacking;
    }

    /** The writer for the image's kind of L2 entry. */
    static GuestWriter of(Qcow2Header header, long diskSize, boolean hasBacking, L2Updater tables,
            HostClusters hosts, CurrentContent current) {
        return header.extendedL2()
                ? new SubclusterWriter(header, diskSize, hasBacking, tables, hosts, current)
                : new ClusterWriter(header, diskSize, hasBacking, tables, hosts, current);
    }

    /**
     * The host offset of the cluster holding {@code clusterStart} when bytes {@code [from, to)} of
     * it can be written in place, changing no table; else -1.
     */
    abstract long inPlace(long clusterStart, int from, int to) throws IOException;

    /** Writes {@code piece} at byte {@code from} of the cluster at {@code clusterStart}. */
    protected abstract void writeCluster(long clusterStart, int from, ByteBuffer piece) throws IOException;

    /**
     * Makes bytes {@code [from, to)} of the cluster at {@code clusterStart} read as zeros, without
     * writing data where the tables can say so; {@code toEnd}: {@code to} is the end of the cluster
     * or of the disk.
     */
    protected abstract void zeroInCluster(long clusterStart, int from, int to, boolean toEnd) throws IOException;

    /** Makes {@code [offset, offset + length)} read as zeros, cluster by cluster. */
    final void zero(long offset, long length) throws IOException {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long clusterStart = pos & -(long) clusterSize;
            long clusterEnd = Math.min(clusterStart + clusterSize, diskSize);
            long pieceEnd = Math.min(end, clusterEnd);
            zeroInCluster(clusterStart, (int) (pos - clusterStart), (int) (pieceEnd - clusterStart),
                    pieceEnd == clusterEnd);
            pos = pieceEnd;
        }
    }

    /** Writes all of {@code src} at virtual offset {@code offset}. */
    final void write(ByteBuffer src, long offset) throws IOException {
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

    /** Writes {@code length} zero bytes at virtual offset {@code offset}. */
    protected final void writeZeros(long offset, int length) throws IOException {
        write(ByteBuffer.allocate(length), offset);
    }

    /** Fills {@code dst} with the disk's current bytes at {@code offset}; zeros past the end of the disk. */
    protected final void readCurrent(ByteBuffer dst, long offset) throws IOException {
        long inDisk = Math.max(0, Math.min(dst.remaining(), diskSize - offset));
        if (inDisk > 0) {
            current.read(dst.slice(dst.position(), (int) inDisk), offset);
        }
    }

    /** The bytes of the cluster at {@code clusterStart} that lie inside the disk. */
    protected final int inDisk(long clusterStart) {
        return (int) Math.min(clusterSize, diskSize - clusterStart);
    }

    protected final int l1Index(long virtualOffset) {
        return (int) (virtualOffset >>> (clusterBits + l2Bits));
    }

    protected final int l2Index(long virtualOffset) {
        return (int) ((virtualOffset >>> clusterBits) & ((1L << l2Bits) - 1));
    }
}
