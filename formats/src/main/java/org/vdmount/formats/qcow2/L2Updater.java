package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeSet;
import org.vdmount.formats.Storage;

/**
 * Changes the active L1 table and its L2 tables. A table that another L1 (an internal snapshot's)
 * also uses, seen as an L1 entry without the COPIED flag, is copied to a new cluster before its
 * first change, and the old one released; a missing table is created. Changed tables stay pinned in
 * the {@link L2Cache} (readers see them) until {@link #storeTables} and {@link #storeL1} put them on
 * disk, after the refcounts of the clusters they use.
 *
 * <p>Not thread safe: callers hold the writer's lock.
 */
final class L2Updater {
    private final Storage storage;
    private final long[] l1;
    private final long l1Offset;
    private final L2Cache l2Cache;
    private final Refcounts refcounts;
    private final int clusterSize;
    /** The longs of one L2 entry: 2 with extended L2 entries. */
    private final int entryLongs;
    private final boolean externalData;
    private final Set<Long> dirtyTables = new LinkedHashSet<>();
    private final Set<Integer> dirtyL1 = new TreeSet<>();

    L2Updater(Storage storage, long[] l1, long l1Offset, L2Cache l2Cache, Refcounts refcounts, Qcow2Header header) {
        this.storage = storage;
        this.l1 = l1;
        this.l1Offset = l1Offset;
        this.l2Cache = l2Cache;
        this.refcounts = refcounts;
        this.clusterSize = header.clusterSize();
        this.entryLongs = header.extendedL2() ? 2 : 1;
        this.externalData = header.hasIncompatible(Qcow2Header.INCOMPAT_DATA_FILE);
    }

    /** The L2 table of L1 entry {@code index} as it is now, or null when there is none. */
    long[] table(int index, long virtualOffset) throws IOException {
        long offset = l1[index] & ClusterMap.OFFSET_MASK;
        return offset == 0 ? null : l2Cache.get(offset, virtualOffset);
    }

    /** Whether the table of L1 entry {@code index} exists and belongs to the active state alone. */
    boolean ownsTable(int index) {
        long entry = l1[index];
        return (entry & ClusterMap.OFFSET_MASK) != 0 && (entry & ClusterMap.COPIED) != 0;
    }

    /**
     * The L2 table of L1 entry {@code index}, ready to change (and counted as changed): created or
     * copied when needed.
     */
    long[] writableTable(int index, long virtualOffset) throws IOException {
        long entry = l1[index];
        long offset = entry & ClusterMap.OFFSET_MASK;
        if (offset != 0 && (entry & ClusterMap.COPIED) != 0) {
            long[] pinned = l2Cache.pinned(offset);
            if (pinned == null) {
                pinned = l2Cache.get(offset, virtualOffset).clone();
                l2Cache.pin(offset, pinned);
            }
            dirtyTables.add(offset);
            return pinned;
        }
        long created = refcounts.allocate();
        long[] table = offset == 0 ? new long[clusterSize / Long.BYTES] : l2Cache.get(offset, virtualOffset).clone();
        // (Not with an external data file: there every guest cluster has refcount 1, and COPIED
        // with offset 0 is what says a cluster lives at offset 0 of the data file.)
        for (int i = 0; i < table.length && !externalData; i += entryLongs) {
            // The clusters of a shared table are shared too: writing any of them must copy it first.
            // (An extended entry's second half is its subcluster bitmap, which keeps its bit 63.)
            table[i] &= ~ClusterMap.COPIED;
        }
        l2Cache.pin(created, table);
        dirtyTables.add(created);
        if (offset != 0) {
            refcounts.releaseLater(offset, clusterSize);
        }
        l1[index] = created | ClusterMap.COPIED;
        dirtyL1.add(index);
        return table;
    }

    boolean hasChangedTables() {
        return !dirtyTables.isEmpty();
    }

    boolean hasChangedL1() {
        return !dirtyL1.isEmpty();
    }

    long pendingBytes() {
        return (long) dirtyTables.size() * clusterSize;
    }

    /** Stores the changed L2 tables; returns whether it wrote anything. */
    boolean storeTables() throws IOException {
        if (dirtyTables.isEmpty()) {
            return false;
        }
        ByteBuffer bytes = ByteBuffer.allocate(clusterSize);
        for (long offset : dirtyTables) {
            bytes.clear();
            bytes.asLongBuffer().put(l2Cache.pinned(offset));
            storage.writeAt(bytes, offset);
        }
        l2Cache.fileGrew(refcounts.end());
        for (long offset : dirtyTables) {
            l2Cache.stored(offset);
        }
        dirtyTables.clear();
        return true;
    }

    /** Stores the changed L1 entries; returns whether it wrote anything. */
    boolean storeL1() throws IOException {
        if (dirtyL1.isEmpty()) {
            return false;
        }
        for (int index : dirtyL1) {
            ByteBuffer entry = ByteBuffer.allocate(Long.BYTES).putLong(0, l1[index]);
            storage.writeAt(entry, l1Offset + (long) index * Long.BYTES);
        }
        dirtyL1.clear();
        return true;
    }
}
