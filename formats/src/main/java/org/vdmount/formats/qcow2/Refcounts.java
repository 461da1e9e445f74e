package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;

/**
 * The refcount table and blocks of a writable image, and the allocator of new clusters, always at
 * the end of the file (freed clusters are never reused, so a cluster freed but not yet known to be
 * unreferenced on disk can never be handed out twice).
 *
 * <p>Changes stay in memory until {@link Qcow2Writer#flush} stores them, in qemu's order: refcount
 * blocks before the table entries that point at them, increments before the L2/L1 entries that use
 * the clusters ({@link #storeIncrements}), decrements only after the entries that dropped the
 * clusters are durable ({@link #applyReleases}). A crash at any moment therefore leaves refcounts
 * at least as high as the references: leaks, never corruption.
 *
 * <p>Not thread safe: callers hold the writer's lock.
 */
final class Refcounts {
    /** qemu's limit on the refcount table (8 MiB). */
    static final long MAX_TABLE_BYTES = 8L << 20;
    private static final long TABLE_OFFSET_MASK = ~511L;
    private static final int HEADER_TABLE_OFFSET = 48;

    private final Storage storage;
    private final String file;
    private final int clusterBits;
    private final int clusterSize;
    private final RefcountEntries entries;
    private final long perBlock;

    private long[] table;
    private long tableOffset;
    private long tableClusters;
    /** The table moved to new clusters: the whole table and then the header must be stored. */
    private boolean tableMoved;
    private final Set<Integer> dirtyTableEntries = new TreeSet<>();

    private final Map<Long, byte[]> blocks = new HashMap<>();
    private final Set<Long> dirtyBlocks = new LinkedHashSet<>();
    /** (offset, length) ranges whose clusters lose one reference once the new references are durable. */
    private final List<long[]> releases = new ArrayList<>();
    /** The next cluster to hand out: the end of the file, as far as allocation is concerned. */
    private long end;

    private Refcounts(Storage storage, Qcow2Header header, long[] table, long fileSize) {
        this.storage = storage;
        this.file = storage.name();
        this.clusterBits = header.clusterBits();
        this.clusterSize = header.clusterSize();
        this.entries = new RefcountEntries(header.refcountOrder());
        this.perBlock = entries.perBlock(clusterSize);
        this.table = table;
        this.tableOffset = header.refcountTableOffset();
        this.tableClusters = header.refcountTableClusters();
        this.end = (fileSize + clusterSize - 1) & -(long) clusterSize;
    }

