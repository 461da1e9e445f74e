package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes guest data through standard L2 entries, a whole cluster at a time. A cluster the active
 * state owns alone (COPIED, not compressed) is written in place; any other one (unallocated, zero,
 * compressed, or shared with a snapshot) gets a new cluster at the end of the file, filled first
 * with the cluster's current content (from the backing file, zeros, the decompressed data or the
 * shared cluster) and then with the new bytes, and only then is the L2 entry pointed at it; the old
 * cluster is released after the new entry is durable.
 *
 * <p>Not thread safe: callers hold the writer's lock, except for {@link #inPlace}, which only reads.
 */
final class ClusterWriter extends GuestWriter {
    private final boolean zeroClusters;

    ClusterWriter(Qcow2Header header, long diskSize, boolean hasBacking, L2Updater tables, HostClusters hosts,
            CurrentContent current) {
        super(header, diskSize, hasBacking, tables, hosts, current);
        this.zeroClusters = header.version() >= 3;
    }

    /**
     * The host offset of the cluster holding {@code clusterStart} when it can be written in place
     * (owned by the active state, allocated, neither compressed nor zero), else -1.
     */
    @Override
    long inPlace(long clusterStart, int from, int to) throws IOException {
        int l1Index = l1Index(clusterStart);
        if (!tables.ownsTable(l1Index)) {
            return -1;
        }
        long entry = tables.table(l1Index, clusterStart)[l2Index(clusterStart)];
        boolean plain = (entry & (ClusterMap.COMPRESSED | ClusterMap.ZERO)) == 0;
        return plain && hosts.allocated(entry) && (entry & ClusterMap.COPIED) != 0
                ? entry & ClusterMap.OFFSET_MASK : -1;
    }

    /**
     * Zeros a piece of one cluster: a whole cluster becomes a zero cluster
     * (v3), or unallocated ones (v2 without a backing file); the rest is written with zeros.
     */
    @Override
    protected void zeroInCluster(long clusterStart, int from, int to, boolean toEnd) throws IOException {
        boolean whole = from == 0 && toEnd;
        if (!whole || !zeroCluster(clusterStart)) {
            writeZeros(clusterStart + from, to - from);
        }
    }

    @Override
    protected void writeCluster(long clusterStart, int from, ByteBuffer piece) throws IOException {
        int l1Index = l1Index(clusterStart);
        int l2Index = l2Index(clusterStart);
        long host = inPlace(clusterStart, from, from + piece.remaining());
        if (host >= 0) {
            hosts.data().writeAt(piece, host + from);
            return;
        }
        long[] table = tables.writableTable(l1Index, clusterStart);
        long entry = table[l2Index];
        boolean compressed = (entry & ClusterMap.COMPRESSED) != 0;
        int inDisk = inDisk(clusterStart);
        ByteBuffer cluster = ByteBuffer.allocate(hosts.writesWholeClusters() ? clusterSize : inDisk);
        if (piece.remaining() < inDisk) {
            readCurrent(cluster.slice(0, inDisk), clusterStart);
        }
        cluster.put(from, piece, piece.position(), piece.remaining());
        if (!compressed && hosts.allocated(entry) && (entry & ClusterMap.COPIED) != 0) {
            // A zero cluster that keeps its allocation: ours alone, so it is filled in place.
            long oldHost = entry & ClusterMap.OFFSET_MASK;
            hosts.data().writeAt(cluster, oldHost);
            table[l2Index] = oldHost | ClusterMap.COPIED;
            return;
        }
        long created = hosts.allocate(clusterStart);
        hosts.data().writeAt(cluster, created);
        hosts.release(entry);
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
        boolean compressed = (entry & ClusterMap.COMPRESSED) != 0;
        if (!compressed && (entry & ClusterMap.ZERO) == 0 && hosts.allocated(entry)) {
            hosts.zeroed(entry & ClusterMap.OFFSET_MASK, inDisk(clusterStart));
        }
        if (zeroClusters && !compressed && hosts.allocated(entry) && (entry & ClusterMap.COPIED) != 0) {
            // keeps its allocation for later writes
            table[l2Index] = (entry & ClusterMap.OFFSET_MASK) | ClusterMap.COPIED | ClusterMap.ZERO;
            return true;
        }
        hosts.release(entry);
        table[l2Index] = zeroClusters ? ClusterMap.ZERO : 0;
        return true;
    }
}
