package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes guest data through extended L2 entries (qcow2.txt, "Extended L2 Entries"): each entry is
 * the standard 64-bit one plus a bitmap, 32 bits saying which of the cluster's 32 subclusters are
 * allocated and 32 saying which read as zeros.
 *
 * <p>A write allocates only the subclusters it touches, as qemu does (qcow2-cluster.c,
 * calculate_l2_meta): a subcluster it covers partly is filled first with its current content (the
 * backing file's, or zeros), and the untouched subclusters of an unallocated cluster stay
 * unallocated, reading from the backing file. A cluster the active state owns (COPIED, with a host
 * cluster) is written in place, also where its subclusters are not allocated yet; a cluster shared
 * with a snapshot gets a new host cluster holding its allocated subclusters and the written ones;
 * a compressed cluster (which has no subclusters) becomes a new cluster with all of them allocated.
 * Zeroing sets the zero bits of whole subclusters and writes zeros into what remains of partial
 * ones. As with standard entries, data is written before the L2 entry that points at it reaches
 * the disk, and a released cluster loses its reference only after that.
 *
 * <p>Not thread safe: callers hold the writer's lock, except for {@link #inPlace}, which only reads.
 */
final class SubclusterWriter extends GuestWriter {
    static final int SUBCLUSTERS = ClusterMap.SUBCLUSTERS;
    /** The allocation half of a bitmap, or every subcluster. */
    private static final long ALL = 0xffff_ffffL;

    private final int subclusterBits;

    SubclusterWriter(Qcow2Header header, long diskSize, boolean hasBacking, L2Updater tables, HostClusters hosts,
            CurrentContent current) {
        super(header, diskSize, hasBacking, tables, hosts, current);
        this.subclusterBits = header.clusterBits() - 5;
    }

    /** In place: the cluster is ours, and every subcluster of {@code [from, to)} is allocated already. */
    @Override
    long inPlace(long clusterStart, int from, int to) throws IOException {
        int l1Index = l1Index(clusterStart);
        if (!tables.ownsTable(l1Index)) {
            return -1;
        }
        long[] table = tables.table(l1Index, clusterStart);
        int at = 2 * l2Index(clusterStart);
        long entry = table[at];
        long wanted = span(from, to);
        return owned(entry) && (table[at + 1] & wanted) == wanted ? entry & ClusterMap.OFFSET_MASK : -1;
    }

    @Override
    protected void writeCluster(long clusterStart, int from, ByteBuffer piece) throws IOException {
        int to = from + piece.remaining();
        long host = inPlace(clusterStart, from, to);
        if (host >= 0) {
            hosts.data().writeAt(piece, host + from);
            return;
        }
        long[] table = tables.writableTable(l1Index(clusterStart), clusterStart);
        int at = 2 * l2Index(clusterStart);
        long entry = table[at];
        long bitmap = table[at + 1];
        boolean compressed = (entry & ClusterMap.COMPRESSED) != 0;
        boolean owned = owned(entry);
        long allocated = compressed ? 0 : bitmap & ALL;
        long touched = span(from, to);
        long target;
        long filled;
        if (owned) {
            target = entry & ClusterMap.OFFSET_MASK;
            filled = touched;
        } else {
            // A new host cluster: it takes the subclusters written now and those the old one had
            // (all of a compressed cluster's), so that nothing it held is lost.
            target = hosts.allocate(clusterStart);
            filled = compressed ? ALL : touched | allocated;
        }
        // Current content is read before the entry changes, through the old one.
        fill(clusterStart, target, filled, from, piece);
        long zeros = compressed ? 0 : (bitmap >>> SUBCLUSTERS) & ALL & ~filled;
        table[at] = target | ClusterMap.COPIED;
        table[at + 1] = allocated | filled | zeros << SUBCLUSTERS;
        if (!owned) {
            hosts.release(entry);
        }
    }

    /**
     * Writes the subclusters {@code subclusters} of the cluster at {@code clusterStart} to the host
     * cluster at {@code target}: {@code piece} (at byte {@code from}) where it covers them, their
     * current content elsewhere.
     */
    private void fill(long clusterStart, long target, long subclusters, int from, ByteBuffer piece)
            throws IOException {
        int to = from + piece.remaining();
        int limit = hosts.writesWholeClusters() ? clusterSize : inDisk(clusterStart);
        for (int first = next(subclusters, 0); first < SUBCLUSTERS; ) {
            int end = runEnd(subclusters, first);
            int runFrom = first << subclusterBits;
            int runTo = Math.min(end << subclusterBits, limit);
            first = next(subclusters, end);
            if (runFrom >= runTo) {
                break; // past the end of the disk
            }
            ByteBuffer run = ByteBuffer.allocate(runTo - runFrom);
            int pieceFrom = Math.max(from, runFrom);
            int pieceTo = Math.min(to, runTo);
            if (pieceFrom >= pieceTo) {
                readCurrent(run, clusterStart + runFrom);
            } else {
                if (runFrom < pieceFrom) {
                    readCurrent(run.slice(0, pieceFrom - runFrom), clusterStart + runFrom);
                }
                if (pieceTo < runTo) {
                    readCurrent(run.slice(pieceTo - runFrom, runTo - pieceTo), clusterStart + pieceTo);
                }
                run.put(pieceFrom - runFrom, piece, piece.position() + pieceFrom - from, pieceTo - pieceFrom);
            }
            hosts.data().writeAt(run, target + runFrom);
        }
    }

    /**
     * Zeros a piece of one cluster: a whole cluster and whole subclusters
     * by their zero bits (qcow2-cluster.c, qcow2_subcluster_zeroize), what remains of partial
     * subclusters by writing zeros; a compressed cluster, which has no subclusters, is zeroed
     * whole or written.
     */
    @Override
    protected void zeroInCluster(long clusterStart, int from, int to, boolean toEnd) throws IOException {
        int subclusterSize = 1 << subclusterBits;
        int first = (from + subclusterSize - 1) >>> subclusterBits;
        int last = toEnd ? (to + subclusterSize - 1) >>> subclusterBits : to >>> subclusterBits;
        if ((entry(clusterStart) & ClusterMap.COMPRESSED) != 0 && (from != 0 || !toEnd)) {
            writeZeros(clusterStart + from, to - from);
            return;
        }
        if (first >= last) {
            zeroBytes(clusterStart, from, to);
            return;
        }
        zeroSubclusters(clusterStart, bits(first, last), from == 0 && toEnd);
        if (from < first << subclusterBits) {
            zeroBytes(clusterStart, from, first << subclusterBits);
        }
        if (last << subclusterBits < to) {
            zeroBytes(clusterStart, last << subclusterBits, to);
        }
    }

    /** Sets the zero bits of the whole subclusters {@code subclusters} (all of them: {@code whole}). */
    private void zeroSubclusters(long clusterStart, long subclusters, boolean whole) throws IOException {
        long entry = entry(clusterStart);
        long bitmap = bitmap(clusterStart);
        long allocated = bitmap & ALL;
        long zeros = (bitmap >>> SUBCLUSTERS) & ALL;
        if ((allocated & subclusters) == 0 && (!hasBacking || (zeros & subclusters) == subclusters)
                && (entry & ClusterMap.COMPRESSED) == 0) {
            return; // reads as zeros already: unallocated without a backing file, or zero
        }
        if ((entry & ClusterMap.COMPRESSED) == 0 && hosts.allocated(entry)) {
            long host = entry & ClusterMap.OFFSET_MASK;
            long dropped = allocated & subclusters;
            for (int first = next(dropped, 0); first < SUBCLUSTERS; ) {
                int end = runEnd(dropped, first);
                int runFrom = first << subclusterBits;
                int runTo = Math.min(end << subclusterBits, inDisk(clusterStart));
                if (runFrom < runTo) {
                    hosts.zeroed(host + runFrom, runTo - runFrom);
                }
                first = next(dropped, end);
            }
        }
        long[] table = tables.writableTable(l1Index(clusterStart), clusterStart);
        int at = 2 * l2Index(clusterStart);
        if (whole) {
            entry = table[at];
            if (!owned(entry)) {
                hosts.release(entry);
                table[at] = 0;
            } // else the cluster keeps its allocation for later writes
            table[at + 1] = ALL << SUBCLUSTERS;
            return;
        }
        table[at + 1] = (allocated & ~subclusters) | (zeros | subclusters) << SUBCLUSTERS;
    }

    /** Writes zeros into bytes {@code [from, to)} of a cluster, unless they read as zeros already. */
    private void zeroBytes(long clusterStart, int from, int to) throws IOException {
        long entry = entry(clusterStart);
        long bitmap = bitmap(clusterStart);
        long readsZero = (bitmap >>> SUBCLUSTERS) | (hasBacking ? 0 : ~bitmap);
        if ((entry & ClusterMap.COMPRESSED) == 0 && (span(from, to) & ~readsZero & ALL) == 0) {
            return;
        }
        writeZeros(clusterStart + from, to - from);
    }

    private long entry(long clusterStart) throws IOException {
        long[] table = tables.table(l1Index(clusterStart), clusterStart);
        return table == null ? 0 : table[2 * l2Index(clusterStart)];
    }

    private long bitmap(long clusterStart) throws IOException {
        long[] table = tables.table(l1Index(clusterStart), clusterStart);
        return table == null ? 0 : table[2 * l2Index(clusterStart) + 1];
    }

    /** Whether the active state alone owns the entry's host cluster, which may then be written in place. */
    private boolean owned(long entry) {
        return (entry & ClusterMap.COMPRESSED) == 0 && (entry & ClusterMap.COPIED) != 0 && hosts.allocated(entry);
    }

    /** The subclusters that bytes {@code [from, to)} of a cluster touch ({@code to > from}). */
    private long span(int from, int to) {
        return bits(from >>> subclusterBits, ((to - 1) >>> subclusterBits) + 1);
    }

    /** The first subcluster from {@code from} on whose bit is set in {@code bits}, or 32. */
    private static int next(long bits, int from) {
        long rest = bits & ALL & -(1L << from);
        return rest == 0 ? SUBCLUSTERS : Long.numberOfTrailingZeros(rest);
    }

    /** The end of the run of set bits that starts at {@code first}. */
    private static int runEnd(long bits, int first) {
        long clear = ~bits & -(1L << first);
        return Math.min(SUBCLUSTERS, Long.numberOfTrailingZeros(clear));
    }

    /** The bits of subclusters {@code [first, end)}. */
    private static long bits(int first, int end) {
        return ((1L << end) - 1) & ~((1L << first) - 1);
    }
}