    static Refcounts open(Storage storage, Qcow2Header header, long fileSize) throws IOException {
        String file = storage.name();
        long bytes = header.refcountTableClusters() * header.clusterSize();
        long offset = header.refcountTableOffset();
        if (bytes == 0 || bytes > MAX_TABLE_BYTES) {
            throw new ImageException(file, "refcount table of " + header.refcountTableClusters()
                    + " clusters is empty or larger than " + (MAX_TABLE_BYTES >> 20) + " MiB; cannot write");
        }
        if (offset <= 0 || (offset & (header.clusterSize() - 1)) != 0 || offset > fileSize - bytes) {
            throw new ImageException(file, "refcount table at offset " + Long.toUnsignedString(offset)
                    + " is unaligned or past the end of the " + fileSize + "-byte file");
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) bytes);
        storage.readFully(buffer, offset);
        buffer.flip();
        long[] table = new long[(int) (bytes / Long.BYTES)];
        buffer.asLongBuffer().get(table);
        return new Refcounts(storage, header, table, fileSize);
    }

    /** Where the next cluster would go: every byte the image uses lies below. */
    long end() {
        return end;
    }

    /** Hands out one new cluster at the end of the file, its refcount set to 1 (in memory). */
    long allocate() throws IOException {
        long offset = take(1);
        add(offset, 1);
        return offset;
    }

    /** Drops one reference to every cluster {@code [offset, offset + length)} touches, at the next flush. */
    void releaseLater(long offset, long length) {
        releases.add(new long[] {offset, length});
    }

    /** Memory held by changes not yet stored, so the writer can flush before it grows too large. */
    long pendingBytes() {
        return (long) dirtyBlocks.size() * clusterSize + (long) releases.size() * 16;
    }

    boolean hasReleases() {
        return !releases.isEmpty();
    }

    long refcount(long offset) throws IOException {
        long cluster = offset >>> clusterBits;
        long index = cluster / perBlock;
        if (index >= table.length || (table[(int) index] & TABLE_OFFSET_MASK) == 0) {
            return 0;
        }
        return entries.get(block(table[(int) index] & TABLE_OFFSET_MASK), (int) (cluster % perBlock));
    }

    /**
     * Step 1 of a flush: stores every changed refcount block, then (after a flush of the file, so a
     * new block is durable before anything points at it) the table entries or the moved table and
     * the header. Returns whether it wrote anything.
     */
    boolean storeIncrements() throws IOException {
        boolean wrote = storeBlocks();
        if (!tableMoved && dirtyTableEntries.isEmpty()) {
            return wrote;
        }
        if (wrote) {
            storage.flush();
        }
        if (tableMoved) {
            ByteBuffer bytes = ByteBuffer.allocate(table.length * Long.BYTES);
            bytes.asLongBuffer().put(table);
            storage.writeAt(bytes, tableOffset);
            storage.flush();
            ByteBuffer header = ByteBuffer.allocate(12);
            header.putLong(tableOffset).putInt((int) tableClusters).flip();
            storage.writeAt(header, HEADER_TABLE_OFFSET);
            tableMoved = false;
        } else {
            for (int i : dirtyTableEntries) {
                ByteBuffer entry = ByteBuffer.allocate(Long.BYTES).putLong(0, table[i]);
                storage.writeAt(entry, tableOffset + (long) i * Long.BYTES);
            }
        }
        dirtyTableEntries.clear();
        return true;
    }

    /** Last step of a flush: the released clusters lose their reference, and the blocks are stored. */
    boolean applyReleases() throws IOException {
        if (releases.isEmpty()) {
            return false;
        }
        for (long[] r : releases) {
            long first = r[0] & -(long) clusterSize;
            long last = (r[0] + r[1] - 1) & -(long) clusterSize;
            for (long c = first; c <= last; c += clusterSize) {
                add(c, -1);
            }
        }
        releases.clear();
        storeBlocks();
        return true;
    }

    /** Forgets clean blocks when many are held; they are read again when needed. */
    void trim() {
        if (blocks.size() > 256) {
            blocks.keySet().removeIf(offset -> !dirtyBlocks.contains(offset));
        }
    }

    private boolean storeBlocks() throws IOException {
        if (dirtyBlocks.isEmpty()) {
            return false;
        }
        for (long offset : dirtyBlocks) {
            storage.writeAt(ByteBuffer.wrap(blocks.get(offset)), offset);
        }
        dirtyBlocks.clear();
        return true;
    }

    /** Reserves {@code count} contiguous clusters at the end, without counting them. */
    private long take(long count) {
        long offset = end;
        end += count * clusterSize;
        return offset;
    }

    private void add(long offset, long delta) throws IOException {
        long cluster = offset >>> clusterBits;
        long index = cluster / perBlock;
        byte[] block = ensureBlock(index);
        int at = (int) (cluster % perBlock);
        long value = entries.get(block, at);
        long next = value + delta;
        if (delta < 0 && value == 0) {
            throw new ImageException(file, "refcount of the cluster at offset " + offset
                    + " would drop below zero; the image is damaged (run qemu-img check)");
        }
        if (delta > 0 && (Long.compareUnsigned(value, entries.max()) >= 0)) {
            throw new ImageException(file, "refcount of the cluster at offset " + offset
                    + " would overflow its " + (1 << entries.order()) + " bits");
        }
        entries.set(block, at, next);
        dirtyBlocks.add(table[(int) index] & TABLE_OFFSET_MASK);
    }

    /**
     * The block for table entry {@code index}, created (at the end of the file, counting itself,
     * which may in turn need another block or a larger table) when there is none.
     */
    private byte[] ensureBlock(long index) throws IOException {
        if (index >= table.length) {
            growTable(index);
        }
        long offset = table[(int) index] & TABLE_OFFSET_MASK;
        if (offset != 0) {
            return block(offset);
        }
        long created = take(1);
        byte[] block = new byte[clusterSize];
        blocks.put(created, block);
        dirtyBlocks.add(created);
        table[(int) index] = created;
        dirtyTableEntries.add((int) index);
        add(created, 1);
        return block;
    }

    /** Moves the table to new, larger clusters at the end; the old ones are released after the move. */
    private void growTable(long index) throws IOException {
        long wanted = Math.max(index + 2, (long) table.length * 2);
        long perCluster = clusterSize / Long.BYTES;
        long clusters = (wanted + perCluster - 1) / perCluster;
        if (clusters * clusterSize > MAX_TABLE_BYTES) {
            throw new ImageException(file, "the refcount table would grow past " + (MAX_TABLE_BYTES >> 20)
                    + " MiB; the image cannot grow further");
        }
        long[] grown = new long[(int) (clusters * perCluster)];
        System.arraycopy(table, 0, grown, 0, table.length);
        releaseLater(tableOffset, tableClusters * clusterSize);
        table = grown;
        tableOffset = take(clusters);
        tableClusters = clusters;
        tableMoved = true;
        for (long c = 0; c < clusters; c++) {
            add(tableOffset + c * clusterSize, 1);
        }
    }

    private byte[] block(long offset) throws IOException {
        byte[] block = blocks.get(offset);
        if (block != null) {
            return block;
        }
        if ((offset & (clusterSize - 1)) != 0 || offset > storage.size() - clusterSize) {
            throw new ImageException(file, "refcount block at offset " + offset
                    + " is unaligned or past the end of the file");
        }
        block = new byte[clusterSize];
        storage.readFully(ByteBuffer.wrap(block), offset);
        blocks.put(offset, block);
        return block;
    }
}
